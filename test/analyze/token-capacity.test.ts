import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  CapacityStore,
  DEFAULT_VLLM_PARAMS,
  analyzeTokenCapacity,
  estimateK2,
  medianCapacity,
  type TokenCapacityConfig,
  type TokenCapacityInput,
  type TokenReplica,
  type TokenVariant,
  type VllmParams,
} from "../../src/analyze/token-capacity/index.js";

const NOW = Date.parse("2026-01-01T00:00:00Z");
/** Shipped V1 thresholds with the V2 defaults. */
const CFG: TokenCapacityConfig = {
  kvCacheThreshold: 0.8,
  queueLengthThreshold: 5,
  scaleUpThreshold: 0.85,
  scaleDownBoundary: 0.7,
};
const params = (over: Partial<VllmParams> = {}): VllmParams => ({ ...DEFAULT_VLLM_PARAMS, ...over });

let podSeq = 0;
function replica(
  tokensInUse: number,
  totalKv: number,
  queue = 0,
  avgIn = 100,
  avgOut = 50,
  variant = "v1",
  extra: Partial<TokenReplica> = {},
): TokenReplica {
  return {
    pod: `${variant}-p${podSeq++}`,
    variant,
    queueLength: queue,
    tokensInUse,
    totalKvCapacityTokens: totalKv,
    avgInputTokens: avgIn,
    avgOutputTokens: avgOut,
    ...extra,
  };
}

function variant(name: string, over: Partial<TokenVariant> = {}): TokenVariant {
  return { name, accelerator: "H100", cost: 10, gpusPerReplica: 1, current: 1, ready: 1, ...over };
}

function analyze(
  replicas: TokenReplica[],
  variants: TokenVariant[] = [variant("v1")],
  store = new CapacityStore(),
  extra: Partial<TokenCapacityInput> = {},
) {
  return analyzeTokenCapacity(
    { modelID: "test-model", namespace: "ns", variants, replicas, ...extra },
    CFG,
    store,
    NOW,
    { detail: true },
  );
}

const capacityOf = (a: ReturnType<typeof analyze>, name = "v1") =>
  a.variants.find((v) => v.variant === name)?.perReplicaCapacity;

