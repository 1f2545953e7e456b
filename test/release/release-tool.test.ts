// `npm run release -- …` end to end in a temporary git repository.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { generatedFiles } from "../../scripts/generated-files.js";
import { groupCommits, parseCommit } from "../../scripts/release/commits.js";
import { bumpVersions } from "../../scripts/release/files.js";
import { compareVersions, parseVersion } from "../../scripts/release/semver.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const tsxCli = join(root, "node_modules", "tsx", "dist", "cli.mjs");
const releaseCli = join(root, "scripts", "release", "cli.ts");

let repo: string;

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { cwd: repo, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.replace(/\n+$/, "");
}

function release(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [tsxCli, releaseCli, ...args], { cwd: repo, encoding: "utf8" });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function commit(subject: string, body = "", file = "src.txt"): void {
  writeFileSync(join(repo, file), `${subject}\n${Math.random()}\n`);
  sh("git", ["add", "-A"]);
  sh("git", ["commit", "-q", "-m", body ? `${subject}\n\n${body}` : subject]);
}

const read = (p: string) => readFileSync(join(repo, p), "utf8");

/** Lines removed/added by the working-tree diff of one file. */
function diffLines(path: string): { removed: string[]; added: string[] } {
  const out = sh("git", ["diff", "-U0", "--", path]).split("\n");
  return {
    removed: out.filter((l) => l.startsWith("-") && !l.startsWith("---")).map((l) => l.slice(1)),
    added: out.filter((l) => l.startsWith("+") && !l.startsWith("+++")).map((l) => l.slice(1)),
  };
}

const CHANGELOG = `# Changelog

All notable changes to this project are documented in this file.

## [Unreleased]

### Added

- Hand-written note about the release tooling.

## [0.1.0] - 2026-01-01

### Added

- First release.
`;

before(() => {
  repo = mkdtempSync(join(tmpdir(), "wva-release-"));
  for (const p of [
    "package.json",
    "package-lock.json",
    "charts/workload-variant-autoscaler/Chart.yaml",
    "charts/workload-variant-autoscaler/values.yaml",
    "config/manager/kustomization.yaml",
  ]) {
    mkdirSync(dirname(join(repo, p)), { recursive: true });
    cpSync(join(root, p), join(repo, p));
  }
  for (const [p, text] of Object.entries(generatedFiles())) {
    mkdirSync(dirname(join(repo, p)), { recursive: true });
    writeFileSync(join(repo, p), text);
  }
  writeFileSync(join(repo, "CHANGELOG.md"), CHANGELOG);
  sh("git", ["init", "-q", "-b", "main"]);
  sh("git", ["config", "user.email", "dev@example.com"]);
  sh("git", ["config", "user.name", "Dana Dev"]);
  sh("git", ["config", "tag.gpgSign", "false"]);
  sh("git", ["config", "commit.gpgSign", "false"]);
  // The fixture starts at 0.1.0, released, whatever version the repository itself is at.
  bumpVersions(repo, parseVersion("v0.1.0")!);
  assert.equal((JSON.parse(read("package.json")) as { version: string }).version, "0.1.0");
  commit("chore: initial import");
  sh("git", ["tag", "-a", "v0.1.0", "-m", "Release v0.1.0"]);
});

after(() => rmSync(repo, { recursive: true, force: true }));

