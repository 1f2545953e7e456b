import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CapacityStore, parseVllmArgs } from "../../src/analyze/token-capacity/index.js";
import { applySaturationDefaults } from "../../src/config/saturation.js";
import { decideCycle, decideModel, type ModelInput } from "../../src/engine/pipeline.js";
import type { ReplicaMetric, VariantState } from "../../src/types/decision.js";
import { C0, NOW, state } from "../support/engine-fixtures.js";

const V2 = applySaturationDefaults({ ...C0, analyzerName: "saturation" });

/** Token metrics of `n` pods of a variant, each holding `tokens` of a 10,000-token KV cache. */
function tokenReps(variant: string, n: number, tokens: number, queue = 0): ReplicaMetric[] {
  return Array.from({ length: n }, (_, i) => ({
    pod: `${variant}-${i}`,
    variant,
    kvCacheUsage: tokens / 10_000,
    queueLength: queue,
    tokensInUse: tokens,
    totalKvCapacityTokens: 10_000,
    avgInputTokens: 400,
    avgOutputTokens: 200,
  }));
}

function model(
  variants: VariantState[],
  replicas: ReplicaMetric[],
  over: Partial<ModelInput> = {},
): ModelInput {
  return { modelID: "m", namespace: "ns", variants, replicas, config: V2, ...over };
}

const target = (r: ReturnType<typeof decideModel>, v: string) =>
  r.result.decisions.find((d) => d.variantName === v)!;

describe("token-capacity engine (analyzerName: saturation)", () => {
  it("adds as many replicas as the gap needs, on the cheapest capacity, and reports capacities", () => {
    // k1 = 8,000 per replica; 2 replicas at 7,900 tokens: demand 15,800 / 0.85 − 16,000 ≈ 2,588 → +1
    const r = decideModel(
      model(
        [state("cheap", { current: 2, cost: 5 }), state("dear", { current: 0, cost: 20 })],
        tokenReps("cheap", 2, 7_900),
      ),
      { now: NOW },
    );
    assert.equal(r.result.analysis.analyzer, "saturation");
    assert.ok(r.result.analysis.capacity!.requiredCapacity > 0);
    assert.equal(target(r, "cheap").targetReplicas, 3);
    assert.equal(target(r, "cheap").perReplicaCapacity, 8_000);
    assert.equal(target(r, "dear").targetReplicas, 0);
    assert.match(target(r, "cheap").reason, /V2 scale-up \(optimizer: cost-aware/);
  });

  it("an expensive variant at 1 replica goes to 0 while the cheap one carries the load", () => {
    const r = decideModel(
      model(
        [state("cheap", { current: 2, cost: 5 }), state("dear", { current: 1, cost: 20 })],
        [...tokenReps("cheap", 2, 1_000), ...tokenReps("dear", 1, 500)],
      ),
      { now: NOW },
    );
    assert.equal(target(r, "dear").targetReplicas, 0);
    assert.equal(target(r, "dear").action, "scale-down");
    assert.ok(target(r, "cheap").targetReplicas >= 1);
  });

  it("missing token metrics of a ready replica never scale down", () => {
    const r = decideModel(
      model(
        [state("cheap", { current: 2, cost: 5 }), state("dear", { current: 1, cost: 20 })],
        tokenReps("cheap", 2, 100),
      ),
      { now: NOW },
    );
    assert.equal(target(r, "dear").targetReplicas, 1);
    assert.equal(target(r, "cheap").targetReplicas, 2);
    assert.match(r.result.analysis.scaleDownReason, /token metrics missing/);
  });

  it("capped cheapest variant: the next cheapest grows and the reason names the bound (V2)", () => {
    const r = decideModel(
      model(
        [
          state("cheap", { current: 2, cost: 5, bounds: [{ source: "hpa", maxReplicas: 2 }] }),
          state("mid", { current: 0, cost: 8 }),
        ],
        tokenReps("cheap", 2, 7_900),
        { vllmParams: { mid: parseVllmArgs(["vllm", "serve", "m", "--max-num-seqs", "8"]) } },
      ),
      { now: NOW, capacityStore: new CapacityStore() },
    );
    assert.equal(target(r, "cheap").targetReplicas, 2);
    assert.match(target(r, "cheap").reason, /HPA maxReplicas 2/);
    assert.equal(target(r, "mid").targetReplicas, 1);
  });

  it("capped cheapest variant: the next cheapest grows and the reason names the bound (V1)", () => {
    const v1 = { ...C0 };
    const r = decideModel(
      {
        modelID: "m",
        namespace: "ns",
        config: v1,
        variants: [
          state("cheap", { current: 2, cost: 5, bounds: [{ source: "annotation", maxReplicas: 2 }] }),
          state("mid", { current: 1, cost: 8 }),
        ],
        replicas: [
          { pod: "cheap-0", variant: "cheap", kvCacheUsage: 0.9, queueLength: 0 },
          { pod: "cheap-1", variant: "cheap", kvCacheUsage: 0.9, queueLength: 0 },
          { pod: "mid-0", variant: "mid", kvCacheUsage: 0.9, queueLength: 0 },
        ],
      },
      { now: NOW },
    );
    assert.equal(target(r, "cheap").targetReplicas, 2);
    assert.match(target(r, "cheap").reason, /at maximum \(wva\.llmd\.ai\/max-replicas annotation 2\)/);
    assert.equal(target(r, "mid").targetReplicas, 2);
    assert.match(target(r, "mid").reason, /cheap at maximum/);
  });

  it("the capacity store passed to a cycle keeps what it learned for a variant that went to zero", () => {
    const store = new CapacityStore();
    const variants = [state("cheap", { current: 1, cost: 5 }), state("dear", { current: 1, cost: 20 })];
    decideCycle(
      {
        models: [model(variants, [...tokenReps("cheap", 1, 100), ...tokenReps("dear", 1, 100)])],
        enableLimiter: false,
      },
      { now: NOW, capacityStore: store },
    );
    const later = decideCycle(
      {
        models: [model([variants[0], state("dear", { current: 0, cost: 20 })], tokenReps("cheap", 1, 100))],
        enableLimiter: false,
      },
      { now: NOW + 30_000, capacityStore: store },
    );
    const dear = later.models[0].decisions.find((d) => d.variantName === "dear")!;
    assert.equal(dear.perReplicaCapacity, 8_000);
  });
});
