import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { SimulationReport } from "../../src/simulate/simulate.js";

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function wva(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/wva.ts", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

function oneLine(r: Run, pattern: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
  assert.equal(r.stdout, "");
}

describe("wva simulate (CLI)", () => {
  const dir = mkdtempSync(join(tmpdir(), "wva-simulate-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // every process starts at once (each one spends most of its time loading TypeScript)
  const out = join(dir, "r.json");
  const html = join(dir, "r.html");
  const trace = join(dir, "empty.csv");
  writeFileSync(trace, "TIMESTAMP,ContextTokens,GeneratedTokens\n");
  const scenario = join(dir, "s.yaml");
  writeFileSync(
    scenario,
    [
      "name: s",
      "nodes: ['1xA100:8']",
      "duration: 60s",
      "models:",
      "  - modelID: m",
      "    variants: [{name: a, accelerator: A100, cost: 1}]",
      `    load: {trace: {file: ${trace}}}`,
    ].join("\n"),
  );
  const runs = {
    full: wva(
      "simulate",
      "--scenario",
      "examples/scenarios/quick.yaml",
      "--policies",
      "wva,static-peak,oracle",
      "--report",
      out,
      "--html",
      html,
    ),
    check: wva("simulate", "--scenario", "examples/scenarios/spike.yaml", "--check"),
    policy: wva("simulate", "--scenario", "examples/scenarios/quick.yaml", "--policies", "wva,keda"),
    seed: wva("simulate", "--scenario", "examples/scenarios/quick.yaml", "--seed", "x"),
    missing: wva("simulate"),
    broken: wva("simulate", "--scenario", scenario, "--check"),
  };

  it("prints the table, a progress line on stderr, and writes the JSON report", async () => {
    const r = await runs.full;
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assert.match(lines[1], /^POLICY\s+COST\s+×ORACLE\s+SENT\s+DONE\s+FAILED\s+SLO/);
    assert.match(lines[2], /^wva\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+/);
    assert.match(lines[4], /^oracle\s+\d+\.\d\d\s+1\.00\s/);
    assert.match(r.stderr, /simulate: 3 policies, 25s simulated in [\d.]+s/);
    const report = JSON.parse(readFileSync(out, "utf8")) as SimulationReport;
    assert.equal(report.scenario, "quick");
    assert.deepEqual(
      report.policies.map((p) => p.policy),
      ["wva", "static-peak", "oracle"],
    );
    const p = report.policies[0];
    for (const k of ["cost", "costRatioToOracle", "sloAttainment", "scalingActions", "reversals"] as const)
      assert.equal(typeof p[k], "number", k);
    assert.deepEqual(Object.keys(p.requests), ["sent", "completed", "failed"]);
    assert.deepEqual(Object.keys(p.ttftMs), ["p50", "p95", "p99"]);
    assert.ok(p.timeline.length > 10);
    const page = readFileSync(html, "utf8");
    assert.match(r.stdout, /page written to .*r\.html\n$/);
    assert.match(page, /<title>WVA simulation: quick<\/title>/);
    const data = JSON.parse(
      /<script type="application\/json" id="wva-data">(.*?)<\/script>/s.exec(page)![1],
    ) as {
      simulation: { policies: Array<{ policy: string; timeline: unknown[] }> };
    };
    assert.deepEqual(
      data.simulation.policies.map((x) => [x.policy, x.timeline.length]),
      report.policies.map((x) => [x.policy, x.timeline.length]),
    );
  });

  it("--check validates and prints the scenario with defaults", async () => {
    const r = await runs.check;
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { routerTimeoutMs: number; models: Array<{ slo: unknown }> };
    assert.equal(s.routerTimeoutMs, 60_000);
    assert.deepEqual(s.models[0].slo, { ttftMs: 1000, itlMs: 50 });
  });

  it("an unknown policy exits 2 listing the valid ones", async () => {
    oneLine(
      await runs.policy,
      /--policies: unknown policy "keda"; valid policies: wva, wva-always-on, wva-v2, wva-model, hpa-kv, hpa-queue, static-peak, oracle$/,
    );
  });

  it("bad seed, missing scenario flag and a scenario with a broken trace exit 2 naming the field", async () => {
    const [seed, missing, broken] = await Promise.all([runs.seed, runs.missing, runs.broken]);
    oneLine(seed, /--seed: must be an integer/);
    oneLine(missing, /--scenario: required/);
    oneLine(broken, /models\[0\]\.load\.trace\.file: .*has no request rows/);
  });
});