describe("release versions and Conventional Commits", () => {
  test("only vX.Y.Z and vX.Y.Z-rc.N are release versions; candidates precede the release", () => {
    for (const ok of ["v1.2.3", "v0.5.0-rc.1", "v10.0.12-rc.3"]) assert.ok(parseVersion(ok), ok);
    for (const bad of [
      "v1.2",
      "v1.2.3-rc1",
      "v1.2.3-rc-1",
      "v0.4.1-test",
      "v01.2.3",
      "v1.2.3-rc.0",
      "latest",
    ]) {
      assert.equal(parseVersion(bad), undefined, bad);
    }
    const v = (s: string) => parseVersion(s)!;
    assert.ok(compareVersions(v("v0.5.0-rc.1"), v("v0.5.0")) < 0);
    assert.ok(compareVersions(v("v0.5.0-rc.2"), v("v0.5.0-rc.1")) > 0);
    assert.ok(compareVersions(v("v0.10.0"), v("v0.9.9")) > 0);
    assert.equal(compareVersions(v("v1.0.0"), v("1.0.0")), 0);
  });

  test("types, scopes, ! and BREAKING CHANGE:, PR numbers", () => {
    const c = (subject: string, body = "") => parseCommit({ hash: "abc1234def", subject, body, author: "a" });
    assert.deepEqual(c("feat(engine): cost-aware scale up (#12)"), {
      type: "feat",
      scope: "engine",
      breaking: false,
      breakingNote: undefined,
      description: "cost-aware scale up",
      pr: 12,
      hash: "abc1234def",
      author: "a",
    });
    assert.equal(c("feat!: drop v0 API")?.breakingNote, "drop v0 API");
    assert.equal(
      c("fix: x", "Details.\n\nBREAKING CHANGE: the flag\n--foo is gone")?.breakingNote,
      "the flag --foo is gone",
    );
    assert.equal(c("Merge branch 'x'"), undefined);
    const g = groupCommits([
      { hash: "1", subject: "feat: a", body: "", author: "x" },
      { hash: "2", subject: "fix: b", body: "", author: "x" },
      { hash: "3", subject: "docs: c", body: "", author: "x" },
      { hash: "4", subject: "chore: d", body: "", author: "x" },
      { hash: "5", subject: "refactor!: e", body: "", author: "x" },
      { hash: "6", subject: "not conventional", body: "", author: "x" },
    ]);
    assert.deepEqual(
      [g.features.length, g.fixes.length, g.docs.length, g.breaking.length, g.other],
      [1, 1, 1, 1, 2],
    );
  });
});

