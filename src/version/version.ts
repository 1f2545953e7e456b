import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Build identity of this WVA binary, stamped by `make build` (scripts/build.mjs). */
export interface VersionInfo {
  name: string;
  version: string;
  commit: string;
  buildDate: string;
  node: string;
}

/** Walks up from this module to the folder holding package.json (works from src/ and dist/src/). */
function findPackageRoot(start: string): string {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`package.json not found above ${start}`);
}

/** Short commit of the git checkout at `root`, or `unknown` outside one (also used by scripts/build.mjs). */
export function gitCommit(root: string): string {
  try {
    return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], {
      cwd: root,
      stdio: ["ignore", "pipe", "ignore"],
    })
      .toString()
      .trim();
  } catch {
    return "unknown";
  }
}

/** A build time as RFC 3339 in UTC without fractional seconds, e.g. `2026-01-31T12:00:00Z`. */
export function buildTimestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

let cached: VersionInfo | undefined;

/**
 * Returns the version info. A built tree carries `dist/build-info.json` written at build time;
 * a source checkout run through tsx asks git for the commit and reports the current time.
 */
export function versionInfo(): VersionInfo {
  if (cached) return cached;
  const here = dirname(fileURLToPath(import.meta.url));
  const root = findPackageRoot(here);
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    name: string;
    version: string;
  };
  const stampFile = join(root, "dist", "build-info.json");
  let commit: string;
  let buildDate: string;
  if (existsSync(stampFile)) {
    const stamp = JSON.parse(readFileSync(stampFile, "utf8")) as { commit: string; buildDate: string };
    commit = stamp.commit;
    buildDate = stamp.buildDate;
  } else {
    commit = gitCommit(root);
    buildDate = buildTimestamp();
  }
  cached = { name: pkg.name, version: pkg.version, commit, buildDate, node: process.version };
  return cached;
}

/** `workload-variant-autoscaler vX.Y.Z (commit <sha>, built <RFC3339>, node <version>)` */
export function formatVersion(info: VersionInfo = versionInfo()): string {
  return `${info.name} v${info.version} (commit ${info.commit}, built ${info.buildDate}, node ${info.node})`;
}

export function versionJson(info: VersionInfo = versionInfo()): string {
  return JSON.stringify({
    name: info.name,
    version: `v${info.version}`,
    commit: info.commit,
    buildDate: info.buildDate,
    node: info.node,
  });
}