describe("token-capacity analysis: per-replica bounds", () => {
  it("without a queue, history or parameters k2 falls back to the memory bound k1", () => {
    const a = analyze([replica(5000, 16000, 0, 100, 50)]);
    const r = a.variants[0].replicas[0];
    assert.equal(r.k1, 12800);
    assert.equal(r.k2Rule, "fallback");
    assert.equal(capacityOf(a), 12800);
  });

  it("a queue at the threshold makes the tokens in use the observed compute bound", () => {
    const a = analyze([replica(8000, 16000, 6)]);
    assert.equal(a.variants[0].replicas[0].k2Rule, "observed");
    assert.equal(capacityOf(a), 8000);
    assert.equal(capacityOf(analyze([replica(4000, 16000, 10)])), 4000);
  });

  it("an observed k2 is remembered per model, accelerator and output-length bucket", () => {
    const store = new CapacityStore();
    analyze([replica(8000, 16000, 6, 100, 50)], undefined, store);
    assert.equal(store.k2Average("test-model", "H100", "short"), 8000);
    const later = analyze([replica(3000, 16000, 0, 100, 50)], undefined, store);
    assert.equal(later.variants[0].replicas[0].k2Rule, "historical");
    assert.equal(capacityOf(later), 8000);
  });

  it("history of another output-length bucket is not used", () => {
    const store = new CapacityStore();
    analyze([replica(8000, 16000, 6, 100, 50)], undefined, store);
    const long = analyze([replica(6000, 16000, 2, 100, 600)], undefined, store);
    assert.equal(long.variants[0].replicas[0].k2Rule, "fallback");
    assert.equal(capacityOf(long), 12800);
  });

  it("k2 is derived from the Deployment's vLLM parameters when there is no observation or history", () => {
    const a = analyze(
      [replica(5000, 16000, 0, 500, 100)],
      [variant("v1", { vllmParams: params({ maxNumSeqs: 16 }) })],
    );
    const r = a.variants[0].replicas[0];
    assert.equal(r.k2Rule, "derived");
    assert.equal(r.k2, 16 * (500 + 50));
    assert.equal(capacityOf(a), 8800);
  });

  it("without request lengths the derivation is impossible and k1 applies", () => {
    const a = analyze([replica(5000, 16000, 0, 0, 0)], [variant("v1", { vllmParams: params() })]);
    assert.equal(a.variants[0].replicas[0].k2Rule, "fallback");
    assert.equal(capacityOf(a), 12800);
  });

  it("estimates k2 from batch tokens, max sequences and request lengths", () => {
    assert.equal(estimateK2(params({ maxNumBatchedTokens: 4096, maxNumSeqs: 256 }), 500, 100), 140800);
    assert.equal(estimateK2(params({ maxNumBatchedTokens: 8192, maxNumSeqs: 64 }), 100, 200), 12800);
    assert.equal(estimateK2(params({ maxNumBatchedTokens: 8192, maxNumSeqs: 256 }), 500, 0), 0);
    assert.equal(estimateK2(undefined, 500, 100), 0);
  });

  it("demand counts the input tokens of waiting requests; a replica is saturated at its capacity", () => {
    const a = analyze([replica(4000, 16000, 10, 100.9, 50)]);
    const r = a.variants[0].replicas[0];
    assert.equal(r.demand, 4000 + 10 * 100);
    assert.equal(r.saturated, true);
    assert.deepEqual(a.variants[0].saturatedReplicas, [r.pod]);
  });

  it("ignores replicas without a KV capacity and replicas of unknown variants", () => {
    const a = analyze([replica(5000, 0), replica(5000, 16000, 0, 100, 50, "stranger")]);
    assert.equal(a.variants[0].replicaCount, 0);
    assert.equal(a.demand, 0);
  });

  it("request lengths of a replica without KV capacity still shape the scheduler-queue demand", () => {
    const a = analyze([replica(5000, 0, 0, 100, 50)], undefined, undefined, {
      schedulerQueue: { size: 10, bytes: 0 },
    });
    assert.equal(a.variants[0].replicaCount, 0);
    assert.equal(a.schedulerQueueDemand, 10 * 100 + 10 * 50);
  });

  it("takes the median of replica capacities (integer mean of the middle two for an even count)", () => {
    assert.equal(medianCapacity([]), 0);
    assert.equal(medianCapacity([42]), 42);
    assert.equal(medianCapacity([1, 3, 5]), 3);
    assert.equal(medianCapacity([1, 3, 5, 7]), 4);
    assert.equal(medianCapacity([5, 1, 3]), 3);
    const a = analyze(
      [replica(4000, 16000, 10), replica(8000, 16000, 6), replica(100, 16000, 0)],
      [variant("v1", { current: 3, ready: 3 })],
    );
    assert.deepEqual(
      a.variants[0].replicas.map((r) => r.effectiveCapacity),
      [4000, 8000, 6000],
    );
    assert.equal(capacityOf(a), 6000);
  });
});

