import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { DecideOutput } from "../../src/cli/decide/decide.js";

type Out = DecideOutput;

const wva = (args: string[], input?: string) =>
  spawnSync(process.execPath, ["--import", "tsx", "src/cli/wva.ts", ...args], { encoding: "utf8", input });

function decideFile(file: string): Out {
  const r = wva(["decide", "-f", file]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "");
  return JSON.parse(r.stdout) as Out;
}

function failsWith(input: string, pattern: RegExp): void {
  const r = wva(["decide", "-f", "-"], input);
  assert.equal(r.status, 2, r.stdout);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
}

describe("wva decide (spawned CLI)", () => {
  it("scale-up: the cheaper variant gets one more replica", () => {
    const out = decideFile("examples/snapshot-scale-up.yaml");
    const [m] = out.models;
    assert.deepEqual(Object.keys(out), ["models"]);
    assert.deepEqual(Object.keys(m), ["modelID", "namespace", "analysis", "decisions"]);
    assert.deepEqual(Object.keys(m.analysis), [
      "totalReplicas",
      "nonSaturatedReplicas",
      "avgSpareKv",
      "avgSpareQueue",
      "scaleUp",
      "scaleDownSafe",
      "inTransition",
    ]);
    assert.deepEqual(Object.keys(m.decisions[0]), [
      "variant",
      "accelerator",
      "currentReplicas",
      "targetReplicas",
      "action",
      "reason",
      "wasLimited",
    ]);
    assert.equal(m.analysis.scaleUp, true);
    assert.equal(m.analysis.avgSpareKv, 0.05);
    assert.deepEqual(
      m.decisions.map((d) => [d.variant, d.currentReplicas, d.targetReplicas, d.action]),
      [
        ["llama-8b-a100", 1, 2, "scale-up"],
        ["llama-8b-h100", 2, 2, "no-change"],
      ],
    );
  });

  it("scale-down: the most expensive variant loses one replica", () => {
    const [m] = decideFile("examples/snapshot-scale-down.yaml").models;
    assert.equal(m.analysis.scaleDownSafe, true);
    assert.deepEqual(
      m.decisions.map((d) => [d.variant, d.targetReplicas, d.action]),
      [
        ["granite-h100", 2, "scale-down"],
        ["granite-l40s", 1, "no-change"],
      ],
    );
  });

  it("in transition: the previous decision is kept and no new scaling happens", () => {
    const [m] = decideFile("examples/snapshot-in-transition.yaml").models;
    assert.equal(m.analysis.inTransition, true);
    assert.equal(m.decisions[0].targetReplicas, 4);
    assert.match(m.decisions[0].reason, /model in transition \(llama-70b-h100: desired\(4\)!=current\(2\)\)/);
  });

  it("limited scale-up: the GPU limiter holds the target and says so", () => {
    const [m] = decideFile("examples/snapshot-limited.yaml").models;
    assert.equal(m.analysis.scaleUp, true);
    const [d] = m.decisions;
    assert.equal(d.targetReplicas, 2);
    assert.equal(d.action, "no-change");
    assert.equal(d.wasLimited, true);
    assert.match(d.reason, /gpu-limiter: limited: allocated 0 GPUs for \+0 replicas/);
  });

  it("bounded scale-up: the capped cheapest variant holds, the next cheapest grows, both name the bound", () => {
    const [m] = decideFile("examples/snapshot-bounded.yaml").models;
    const by = Object.fromEntries(m.decisions.map((d) => [d.variant, d]));
    assert.deepEqual(
      [by["llama-8b-a100"].targetReplicas, by["llama-8b-h100"].targetReplicas],
      [1, 3],
      "without the bound the A100 would take the replica (examples/snapshot-scale-up.yaml)",
    );
    assert.match(by["llama-8b-a100"].reason, /at maximum \(wva\.llmd\.ai\/max-replicas annotation 1\)/);
    assert.match(by["llama-8b-h100"].reason, /next cheapest variant/);
  });

  it("scale-to-zero (JSON input): no requests in the window ⇒ target 0", () => {
    const [m] = decideFile("examples/snapshot-scale-to-zero.json").models;
    assert.deepEqual(
      m.decisions.map((d) => [d.targetReplicas, d.action]),
      [[0, "scale-down"]],
    );
    assert.match(m.decisions[0].reason, /No requests in retention period, scaling to zero/);
  });

  it("reads stdin with -f - and prints the same bytes on every run (deterministic)", () => {
    const text = readFileSync("examples/snapshot-scale-up.yaml", "utf8");
    const a = wva(["decide", "-f", "-"], text);
    const b = wva(["decide", "-f", "examples/snapshot-scale-up.yaml"]);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
  });

  it("bad input: an unknown field exits 2 with one line naming it", () => {
    failsWith("variants: []\nvariant: []\n", /^wva: invalid snapshot: variant: unknown field$/);
  });

  it("bad input: a wrong type exits 2 with one line naming the field", () => {
    failsWith(
      '{"variants":[{"name":"v","namespace":"n","modelID":"m","currentReplicas":"two"}]}',
      /^wva: invalid snapshot: variants\[0\]\.currentReplicas: must be a number, got string$/,
    );
  });

  it("bad input: a missing required field exits 2 with one line naming it", () => {
    failsWith(
      "variants:\n  - {name: v, namespace: n, currentReplicas: 1}\n",
      /^wva: invalid snapshot: variants\[0\]\.modelID: required field is missing$/,
    );
  });

  it("bad input: an out-of-range threshold exits 2 with one line naming it", () => {
    failsWith(
      "saturation: {kvCacheThreshold: 1.5}\nvariants: []\n",
      /^wva: invalid snapshot: saturation\.kvCacheThreshold: must be between 0 and 1, got 1\.5$/,
    );
  });

  it("bad input: not YAML, a missing file, no -f", () => {
    failsWith("variants: [\n", /^wva: invalid snapshot: snapshot: not valid YAML or JSON/);
    const missing = wva(["decide", "-f", "/nonexistent/snap.yaml"]);
    assert.equal(missing.status, 2);
    assert.match(
      missing.stderr,
      /^wva: -f \/nonexistent\/snap\.yaml: cannot read the snapshot \(ENOENT\)\n$/,
    );
    const noFile = wva(["decide"]);
    assert.equal(noFile.status, 2);
    assert.match(noFile.stderr, /required option '-f, --file <file>' not specified/);
  });

  it("large or endless input: reading stops at 16 MiB and exits 2 with one line", () => {
    const start = Date.now();
    const r = wva(["decide", "-f", "/dev/zero"]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "wva: -f /dev/zero: the snapshot is larger than 16 MiB\n");
    assert.ok(Date.now() - start < 20_000, "bounded time");
  });

  it("bad input: NaN exits 2 with one line: 'must be a finite number'", () => {
    failsWith(
      "variants:\n  - {name: v, namespace: n, modelID: m, currentReplicas: 1, replicas: [{pod: p, kvCacheUsage: .nan, queueLength: 0}]}\n",
      /^wva: invalid snapshot: variants\[0\]\.replicas\[0\]\.kvCacheUsage: must be a finite number$/,
    );
  });
});
