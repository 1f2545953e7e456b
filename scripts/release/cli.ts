// `npm run release -- <command>`: release tooling (docs/developer-guide/releasing.md).
//   prepare vX.Y.Z[-rc.N]     bump versions, write the CHANGELOG section and RELEASE_NOTES.md
//   verify [--tag vX.Y.Z]     versions agree, generated files current, CHANGELOG has the version
//   tag-info vX.Y.Z           tag=, version=, prerelease= lines for $GITHUB_OUTPUT
//   set-chart-version vX.Y.Z  Chart.yaml version/appVersion and values.yaml image.tag from a tag
// Works on the git repository of the current directory. Exit 0 ok, 1 check failed, 2 bad input.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { UsageError } from "../../src/cli/usage-error.js";
import { newProgram, runProgram } from "../../src/cli/program.js";
import { groupCommits, type Commit } from "./commits.js";
import { bumpVersions, readVersions, setChartVersion, versionProblems } from "./files.js";
import { hasChangelogSection, releaseNotes, updateChangelog } from "./notes.js";
import { FILES } from "./project.js";
import { compareVersions, parseVersion, type ReleaseVersion } from "./semver.js";
import { generatedFiles } from "../generated-files.js";

function git(root: string, args: string[]): string {
  return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

function requireVersion(text: string | undefined, what: string): ReleaseVersion {
  const v = text === undefined ? undefined : parseVersion(text);
  if (!v || !text?.startsWith("v")) {
    throw new UsageError(
      `${what} "${text ?? ""}" is not a release version: use vMAJOR.MINOR.PATCH or vMAJOR.MINOR.PATCH-rc.N`,
    );
  }
  return v;
}

/** Release tags reachable from HEAD, newest first by version. */
function releaseTags(root: string): ReleaseVersion[] {
  const out = git(root, ["tag", "--merged", "HEAD", "--list", "v*"]);
  return out
    .split("\n")
    .map((t) => parseVersion(t))
    .filter((v): v is ReleaseVersion => v !== undefined && v.tag !== undefined)
    .sort((a, b) => compareVersions(b, a));
}

function commitsSince(root: string, since: string | undefined): Commit[] {
  const range = since ? [`${since}..HEAD`] : ["HEAD"];
  const raw = git(root, ["log", "--no-merges", "--format=%H%x1f%an%x1f%s%x1f%b%x1e", ...range]);
  return raw
    .split("\x1e")
    .map((r) => r.replace(/^\n/, ""))
    .filter((r) => r.trim())
    .map((r) => {
      const [hash, author, subject, body] = r.split("\x1f");
      return { hash, author, subject, body: body ?? "" };
    })
    .reverse();
}

export function prepare(root: string, versionArg: string, date: string): string[] {
  const v = requireVersion(versionArg, "version");
  const current = parseVersion(readVersions(root).packageJson ?? "");
  if (!current) throw new UsageError(`package.json version is not a release version`);
  const latest = releaseTags(root)[0];
  // The current version is the newest release tag; package.json's version may be released once, untagged.
  if (latest && compareVersions(v, latest) <= 0) {
    throw new UsageError(`version ${v.tag} is not greater than the current version ${latest.tag}`);
  }
  if (compareVersions(v, current) < 0) {
    throw new UsageError(`version ${v.tag} is lower than the package.json version ${current.version}`);
  }
  if (git(root, ["tag", "--list", v.tag])) throw new UsageError(`tag ${v.tag} already exists`);
  const dirty = git(root, ["status", "--porcelain", "--untracked-files=no"]);
  if (dirty) throw new UsageError(`the working tree has uncommitted changes; commit or stash them first`);
  const tags = releaseTags(root).filter((t) => compareVersions(t, v) < 0);
  // A final release lists everything since the previous final release; a candidate, since the previous tag.
  const previous = v.prerelease ? tags[0] : tags.find((t) => !t.prerelease);
  const commits = commitsSince(root, previous?.tag);
  const sections = groupCommits(commits);

  const changelogPath = join(root, FILES.changelog);
  if (!existsSync(changelogPath)) throw new UsageError(`${FILES.changelog} is missing`);
  const changelog = updateChangelog(readFileSync(changelogPath, "utf8"), v, sections, date, previous?.tag);
  const changed = bumpVersions(root, v);
  writeFileSync(changelogPath, changelog);
  const authors = [...new Set(commits.map((c) => c.author))].sort();
  writeFileSync(join(root, FILES.releaseNotes), releaseNotes(v, sections, previous?.tag, authors));
  return [...changed, FILES.changelog, FILES.releaseNotes];
}

export function verify(root: string, opts: { tag?: string; skipChangelog?: boolean }): string[] {
  const problems: string[] = [];
  const sites = readVersions(root);
  const pkg = parseVersion(sites.packageJson ?? "");
  if (!pkg) return [`package.json version "${sites.packageJson ?? ""}" is not a release version`];
  if (opts.tag !== undefined) {
    const tag = requireVersion(opts.tag, "tag");
    if (tag.version !== pkg.version)
      problems.push(`tag ${tag.tag} does not match package.json version ${pkg.version}`);
  }
  problems.push(...versionProblems(sites, pkg));
  for (const [path, text] of Object.entries(generatedFiles())) {
    const file = join(root, path);
    if (!existsSync(file)) problems.push(`${path} is missing; run make manifests`);
    else if (readFileSync(file, "utf8") !== text) problems.push(`${path} is stale; run make manifests`);
  }
  if (!opts.skipChangelog) {
    const file = join(root, FILES.changelog);
    const text = existsSync(file) ? readFileSync(file, "utf8") : "";
    if (!hasChangelogSection(text, pkg.version))
      problems.push(`${FILES.changelog} has no section for ${pkg.version}`);
  }
  return problems;
}

export function tagInfo(tagArg: string): string {
  const v = requireVersion(tagArg, "tag");
  return `tag=${v.tag}\nversion=${v.version}\nprerelease=${v.prerelease}\n`;
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

export function buildProgram(root: string): Command {
  const program = newProgram("release", "Release tooling: prepare, verify, tag-info, set-chart-version");
  program
    .command("prepare")
    .description("bump versions, write the CHANGELOG section and RELEASE_NOTES.md")
    .argument("<version>", "vX.Y.Z or vX.Y.Z-rc.N")
    .option("--date <YYYY-MM-DD>", "release date in the CHANGELOG (default: today, UTC)")
    .action((version: string, opts: { date?: string }) => {
      if (opts.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(opts.date)) {
        throw new UsageError(`--date "${opts.date}" must be YYYY-MM-DD`);
      }
      const changed = prepare(root, version, opts.date ?? today());
      const v = parseVersion(version)!;
      process.stdout.write(
        `prepared ${v.tag}${v.prerelease ? " (release candidate, prerelease)" : ""}; changed:\n` +
          changed.map((f) => `  ${f}\n`).join("") +
          `next: review, then\n  git commit -am "chore(release): ${v.tag}"\n` +
          `  git tag -a ${v.tag} -m "Release ${v.tag}" && git push origin ${v.tag}\n`,
      );
    });
  program
    .command("verify")
    .description("fail when versions disagree, generated files are stale or the CHANGELOG lacks the version")
    .option("--tag <tag>", "also require this tag to equal the package.json version")
    .option("--skip-changelog", "do not require a CHANGELOG section (pull-request checks)")
    .action((opts: { tag?: string; skipChangelog?: boolean }) => {
      const problems = verify(root, opts);
      if (problems.length > 0) {
        process.stderr.write(problems.map((p) => `release verify: ${p}\n`).join(""));
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`release verify: v${readVersions(root).packageJson} ok\n`);
    });
  program
    .command("tag-info")
    .description("print tag=, version= and prerelease= for a release tag")
    .argument("<tag>")
    .action((tag: string) => {
      process.stdout.write(tagInfo(tag));
    });
  program
    .command("set-chart-version")
    .description("set Chart.yaml version/appVersion and values.yaml image.tag from a release tag")
    .argument("<tag>")
    .action((tag: string) => {
      const v = requireVersion(tag, "tag");
      const changed = setChartVersion(root, v);
      process.stdout.write(`chart version ${v.version}, appVersion ${v.tag} (${changed.join(", ")})\n`);
    });
  return program;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  await runProgram(buildProgram(process.cwd()));
}
