// GitHub workflows, validated offline. Schema: GitHub's own workflow parser @actions/workflow-parser
// (MIT, github.com/actions/languageservices), which carries the official workflow schema
// (workflow-v1.0.json) and also checks expressions and their contexts.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { parse } from "yaml";
import { parseVersion } from "../../scripts/release/semver.js";
import { IMAGE, CHART_OCI } from "../../scripts/release/project.js";
import { root, type Any } from "./helpers.js";

const dir = join(root, ".github", "workflows");
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
const load = (name: string): Any => parse(readFileSync(join(dir, name), "utf8"));

/** GitHub's filter-pattern semantics for tags: `*` matches any characters except `/`. */
function globMatches(pattern: string, ref: string): boolean {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "*" && pattern[i + 1] === "*") {
      re += ".*";
      i++;
    } else if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += ".";
    else re += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(re + "$").test(ref);
}

/** Topological check: every `needs` names an existing job and there is no cycle. */
function needsOf(wf: Any): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [id, job] of Object.entries<Any>(wf.jobs)) {
    m.set(id, job.needs === undefined ? [] : [job.needs].flat());
  }
  return m;
}

function ancestors(needs: Map<string, string[]>, job: string, seen = new Set<string>()): Set<string> {
  for (const n of needs.get(job) ?? []) {
    if (seen.has(n)) continue;
    seen.add(n);
    ancestors(needs, n, seen);
  }
  return seen;
}

function steps(wf: Any, job: string): Any[] {
  return wf.jobs[job].steps as Any[];
}

function runText(wf: Any): string {
  return Object.values<Any>(wf.jobs)
    .flatMap((j) => j.steps ?? [])
    .map((s: Any) => s.run ?? "")
    .join("\n");
}

