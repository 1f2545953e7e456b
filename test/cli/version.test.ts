import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";

const wva = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", "src/cli/wva.ts", ...args], { encoding: "utf8" });

describe("wva CLI basics", () => {
  it("--version prints exactly one line in the documented format", () => {
    const r = wva("--version");
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 1);
    assert.match(
      lines[0],
      /^workload-variant-autoscaler v\d+\.\d+\.\d+(-[\w.]+)? \(commit ([0-9a-f]{7,40}|unknown), built \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, node v\d+\.\d+\.\d+\)$/,
    );
  });

  it("--version --json prints the same fields as JSON", () => {
    const r = wva("--version", "--json");
    assert.equal(r.status, 0, r.stderr);
    const v = JSON.parse(r.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(v).sort(), ["buildDate", "commit", "name", "node", "version"]);
    assert.equal(v.name, "workload-variant-autoscaler");
    assert.equal(v.node, process.version);
  });

  it("an unknown subcommand exits 2 with one line on stderr", () => {
    const r = wva("no-such-command");
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1);
    assert.match(r.stderr, /unknown command 'no-such-command'/);
  });

  it("an unknown flag exits 2 with one line on stderr", () => {
    const r = wva("--no-such-flag");
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1);
    assert.match(r.stderr, /unknown option '--no-such-flag'/);
  });
});
