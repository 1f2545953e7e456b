import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { decide } from "../../../src/cli/decide/decide.js";
import { parseSnapshotText, validateSnapshot } from "../../../src/cli/decide/snapshot.js";
import { assertSnapshotRejects } from "../../support/snapshot.js";

const variant = (over: Record<string, unknown> = {}) => ({
  name: "v1",
  namespace: "ns",
  modelID: "m",
  currentReplicas: 1,
  ...over,
});

function rejects(doc: unknown, field: string, rule: RegExp): void {
  assertSnapshotRejects(() => validateSnapshot(doc), field, rule);
}

describe("wva decide with analyzerName queueing-model", () => {
  it("the example prints each variant's sized rate per replica and the chosen allocation", () => {
    const out = decide(parseSnapshotText(readFileSync("examples/snapshot-queueing-model.yaml", "utf8")));
    const [m] = out.models;
    assert.deepEqual(m.analysis.sizing, {
      arrivalRate: 24,
      avgInputTokens: 600,
      avgOutputTokens: 150,
      targets: { ttftMs: 2000, itlMs: 100, source: "explicit" },
      variants: [
        { variant: "code-a100", ratePerReplica: 11.000706 },
        { variant: "code-h100", ratePerReplica: 14.865424 },
      ],
    });
    assert.deepEqual(
      m.decisions.map((d) => [d.variant, d.targetReplicas]),
      [
        ["code-a100", 3],
        ["code-h100", 2],
      ],
    );
    assert.equal(
      m.decisions[0].reason,
      "model-based mode: scale-up (3 × A100 meet TTFT 2000 ms / ITL 100 ms at 24 req/s (per replica 11 req/s); " +
        "H100 would cost 1.3× more)",
    );
  });

  it("without SLO entries the targets are inferred from the parameters", () => {
    const snap = validateSnapshot({
      saturation: { analyzerName: "queueing-model" },
      variants: [
        variant({
          maxBatchSize: 16,
          parameters: { alpha: 6, beta: 0.05, gamma: 0.0002 },
          replicas: [
            {
              pod: "p",
              kvCacheUsage: 0.2,
              queueLength: 0,
              arrivalRate: 2,
              avgInputTokens: 100,
              avgOutputTokens: 50,
            },
          ],
        }),
      ],
    });
    const [m] = decide(snap).models;
    assert.equal(m.analysis.sizing?.targets?.source, "inferred");
    assert.ok((m.analysis.sizing?.variants[0].ratePerReplica ?? 0) > 0);
  });

  it("V1 output has no sizing", () => {
    const [m] = decide(
      validateSnapshot({
        variants: [variant({ replicas: [{ pod: "p", kvCacheUsage: 0.2, queueLength: 0 }] })],
      }),
    ).models;
    assert.equal(m.analysis.sizing, undefined);
  });

  it("bad queueing-model inputs are named with the rule", () => {
    rejects(
      { variants: [variant({ replicas: [{ pod: "p", kvCacheUsage: 0, queueLength: 0, arrivalRate: -1 }] })] },
      "variants[0].replicas[0].arrivalRate",
      />= 0/,
    );
    rejects({ variants: [variant({ maxBatchSize: 0 })] }, "variants[0].maxBatchSize", />= 1/);
    rejects(
      { variants: [variant({ parameters: { alpha: 1, beta: 1 } })] },
      "variants[0].parameters.gamma",
      /required/,
    );
    rejects(
      { variants: [variant({ parameters: { alpha: 0, beta: 0, gamma: 0 } })] },
      "variants[0].parameters",
      /must not all be 0/,
    );
    rejects(
      { slo: [{ modelID: "m", namespace: "ns", ttftMs: 1, itlMs: 1, tps: 3 }], variants: [] },
      "slo[0].tps",
      /unknown/,
    );
    rejects(
      {
        slo: [
          { modelID: "m", namespace: "ns", ttftMs: 1, itlMs: 1 },
          { modelID: "m", namespace: "ns", ttftMs: 2, itlMs: 2 },
        ],
        variants: [],
      },
      "slo[1]",
      /duplicate entry/,
    );
  });
});