describe("GitHub workflows", () => {
  test("the three release-guide workflows exist", () => {
    for (const f of ["ci-pr-checks.yaml", "ci-release.yaml", "helm-release.yaml"])
      assert.ok(files.includes(f), f);
  });

  test("the schema check rejects broken workflows (unknown keys, bad expressions, missing runs-on)", async () => {
    const broken = [
      "on: push\njobs:\n  a:\n    runs_on: ubuntu-latest\n    steps:\n      - run: echo\n",
      "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.sha ) }}\n",
      "on:\n  push:\n    tag: ['v*']\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n",
    ];
    for (const content of broken) {
      const result = parseWorkflow({ name: "broken.yaml", content }, new NoOperationTraceWriter());
      assert.ok(result.context.errors.getErrors().length > 0, content);
    }
  });

  for (const file of files) {
    test(`${file} is valid against GitHub's workflow schema`, async () => {
      const content = readFileSync(join(dir, file), "utf8");
      const result = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
      const errors = result.context.errors.getErrors().map((e) => e.message);
      assert.deepEqual(errors, []);
      assert.ok(result.value, "parser returned no workflow");
      const template = await convertWorkflowTemplate(result.context, result.value);
      assert.deepEqual(template.errors ?? [], []);
      assert.ok(template.jobs.length > 0);
    });

    test(`${file}: jobs' needs exist, no cycles, actions pinned, least permissions declared`, () => {
      const wf = load(file);
      const needs = needsOf(wf);
      for (const [job, list] of needs) {
        for (const n of list) assert.ok(needs.has(n), `${job} needs unknown job ${n}`);
        assert.ok(!ancestors(needs, job).has(job), `${job} depends on itself`);
      }
      assert.ok(wf.permissions, "top-level permissions must be explicit");
      for (const job of Object.values<Any>(wf.jobs)) {
        assert.ok(job["timeout-minutes"], "every job has a timeout");
        for (const s of job.steps ?? []) {
          if (s.uses)
            assert.match(s.uses, /@(v\d+(\.\d+)*|\d+\.\d+\.\d+|[0-9a-f]{40})$/, `unpinned action ${s.uses}`);
        }
      }
    });

    test(`${file}: every npm script and make target it runs exists`, () => {
      const scripts = Object.keys(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts);
      const makefile = readFileSync(join(root, "Makefile"), "utf8");
      const text = runText(load(file));
      for (const m of text.matchAll(/npm run (?:--silent )?([\w:-]+)/g))
        assert.ok(scripts.includes(m[1]), `npm run ${m[1]}`);
      for (const m of text.matchAll(/\bmake ([\w-]+)/g)) {
        assert.match(makefile, new RegExp(`^${m[1]}:`, "m"), `make ${m[1]}`);
      }
    });
  }

  test("ci-pr-checks: pull requests run lint, tests, the manifests check and the chart lint", () => {
    const wf = load("ci-pr-checks.yaml");
    assert.ok(wf.on.pull_request, "runs on pull requests");
    const text = runText(wf);
    for (const cmd of [
      "npm run lint",
      "npm test",
      "make manifests",
      "make helm-lint",
      "./bin/manager --version",
    ]) {
      assert.ok(text.includes(cmd), cmd);
    }
    assert.match(
      text,
      /test -z "\$\(git status --porcelain\)"/,
      "fails when generated files are not committed",
    );
    const setup = steps(wf, "lint-and-test").find((s) => String(s.uses).startsWith("actions/setup-node"));
    assert.equal(setup.with["node-version"], 20);
    assert.equal(wf.jobs["lint-and-test"].env.CI, "true", "missing tools fail instead of skipping");
  });

  test("release workflows trigger on v* tags only; the pattern matches final and candidate tags", () => {
    for (const file of ["ci-release.yaml", "helm-release.yaml"]) {
      const wf = load(file);
      assert.deepEqual(wf.on.push.tags, ["v*"], file);
      assert.equal(wf.on.push.branches, undefined, `${file} must not run on branch pushes`);
      assert.equal(wf.on.release, undefined, `${file}: a release event would build a second time`);
      for (const tag of ["v0.5.0", "v1.2.3-rc.1"]) assert.ok(globMatches(wf.on.push.tags[0], tag), tag);
      for (const tag of ["0.5.0", "release-0.5"]) assert.ok(!globMatches(wf.on.push.tags[0], tag), tag);
      // Tags the pattern lets through but that are not releases are stopped by the meta job.
      assert.ok(globMatches("v*", "v0.4.1-test") && parseVersion("v0.4.1-test") === undefined);
      const meta = steps(wf, "meta").map((s) => s.run ?? "");
      assert.ok(
        meta.some((r) => r.includes('npm run release -- verify --tag "$TAG"')),
        `${file} verifies the tag`,
      );
      assert.ok(meta.some((r) => r.includes('release -- tag-info "$TAG" >> "$GITHUB_OUTPUT"')));
    }
  });

  test("ci-release: multi-arch build pushes vX.Y.Z; Trivy fails on CRITICAL; latest moves only for final releases", () => {
    const wf = load("ci-release.yaml");
    assert.deepEqual(wf.permissions, { contents: "read", packages: "write" });
    assert.equal(wf.env.IMAGE, IMAGE);
    const needs = needsOf(wf);
    assert.deepEqual(needs.get("image"), ["meta"]);
    assert.ok(needs.get("scan")!.includes("image"));
    assert.ok(ancestors(needs, "latest").has("scan"), "latest only after the scan passed");
    assert.ok(needs.get("latest")!.includes("meta"));
    assert.equal(wf.jobs.latest.if, "needs.meta.outputs.prerelease == 'false'");
    const build = steps(wf, "image").find((s) => String(s.uses).startsWith("docker/build-push-action"));
    assert.equal(build.with.platforms, "linux/amd64,linux/arm64");
    assert.equal(build.with.push, true);
    assert.equal(build.with.tags, "${{ env.IMAGE }}:${{ needs.meta.outputs.tag }}");
    assert.doesNotMatch(JSON.stringify(wf.jobs.image.steps), /:latest\b/, "the build job never tags latest");
    assert.match(build.with["build-args"], /VERSION=\$\{\{ needs\.meta\.outputs\.tag \}\}/);
    assert.match(build.with["build-args"], /COMMIT=\$\{\{ github\.sha \}\}/);
    assert.ok(steps(wf, "image").some((s) => String(s.uses).startsWith("docker/setup-buildx-action")));
    assert.ok(steps(wf, "image").some((s) => String(s.uses).startsWith("docker/setup-qemu-action")));
    const trivy = steps(wf, "scan").find((s) => String(s.uses).startsWith("aquasecurity/trivy-action"));
    assert.equal(trivy.with.severity, "CRITICAL");
    assert.equal(trivy.with["exit-code"], "1");
    assert.equal(trivy.with["image-ref"], "${{ env.IMAGE }}:${{ needs.meta.outputs.tag }}");
    const latest = steps(wf, "latest")
      .map((s) => s.run ?? "")
      .join("\n");
    assert.match(latest, /imagetools create --tag "\$IMAGE:latest" "\$IMAGE:\$TAG"/);
  });

  test("helm-release: version from the tag, helm package and push to OCI, attached to the GitHub release", () => {
    const wf = load("helm-release.yaml");
    assert.deepEqual(wf.permissions, { contents: "write", packages: "write" });
    assert.deepEqual(needsOf(wf).get("chart"), ["meta"]);
    assert.equal(`${wf.env.CHART_REGISTRY}/workload-variant-autoscaler`, CHART_OCI);
    const run = steps(wf, "chart")
      .map((s) => s.run ?? "")
      .join("\n");
    const order = [
      'npm run release -- set-chart-version "$TAG"',
      "helm package charts/workload-variant-autoscaler --destination .",
      'test -f "workload-variant-autoscaler-$VERSION.tgz"',
      'helm push "workload-variant-autoscaler-$VERSION.tgz" "$CHART_REGISTRY"',
      'gh release upload "$TAG" "workload-variant-autoscaler-$VERSION.tgz" --clobber',
    ];
    let at = -1;
    for (const cmd of order) {
      const i = run.indexOf(cmd);
      assert.ok(i > at, `missing or out of order: ${cmd}`);
      at = i;
    }
    assert.match(
      run,
      /if \[ "\$PRERELEASE" = "true" \]; then flags\+=\(--prerelease --latest=false\); else flags\+=\(--latest\); fi/,
    );
    assert.match(run, /--notes-file RELEASE_NOTES\.md/);
    assert.doesNotMatch(run, /git push/, "no commit back to a branch");
    assert.equal(wf.on.workflow_dispatch.inputs.tag.required, true);
  });

  test("workflow run steps pass untrusted values through env, not inline expressions", () => {
    for (const file of files) {
      for (const job of Object.values<Any>(load(file).jobs)) {
        for (const s of job.steps ?? []) {
          if (s.run)
            assert.doesNotMatch(
              s.run,
              /\$\{\{\s*(github\.(ref_name|head_ref|event)|inputs\.)/,
              `${file}: ${s.run}`,
            );
        }
      }
    }
  });
});
