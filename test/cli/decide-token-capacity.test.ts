import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { decide, type DecideOutput } from "../../src/cli/decide/decide.js";
import { parseSnapshotText } from "../../src/cli/decide/snapshot.js";
import { assertSnapshotRejects } from "../support/snapshot.js";

const wva = (args: string[], input?: string) =>
  spawnSync(process.execPath, ["--import", "tsx", "src/cli/wva.ts", ...args], { encoding: "utf8", input });

const EXAMPLE = "examples/snapshot-v2-token-capacity.yaml";

/** A V2 snapshot of one variant with one pod whose replica fields are `replica`. */
function v2(replica: string, extra = ""): string {
  return [
    "saturation: {analyzerName: saturation}",
    "variants:",
    "  - name: v",
    "    namespace: n",
    "    modelID: m",
    "    currentReplicas: 1",
    `    replicas: [{pod: p, kvCacheUsage: 0.5, queueLength: 0, ${replica}}]`,
    extra,
  ].join("\n");
}

function rejects(text: string, field: string, rule: RegExp): void {
  assertSnapshotRejects(() => parseSnapshotText(text), field, rule);
}

describe("wva decide with the token-capacity analyzer", () => {
  it("the shipped V2 example prints capacities and targets (spawned CLI)", () => {
    const r = wva(["decide", "-f", EXAMPLE]);
    assert.equal(r.status, 0, r.stderr);
    const [m] = (JSON.parse(r.stdout) as DecideOutput).models;
    assert.deepEqual(
      ["requiredCapacity", "spareCapacity", "supply", "demand"].map((k) => k in m.analysis),
      [true, true, true, true],
    );
    assert.ok(m.analysis.requiredCapacity! > 60_000 && m.analysis.spareCapacity === 0);
    assert.deepEqual(
      m.decisions.map((d) => [d.variant, d.perReplicaCapacity, d.targetReplicas]),
      [
        ["llama-8b-a100", 104_857, 2],
        ["llama-8b-h100", 155_000, 1],
        ["llama-8b-l4", 30_000, 3],
      ],
    );
  });

  it("bad V2 input exits 2 naming the field (spawned CLI)", () => {
    const r = wva(["decide", "-f", "-"], v2("tokensInUse: -1"));
    assert.equal(r.status, 2);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      /^wva: invalid snapshot: variants\[0\]\.replicas\[0\]\.tokensInUse: must be >= 0, got -1\n$/,
    );
  });

  it("negative tokens, a non-numeric avgOutputTokens and an unknown bucket are refused by field", () => {
    rejects(v2("totalKvCapacityTokens: -5"), "variants[0].replicas[0].totalKvCapacityTokens", /must be >= 0/);
    rejects(v2('avgOutputTokens: "long"'), "variants[0].replicas[0].avgOutputTokens", /number/);
    rejects(
      v2("tokensInUse: 1", "capacityHistory: [{modelID: m, accelerator: H100, bucket: huge, values: [1]}]"),
      "capacityHistory[0].bucket",
      /short.*medium.*long/,
    );
    rejects(
      v2(
        "tokensInUse: 1",
        "schedulerQueues: [{modelID: m, namespace: n, size: 1, bytes: 1}, {modelID: m, namespace: n, size: 2, bytes: 2}]",
      ),
      "schedulerQueues[1]",
      /duplicate/,
    );
  });

  it("V1 snapshots keep today's output shape: no token fields", () => {
    for (const f of readdirSync("examples").filter((x) => x.startsWith("snapshot-"))) {
      const snapshot = parseSnapshotText(readFileSync(`examples/${f}`, "utf8"));
      if (!["", "default"].includes(snapshot.saturation.analyzerName ?? "")) continue;
      const out = decide(snapshot);
      for (const m of out.models) {
        assert.equal("requiredCapacity" in m.analysis, false, f);
        for (const d of m.decisions) assert.equal("perReplicaCapacity" in d, false, f);
        assert.match(m.decisions[0].reason, /^saturation-only mode: /, f);
      }
    }
  });
});