describe("token-capacity analysis: model supply, demand and capacity signals", () => {
  it("anticipated supply counts pending replicas, so nothing more is required", () => {
    const a = analyze([replica(10000, 16000)], [variant("v1", { current: 2, ready: 1 })]);
    assert.equal(a.variants[0].readyReplicas, 1);
    assert.equal(a.variants[0].pendingReplicas, 1);
    assert.equal(a.supply, 12800);
    assert.equal(a.anticipatedSupply, 25600);
    assert.equal(a.requiredCapacity, 0);
  });

  it("spare capacity is supply minus demand over the scale-down boundary", () => {
    const a = analyze(
      [replica(1000, 16000), replica(1000, 16000)],
      [variant("v1", { current: 3, ready: 2 })],
    );
    assert.equal(a.supply, 25600);
    assert.ok(Math.abs(a.spareCapacity - (25600 - 2000 / 0.7)) < 1e-6);
    const two = analyze(
      [replica(1000, 16000), replica(1000, 16000)],
      [variant("v1", { current: 2, ready: 2 })],
    );
    assert.equal(two.demand, 2000);
    assert.ok(Math.abs(two.spareCapacity - 22742.857) < 0.001);
    assert.equal(two.requiredCapacity, 0);
  });

  it("between the thresholds there is neither required nor spare capacity", () => {
    const a = analyze([replica(10000, 16000)]);
    assert.equal(a.utilization, 0.78125);
    assert.equal(a.requiredCapacity, 0);
    assert.equal(a.spareCapacity, 0);
  });

  it("above the scale-up threshold the gap to the anticipated supply is required", () => {
    const a = analyze([replica(12000, 16000)]);
    assert.ok(Math.abs(a.requiredCapacity - (12000 / 0.85 - 12800)) < 1e-6);
    assert.equal(a.spareCapacity, 0);
  });

  it("never offers spare capacity while ready replicas report no token metrics", () => {
    const a = analyze([replica(1000, 16000)], [variant("v1", { current: 3, ready: 2 })]);
    assert.equal(a.supply, 25600);
    assert.equal(a.spareCapacity, 0);
    assert.match(a.scaleDownBlocked ?? "", /metrics missing for 1 ready replica\(s\) of v1/);
  });

  it("without a scheduler queue the demand is the replicas' demand", () => {
    assert.equal(analyze([replica(5000, 16000)]).demand, 5000);
    assert.equal(
      analyze([replica(5000, 16000)], undefined, undefined, { schedulerQueue: { size: 0, bytes: 0 } }).demand,
      5000,
    );
  });

  it("adds the endpoint picker's queued requests to the demand", () => {
    const a = analyze(
      [replica(5000, 16000, 0, 100, 50, "v1", { prefixCacheHitRate: 0 })],
      undefined,
      undefined,
      {
        schedulerQueue: { size: 10, bytes: 20000 },
      },
    );
    assert.equal(a.schedulerQueueDemand, 5500);
    assert.equal(a.demand, 10500);
    const cached = analyze(
      [replica(5000, 16000, 0, 100, 50, "v1", { prefixCacheHitRate: 0.5 })],
      undefined,
      undefined,
      {
        schedulerQueue: { size: 10, bytes: 20000 },
      },
    );
    assert.equal(cached.schedulerQueueDemand, 2500 + 500, "the prefix cache already holds half the input");
  });

  it("applies the default thresholds 0.85 and 0.70 when the config leaves them at 0", () => {
    const a = analyzeTokenCapacity(
      { modelID: "m", namespace: "ns", variants: [variant("v1")], replicas: [replica(1000, 16000)] },
      { ...CFG, scaleUpThreshold: 0, scaleDownBoundary: 0 },
      new CapacityStore(),
      NOW,
    );
    assert.equal(a.scaleUpThreshold, 0.85);
    assert.equal(a.scaleDownBoundary, 0.7);
  });
});

