// Reading and bumping the version wherever it is written. Edits are line-based so comments and layout of
// the YAML files stay as they are; every edit is checked by parsing the result.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { FILES } from "./project.js";
import type { ReleaseVersion } from "./semver.js";

export interface VersionSites {
  packageJson?: string;
  packageLock?: string;
  packageLockRoot?: string;
  chartVersion?: string;
  chartAppVersion?: string;
  valuesImageTag?: string;
  kustomizeNewTag?: string;
}

function read(root: string, path: string): string | undefined {
  const file = join(root, path);
  return existsSync(file) ? readFileSync(file, "utf8") : undefined;
}

function asString(v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}

export function readVersions(root: string): VersionSites {
  const s: VersionSites = {};
  const pkg = read(root, FILES.packageJson);
  if (pkg) s.packageJson = (JSON.parse(pkg) as { version?: string }).version;
  const lock = read(root, FILES.packageLock);
  if (lock) {
    const l = JSON.parse(lock) as { version?: string; packages?: Record<string, { version?: string }> };
    s.packageLock = l.version;
    s.packageLockRoot = l.packages?.[""]?.version;
  }
  const chart = read(root, FILES.chart);
  if (chart) {
    const c = parse(chart) as { version?: unknown; appVersion?: unknown };
    s.chartVersion = asString(c.version);
    s.chartAppVersion = asString(c.appVersion);
  }
  const values = read(root, FILES.values);
  if (values) s.valuesImageTag = asString((parse(values) as { image?: { tag?: unknown } }).image?.tag);
  const kust = read(root, FILES.kustomization);
  if (kust) {
    const k = parse(kust) as { images?: { newTag?: unknown }[] };
    s.kustomizeNewTag = asString(k.images?.[0]?.newTag);
  }
  return s;
}

/** Differences between the files and the expected version; empty when they agree. */
export function versionProblems(sites: VersionSites, expected: ReleaseVersion): string[] {
  const want: [keyof VersionSites, string, string][] = [
    ["packageJson", expected.version, `${FILES.packageJson} version`],
    ["packageLock", expected.version, `${FILES.packageLock} version`],
    ["packageLockRoot", expected.version, `${FILES.packageLock} packages[""].version`],
    ["chartVersion", expected.version, `${FILES.chart} version`],
    ["chartAppVersion", expected.tag, `${FILES.chart} appVersion`],
    ["valuesImageTag", expected.tag, `${FILES.values} image.tag`],
    ["kustomizeNewTag", expected.tag, `${FILES.kustomization} images[0].newTag`],
  ];
  const problems: string[] = [];
  for (const [key, value, label] of want) {
    if (sites[key] === undefined) problems.push(`${label} is missing`);
    else if (sites[key] !== value) problems.push(`${label} is "${sites[key]}", expected "${value}"`);
  }
  return problems;
}

function replaceLine(text: string, pattern: RegExp, replacement: string, what: string): string {
  if (!pattern.test(text)) throw new Error(`cannot find ${what}`);
  return text.replace(pattern, replacement);
}

/** Sets `version`/`appVersion` in Chart.yaml and `image.tag` in values.yaml. */
export function setChartVersion(root: string, v: ReleaseVersion): string[] {
  const chartPath = join(root, FILES.chart);
  let chart = readFileSync(chartPath, "utf8");
  chart = replaceLine(chart, /^version:.*$/m, `version: ${v.version}`, `version in ${FILES.chart}`);
  chart = replaceLine(chart, /^appVersion:.*$/m, `appVersion: "${v.tag}"`, `appVersion in ${FILES.chart}`);
  writeFileSync(chartPath, chart);

  const valuesPath = join(root, FILES.values);
  const values = readFileSync(valuesPath, "utf8");
  // The `tag:` line inside the top-level `image:` block.
  const block = /^image:\n((?:[ \t]+.*\n|[ \t]*#.*\n|\n)*?)([ \t]+)tag:.*$/m;
  const updated = replaceLine(values, block, `image:\n$1$2tag: "${v.tag}"`, `image.tag in ${FILES.values}`);
  writeFileSync(valuesPath, updated);

  const after = readVersions(root);
  if (after.chartVersion !== v.version || after.chartAppVersion !== v.tag || after.valuesImageTag !== v.tag) {
    throw new Error("chart version update did not take effect");
  }
  return [FILES.chart, FILES.values];
}

/** Bumps every version site; returns the files it changed. */
export function bumpVersions(root: string, v: ReleaseVersion): string[] {
  const changed: string[] = [];
  const pkgPath = join(root, FILES.packageJson);
  const pkg = readFileSync(pkgPath, "utf8");
  writeFileSync(pkgPath, pkg.replace(/("version"\s*:\s*)"[^"]*"/, `$1"${v.version}"`));
  changed.push(FILES.packageJson);

  const lockPath = join(root, FILES.packageLock);
  if (existsSync(lockPath)) {
    const lock = JSON.parse(readFileSync(lockPath, "utf8")) as {
      version?: string;
      packages?: Record<string, { version?: string }>;
    };
    lock.version = v.version;
    if (lock.packages?.[""]) lock.packages[""].version = v.version;
    writeFileSync(lockPath, JSON.stringify(lock, null, 2) + "\n");
    changed.push(FILES.packageLock);
  }

  changed.push(...setChartVersion(root, v));

  const kustPath = join(root, FILES.kustomization);
  const kust = readFileSync(kustPath, "utf8");
  writeFileSync(
    kustPath,
    replaceLine(kust, /^(\s+newTag:).*$/m, `$1 ${v.tag}`, `newTag in ${FILES.kustomization}`),
  );
  changed.push(FILES.kustomization);
  return changed;
}
