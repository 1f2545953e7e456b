import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";

const VERSION_LINE =
  /^workload-variant-autoscaler v(\d+\.\d+\.\d+(?:-[\w.]+)?) \(commit ([0-9a-f]{12}|unknown), built (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ), node (v\d+\.\d+\.\d+)\)$/;

const manager = (...args: string[]) => spawnSync("./bin/manager", args, { encoding: "utf8" });

describe("make build && ./bin/manager", () => {
  before(() => {
    execFileSync("make", ["build"], { stdio: "pipe" });
  });

  it("--version prints one line with the package version and the real commit", () => {
    const r = manager("--version");
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 1);
    const m = VERSION_LINE.exec(lines[0]);
    assert.ok(m, lines[0]);
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    assert.equal(m[1], pkg.version);
    assert.equal(m[2], execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { encoding: "utf8" }).trim());
    assert.equal(m[4], process.version);
    const stamp = JSON.parse(readFileSync("dist/build-info.json", "utf8")) as { buildDate: string };
    assert.equal(m[3], stamp.buildDate, "the build time is stamped at build, not at run time");
  });

  it("--version --json prints the same fields as JSON", () => {
    const line = manager("--version").stdout.trim();
    const r = manager("--version", "--json");
    assert.equal(r.status, 0, r.stderr);
    const v = JSON.parse(r.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(v).sort(), ["buildDate", "commit", "name", "node", "version"]);
    assert.equal(line, `${v.name} ${v.version} (commit ${v.commit}, built ${v.buildDate}, node ${v.node})`);
  });

  it("./bin/wva --version prints the same line", () => {
    const r = spawnSync("./bin/wva", ["--version"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, manager("--version").stdout);
  });

  it("--help lists the manager flags and exits 0", () => {
    const r = manager("--help");
    assert.equal(r.status, 0, r.stderr);
    for (const flag of [
      "--metrics-bind-address",
      "--leader-elect",
      "--rest-client-timeout",
      "--actuator hpa|direct",
    ]) {
      assert.ok(r.stdout.includes(flag), flag);
    }
  });

  for (const [args, message] of [
    [["--no-such-flag"], /^manager: unknown flag --no-such-flag/],
    [["--leader-elect=maybe"], /^manager: invalid value "maybe" for flag --leader-elect/],
    [["--rest-client-timeout", "soon"], /^manager: invalid value "soon" for flag --rest-client-timeout/],
    [["start"], /^manager: unexpected argument "start"/],
  ] as Array<[string[], RegExp]>) {
    it(`bad input ${args.join(" ")} exits 2 with one line on stderr`, () => {
      const r = manager(...args);
      assert.equal(r.status, 2);
      assert.equal(r.stdout, "");
      assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, message);
    });
  }

  it("valid flags without a reachable cluster exit 1 with one line on stderr", () => {
    const r = spawnSync("./bin/manager", ["--leader-elect", "--metrics-secure=false"], {
      encoding: "utf8",
      env: { ...process.env, KUBECONFIG: "/nonexistent/kubeconfig" },
    });
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /^manager: /);
  });

  it("an unknown WVA_METRICS_SOURCE exits 2 naming the variable", () => {
    const r = spawnSync("./bin/manager", [], {
      encoding: "utf8",
      env: { ...process.env, WVA_METRICS_SOURCE: "carrier-pigeon" },
    });
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /^manager: WVA_METRICS_SOURCE \(the environment\): must be one of prometheus, pods, got "carrier-pigeon"/,
    );
  });

  it("a built tree outside git without a stamp reports commit unknown", () => {
    const dir = mkdtempSync(join(tmpdir(), "wva-build-"));
    try {
      cpSync("package.json", join(dir, "package.json"));
      cpSync("dist", join(dir, "dist"), { recursive: true });
      rmSync(join(dir, "dist", "build-info.json"));
      const r = spawnSync(process.execPath, [join(dir, "dist/src/cli/manager.js"), "--version"], {
        encoding: "utf8",
        cwd: dir,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /\(commit unknown, built /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