describe("token-capacity analysis: variants without ready replicas", () => {
  it("a variant at zero replicas takes its stored live capacity", () => {
    const store = new CapacityStore();
    store.updateLive(
      {
        namespace: "ns",
        modelID: "test-model",
        variant: "v1",
        accelerator: "H100",
        gpuCount: 1,
        numGpuBlocks: 1000,
        blockSize: 16,
        totalKvCapacityTokens: 16000,
        effectiveCapacity: 12000,
      },
      NOW - 60_000,
    );
    const a = analyze([], [variant("v1", { current: 0, ready: 0 })], store);
    assert.equal(capacityOf(a), 12000);
    assert.equal(a.variants[0].capacitySource, "live-record");
    assert.equal(a.supply, 0);
  });

  it("a live record is learned from running replicas and used once the variant is at zero", () => {
    const store = new CapacityStore();
    analyze([replica(8000, 16000, 6)], [variant("v1")], store);
    const later = analyze([], [variant("v1", { current: 0, ready: 0 })], store);
    assert.equal(capacityOf(later), 8000);
  });

  it("a derived estimate is bounded by a compatible live variant", () => {
    const a = analyze(
      [replica(5000, 50000, 0, 500, 100, "variant-a")],
      [
        variant("variant-a", { vllmParams: params() }),
        variant("variant-b", { current: 0, ready: 0, vllmParams: params() }),
      ],
    );
    assert.equal(capacityOf(a, "variant-a"), 40000);
    assert.equal(capacityOf(a, "variant-b"), 40000);
    assert.equal(a.variants[1].capacitySource, "deployment-derived");
  });

  it("a derived estimate is bounded by the variant's own KV capacity", () => {
    const a = analyze(
      [replica(5000, 16000, 0, 500, 100, "other", { avgInputTokens: 500, avgOutputTokens: 100 })],
      [
        variant("variant-a", {
          current: 0,
          ready: 0,
          vllmParams: params({ numGpuBlocksOverride: 1875, maxNumSeqs: 256 }),
        }),
        variant("other", { accelerator: "L40S" }),
      ],
    );
    assert.equal(capacityOf(a, "variant-a"), 24000);
  });

  it("without live pods a deployment record gives its stored capacity", () => {
    const a = analyze([], [variant("v1", { current: 0, ready: 0, vllmParams: params() })]);
    assert.equal(capacityOf(a), 8192);
    assert.equal(a.variants[0].capacitySource, "deployment-record");
  });

  it("a compatible live record in another namespace replaces the Deployment's batch size", () => {
    const store = new CapacityStore();
    store.restore({
      namespace: "elsewhere",
      modelID: "test-model",
      variant: "x",
      accelerator: "H100",
      gpuCount: 1,
      numGpuBlocks: 1000,
      blockSize: 16,
      totalKvCapacityTokens: 16000,
      effectiveCapacity: 11000,
      learnedFrom: "live",
      vllmParams: params(),
      updatedAt: NOW,
    });
    const a = analyze([], [variant("v1", { current: 0, ready: 0, vllmParams: params() })], store);
    assert.equal(capacityOf(a), 11000);
    assert.equal(a.variants[0].capacitySource, "compatible-record");
    const other = analyze(
      [],
      [variant("v1", { current: 0, ready: 0, accelerator: "A100", vllmParams: params() })],
      store,
    );
    assert.equal(capacityOf(other), 8192, "another accelerator is not compatible");
  });

  it("a variant nothing is known about has no capacity", () => {
    const a = analyze([], [variant("v1", { current: 0, ready: 0 })]);
    assert.equal(capacityOf(a), 0);
    assert.equal(a.variants[0].capacitySource, "none");
  });
});

describe("token-capacity analysis: properties", () => {
  const replicaArb = fc.record({
    tokensInUse: fc.integer({ min: 0, max: 60000 }),
    totalKv: fc.integer({ min: 1, max: 60000 }),
    queue: fc.integer({ min: 0, max: 20 }),
    avgIn: fc.integer({ min: 0, max: 2000 }),
    avgOut: fc.integer({ min: 0, max: 2000 }),
    variant: fc.constantFrom("a", "b"),
  });
  const stateArb = fc.record({
    current: fc.integer({ min: 0, max: 6 }),
    pending: fc.integer({ min: 0, max: 3 }),
  });

  it("capacity never exceeds the memory bound, and a model is never both short of and over capacity", () => {
    fc.assert(
      fc.property(fc.array(replicaArb, { maxLength: 12 }), stateArb, stateArb, (reps, sa, sb) => {
        const variants = [
          variant("a", {
            current: sa.current,
            ready: Math.max(0, sa.current - sa.pending),
            vllmParams: params(),
          }),
          variant("b", {
            current: sb.current,
            ready: Math.max(0, sb.current - sb.pending),
            accelerator: "A100",
          }),
        ];
        const a = analyze(
          reps.map((r) => replica(r.tokensInUse, r.totalKv, r.queue, r.avgIn, r.avgOut, r.variant)),
          variants,
        );
        for (const v of a.variants) for (const r of v.replicas) assert.ok(r.effectiveCapacity <= r.k1);
        assert.ok(a.requiredCapacity >= 0 && a.spareCapacity >= 0);
        assert.ok(!(a.requiredCapacity > 0 && a.spareCapacity > 0));
        assert.ok(a.anticipatedSupply >= a.supply);
      }),
    );
  });
});
