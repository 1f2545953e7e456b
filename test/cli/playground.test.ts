import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { invalidCases, validDoc } from "../playground/scenario-cases.js";
import { runWva as wva, type CliRun } from "../support/cli.js";

/** Runs fn over items with at most `limit` at a time (the CLI start-up dominates). */
async function pool<T, R>(items: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return out;
}

/**
 * Every invalid case is checked in-process by test/playground/scenario.test.ts (field, rule, one line); the CLI
 * path that turns a ScenarioError into exit 2 is the same for all of them, so a spread sample runs as processes.
 */
const cliCases = invalidCases.filter((_, i) => i % 6 === 0);

describe("wva playground: scenario validation through the CLI", () => {
  let dir: string;
  const results = new Map<string, CliRun>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "wva-playground-cli-"));
    const files = cliCases.map((c, i) => {
      const d = validDoc();
      c.edit(d);
      const f = join(dir, `case-${i}.yaml`);
      writeFileSync(f, stringify(d));
      return f;
    });
    const rs = await pool(files, 4, (f) => wva("playground", "--scenario", f, "--check"));
    cliCases.forEach((c, i) => results.set(c.kind, rs[i]));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("--check accepts a valid scenario file and prints it with defaults applied", async () => {
    const f = join(dir, "valid.yaml");
    writeFileSync(f, stringify(validDoc()));
    const r = await wva("playground", "--scenario", f, "--check");
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { name: string; engineIntervalMs: number; models: unknown[] };
    assert.equal(s.name, "t");
    assert.equal(s.engineIntervalMs, 2000);
    assert.equal(s.models.length, 1);
  });

  it("--check accepts the shipped example scenarios", async () => {
    const examples = ["spike", "direct-step", "trace-replay", "quick"].map(
      (n) => `examples/scenarios/${n}.yaml`,
    );
    const rs = await pool(examples, 4, (f) => wva("playground", "--scenario", f, "--check"));
    rs.forEach((r, i) => assert.equal(r.code, 0, `${examples[i]}: ${r.stderr}`));
  });

  for (const c of cliCases) {
    it(`exits 2 with one line naming ${c.field} for ${c.kind}`, () => {
      const r = results.get(c.kind)!;
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0].includes(` ${c.field}: `), `expected field ${c.field} in: ${lines[0]}`);
      assert.match(lines[0], c.rule);
      assert.equal(r.stdout, "");
    });
  }

  it("exits 2 for invalid YAML, naming the line", async () => {
    const f = join(dir, "broken.yaml");
    writeFileSync(f, "name: x\nnodes: [1xH100:8\nmodels: []\n");
    const r = await wva("playground", "--scenario", f, "--check");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^wva: scenario .*broken\.yaml: not valid YAML at line 3, column 1: /);
  });

  it("exits 2 for a missing scenario file, naming --scenario", async () => {
    const r = await wva("playground", "--scenario", join(dir, "nope.yaml"), "--check");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--scenario: cannot read/);
  });

  it("exits 2 naming the flag for bad knobs", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--duration", "soon"], /--duration: invalid duration/],
      [["--interval", "0s"], /--interval: must be a positive duration/],
      [["--high-rate", "-1"], /--high-rate: must be a number/],
      [["--nodes", "2xH100"], /--nodes: "2xH100" must be COUNTxACCELERATOR:GPUS/],
      [["--nodes", "1xH100:8"], /--nodes: .*no node offers accelerator A100/],
      [["--step-at", "5m"], /--step-at: must be shorter than --duration/],
      [["--actuation", "keda"], /--actuation/],
    ];
    const rs = await pool(cases, 4, ([args]) => wva("playground", ...args, "--check"));
    rs.forEach((r, i) => {
      assert.equal(r.code, 2, `${cases[i][0].join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr.trimEnd().split("\n").length, 1);
      assert.match(r.stderr, cases[i][1]);
    });
  });

  it("flags given explicitly override the scenario file", async () => {
    const f = join(dir, "override.yaml");
    writeFileSync(f, stringify(validDoc()));
    const r = await wva(
      "playground",
      "--scenario",
      f,
      "--duration",
      "7s",
      "--actuation",
      "direct",
      "--check",
    );
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { durationMs: number; actuation: string; engineIntervalMs: number };
    assert.deepEqual([s.durationMs, s.actuation, s.engineIntervalMs], [7000, "direct", 2000]);
  });

  it("--help documents the knobs", async () => {
    const r = await wva("playground", "--help");
    assert.equal(r.code, 0);
    for (const flag of [
      "--scenario",
      "--report",
      "--duration",
      "--interval",
      "--actuation",
      "--low-rate",
      "--high-rate",
      "--step-at",
      "--startup-delay",
      "--nodes",
    ])
      assert.ok(r.stdout.includes(flag), flag);
    assert.match(r.stdout, /never a production cluster/);
  });
});