describe("npm run release (temporary git repository)", () => {
  test("prepare v0.2.0 from Conventional Commits changes exactly the version files, CHANGELOG and RELEASE_NOTES", () => {
    commit("feat(engine): cost-aware scale up (#12)");
    commit("fix: keep the previous allocation when the accelerator is unknown");
    commit("docs: installation guide");
    commit("chore: bump dev dependencies");
    commit("test: more acceptance rows");
    commit(
      "feat(api)!: require scaleTargetRef",
      "BREAKING CHANGE: VariantAutoscalings without scaleTargetRef are rejected.",
    );
    commit("Update README");

    const r = release("prepare", "v0.2.0", "--date", "2026-11-27");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /prepared v0\.2\.0/);
    assert.match(r.stdout, /git tag -a v0\.2\.0/);

    const changed = sh("git", ["status", "--porcelain"]).split("\n").sort();
    assert.deepEqual(changed, [
      " M CHANGELOG.md",
      " M charts/workload-variant-autoscaler/Chart.yaml",
      " M charts/workload-variant-autoscaler/values.yaml",
      " M config/manager/kustomization.yaml",
      " M package-lock.json",
      " M package.json",
      "?? RELEASE_NOTES.md",
    ]);

    assert.deepEqual(diffLines("package.json"), {
      removed: ['  "version": "0.1.0",'],
      added: ['  "version": "0.2.0",'],
    });
    const lock = diffLines("package-lock.json");
    assert.deepEqual(
      lock.added.map((l) => l.trim()),
      ['"version": "0.2.0",', '"version": "0.2.0",'],
    );
    assert.equal(lock.removed.length, 2);
    assert.deepEqual(diffLines("charts/workload-variant-autoscaler/Chart.yaml"), {
      removed: ["version: 0.1.0", 'appVersion: "v0.1.0"'],
      added: ["version: 0.2.0", 'appVersion: "v0.2.0"'],
    });
    assert.deepEqual(diffLines("charts/workload-variant-autoscaler/values.yaml"), {
      removed: ['  tag: "v0.1.0"'],
      added: ['  tag: "v0.2.0"'],
    });
    assert.deepEqual(diffLines("config/manager/kustomization.yaml"), {
      removed: ["    newTag: v0.1.0"],
      added: ["    newTag: v0.2.0"],
    });
    const values = parse(read("charts/workload-variant-autoscaler/values.yaml"));
    assert.equal(values.image.tag, "v0.2.0");

    const changelog = read("CHANGELOG.md");
    const section = changelog.slice(changelog.indexOf("## [0.2.0]"), changelog.indexOf("## [0.1.0]"));
    assert.match(changelog, /## \[Unreleased\]\n\n## \[0\.2\.0\] - 2026-11-27\n/);
    assert.match(
      section,
      /### Breaking Changes\n\n- \*\*api\*\*: VariantAutoscalings without scaleTargetRef are rejected\. \([0-9a-f]{7}\)/,
    );
    assert.match(
      section,
      /### Features\n\n- \*\*engine\*\*: cost-aware scale up \(\[#12\]\(https:\/\/github\.com\/llm-d-incubation\/workload-variant-autoscaler\/pull\/12\)\)\n- \*\*api\*\*: require scaleTargetRef/,
    );
    assert.match(section, /### Bug Fixes\n\n- keep the previous allocation when the accelerator is unknown/);
    assert.match(section, /### Documentation\n\n- installation guide/);
    assert.match(
      section,
      /- Hand-written note about the release tooling\./,
      "Unreleased notes move into the release",
    );
    assert.doesNotMatch(section, /dev dependencies|acceptance rows|Update README|initial import/);
    assert.match(
      changelog,
      /^\[0\.2\.0\]: https:\/\/github\.com\/llm-d-incubation\/workload-variant-autoscaler\/compare\/v0\.1\.0\.\.\.v0\.2\.0$/m,
    );
    assert.match(
      changelog,
      /## \[0\.1\.0\] - 2026-01-01\n\n### Added\n\n- First release\./,
      "older sections untouched",
    );

    const notes = read("RELEASE_NOTES.md");
    const headings = notes.split("\n").filter((l) => /^#{2,3} /.test(l));
    assert.deepEqual(headings, [
      "## What's Changed",
      "### Features",
      "### Bug Fixes",
      "### Documentation",
      "### Breaking Changes",
      "### Upgrade Notes",
      "### Deprecations",
      "## Installation",
      "### Docker Image",
      "### Helm Chart",
      "## Full Changelog",
    ]);
    assert.match(notes, /docker pull ghcr\.io\/llm-d-incubation\/workload-variant-autoscaler:v0\.2\.0/);
    assert.match(
      notes,
      /oci:\/\/ghcr\.io\/llm-d-incubation\/charts\/workload-variant-autoscaler \\\n {2}--version 0\.2\.0/,
    );
    assert.match(
      notes,
      /\*\*Full Changelog\*\*: https:\/\/github\.com\/llm-d-incubation\/workload-variant-autoscaler\/compare\/v0\.1\.0\.\.\.v0\.2\.0/,
    );
    assert.match(
      notes,
      /\*\*require scaleTargetRef\*\*: VariantAutoscalings without scaleTargetRef are rejected\./,
    );
    assert.match(notes, /Migration Guide/);
    assert.match(notes, /Dana Dev/);
    assert.doesNotMatch(notes, /Release candidate/);

    const v = release("verify");
    assert.equal(v.status, 0, v.stderr);
    assert.equal(release("verify", "--tag", "v0.2.0").status, 0);
    const wrongTag = release("verify", "--tag", "v0.2.1");
    assert.equal(wrongTag.status, 1);
    assert.match(wrongTag.stderr, /tag v0\.2\.1 does not match package\.json version 0\.2\.0/);

    sh("git", ["add", "-A"]);
    sh("git", ["commit", "-q", "-m", "chore(release): v0.2.0"]);
    sh("git", ["tag", "-a", "v0.2.0", "-m", "Release v0.2.0"]);
  });

  test("refusals: not semver, not greater than the current version, dirty tree", () => {
    for (const bad of ["0.3.0", "v0.3", "v0.3.0-rc1", "v0.3.0-test", "latest"]) {
      const r = release("prepare", bad);
      assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
      assert.match(
        r.stderr,
        /is not a release version: use vMAJOR\.MINOR\.PATCH or vMAJOR\.MINOR\.PATCH-rc\.N/,
      );
    }
    for (const old of ["v0.2.0", "v0.1.9", "v0.2.0-rc.1"]) {
      const r = release("prepare", old);
      assert.equal(r.status, 2, old);
      assert.match(r.stderr, /is not greater than the current version v0\.2\.0/);
    }
    const badDate = release("prepare", "v0.3.0", "--date", "27.11.2026");
    assert.equal(badDate.status, 2);
    assert.match(badDate.stderr, /--date "27\.11\.2026" must be YYYY-MM-DD/);
    writeFileSync(join(repo, "CHANGELOG.md"), read("CHANGELOG.md") + "\nlocal edit\n");
    const dirty = release("prepare", "v0.3.0");
    assert.equal(dirty.status, 2);
    assert.match(dirty.stderr, /uncommitted changes/);
    sh("git", ["checkout", "--", "CHANGELOG.md"]);
    assert.equal(sh("git", ["status", "--porcelain"]), "", "refusals change nothing");
    const info = release("tag-info", "v0.3.0-test");
    assert.equal(info.status, 2);
  });

  test("a release candidate is marked prerelease; the final release lists everything since the last final tag", () => {
    commit("feat: scale-from-zero (#20)");
    writeFileSync(
      join(repo, "CHANGELOG.md"),
      read("CHANGELOG.md").replace("## [Unreleased]\n", "## [Unreleased]\n\n### Added\n\n- Note for 0.3.\n"),
    );
    sh("git", ["commit", "-q", "-am", "chore: changelog note"]);
    const rc = release("prepare", "v0.3.0-rc.1", "--date", "2026-12-01");
    assert.equal(rc.status, 0, rc.stderr);
    assert.match(rc.stdout, /release candidate, prerelease/);
    const notes = read("RELEASE_NOTES.md");
    assert.match(notes, /^> \*\*Release candidate\.\*\* v0\.3\.0-rc\.1 is a prerelease/);
    assert.match(notes, /does not move the `latest` image tag or the latest release/);
    assert.match(notes, /--version 0\.3\.0-rc\.1/);
    assert.equal(parse(read("charts/workload-variant-autoscaler/Chart.yaml")).appVersion, "v0.3.0-rc.1");
    assert.match(
      read("CHANGELOG.md"),
      /## \[0\.3\.0-rc\.1\] - 2026-12-01\n\nRelease candidate \(prerelease\) of 0\.3\.0\./,
    );
    const info = release("tag-info", "v0.3.0-rc.1");
    assert.equal(info.stdout, "tag=v0.3.0-rc.1\nversion=0.3.0-rc.1\nprerelease=true\n");
    assert.equal(release("tag-info", "v0.3.0").stdout, "tag=v0.3.0\nversion=0.3.0\nprerelease=false\n");
    sh("git", ["add", "-A"]);
    sh("git", ["commit", "-q", "-m", "chore(release): v0.3.0-rc.1"]);
    sh("git", ["tag", "-a", "v0.3.0-rc.1", "-m", "Release v0.3.0-rc.1"]);

    commit("fix: candidate feedback (#21)");
    const final = release("prepare", "v0.3.0", "--date", "2026-12-05");
    assert.equal(final.status, 0, final.stderr);
    const changelog = read("CHANGELOG.md");
    const section = changelog.slice(changelog.indexOf("## [0.3.0] "), changelog.indexOf("## [0.3.0-rc.1]"));
    assert.match(section, /scale-from-zero/, "final release includes what the candidate had");
    assert.match(section, /candidate feedback/);
    assert.match(section, /- Note for 0\.3\./);
    assert.match(changelog, /## \[Unreleased\]\n\n## \[0\.3\.0\] /, "the final release empties [Unreleased]");
    assert.match(read("RELEASE_NOTES.md"), /compare\/v0\.2\.0\.\.\.v0\.3\.0/);
    assert.equal(release("verify", "--tag", "v0.3.0").status, 0);
  });

  test("verify fails on disagreeing versions, stale generated files and a missing CHANGELOG section", () => {
    const valuesPath = "charts/workload-variant-autoscaler/values.yaml";
    const original = read(valuesPath);
    writeFileSync(join(repo, valuesPath), original.replace('tag: "v0.3.0"', 'tag: "v0.2.9"'));
    let r = release("verify");
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /charts\/workload-variant-autoscaler\/values\.yaml image\.tag is "v0\.2\.9", expected "v0\.3\.0"/,
    );
    writeFileSync(join(repo, valuesPath), original);

    const role = "config/rbac/role.yaml";
    const roleText = read(role);
    writeFileSync(join(repo, role), roleText.replace("- watch", "- watch\n      - deletecollection"));
    r = release("verify");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /config\/rbac\/role\.yaml is stale; run make manifests/);
    writeFileSync(join(repo, role), roleText);

    const changelog = read("CHANGELOG.md");
    writeFileSync(join(repo, "CHANGELOG.md"), changelog.replace("## [0.3.0] ", "## [0.3.0-draft] "));
    r = release("verify");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /CHANGELOG\.md has no section for 0\.3\.0/);
    assert.equal(release("verify", "--skip-changelog").status, 0);
    writeFileSync(join(repo, "CHANGELOG.md"), changelog);
    assert.equal(release("verify").status, 0);
  });

  test("set-chart-version sets the chart from a tag (what helm-release does) and refuses a bad tag", () => {
    const r = release("set-chart-version", "v0.4.0-rc.2");
    assert.equal(r.status, 0, r.stderr);
    const chart = parse(read("charts/workload-variant-autoscaler/Chart.yaml"));
    assert.equal(chart.version, "0.4.0-rc.2");
    assert.equal(chart.appVersion, "v0.4.0-rc.2");
    assert.equal(parse(read("charts/workload-variant-autoscaler/values.yaml")).image.tag, "v0.4.0-rc.2");
    assert.equal(release("set-chart-version", "0.4.0").status, 2);
  });
});
