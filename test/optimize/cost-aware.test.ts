import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { CapacityStore, analyzeTokenCapacity } from "../../src/analyze/token-capacity/index.js";
import {
  optimizeCostAware,
  optimizeCostAwareAll,
  tightestBound,
  toCostAwareModel,
  type CostAwareModel,
  type CostAwareVariant,
} from "../../src/optimize/cost-aware/index.js";

function model(required: number, spare: number, variants: CostAwareVariant[], modelID = "m"): CostAwareModel {
  return { modelID, namespace: "ns", requiredCapacity: required, spareCapacity: spare, variants };
}
const v = (
  name: string,
  cost: number,
  perReplicaCapacity: number,
  current: number,
  extra: Partial<CostAwareVariant> = {},
) => ({
  name,
  cost,
  perReplicaCapacity,
  current,
  ...extra,
});
const targets = (m: CostAwareModel) =>
  Object.fromEntries(optimizeCostAware(m).decisions.map((d) => [d.variant, d.targetReplicas]));

describe("cost-aware optimizer: scale-up", () => {
  it("adds capacity on the cheapest capacity per cost first", () => {
    const r = optimizeCostAware(model(5000, 0, [v("cheap", 5, 10000, 2), v("expensive", 15, 20000, 1)]));
    assert.deepEqual(
      r.decisions.map((d) => [d.variant, d.targetReplicas, d.action]),
      [
        ["cheap", 3, "scale-up"],
        ["expensive", 1, "no-change"],
      ],
    );
    assert.equal(r.decisions[0].reason, "V2 scale-up (optimizer: cost-aware, required: 5000)");
    assert.equal(r.decisions[1].reason, "V2 steady state");
    assert.equal(r.decisions[0].perReplicaCapacity, 10000);
  });

  it("does not skip variants with pending replicas", () => {
    assert.deepEqual(targets(model(5000, 0, [v("cheap", 5, 10000, 2), v("mid", 10, 15000, 1)])), {
      cheap: 3,
      mid: 1,
    });
  });

  it("skips variants without a known capacity", () => {
    assert.deepEqual(targets(model(5000, 0, [v("zero-cap", 1, 0, 0), v("normal", 10, 10000, 1)])), {
      "zero-cap": 0,
      normal: 2,
    });
  });

  it("adds as many replicas as the gap needs in one step", () => {
    assert.deepEqual(targets(model(45000, 0, [v("a", 10, 10000, 1)])), { a: 6 });
  });

  it("compares cost per token, not cost per replica", () => {
    // big: 20 per 40000 tokens = 0.0005; small: 5 per 5000 tokens = 0.001.
    assert.deepEqual(targets(model(30000, 0, [v("small", 5, 5000, 1), v("big", 20, 40000, 1)])), {
      small: 1,
      big: 2,
    });
  });
});

describe("cost-aware optimizer: bounds", () => {
  it("a capped cheapest variant passes the rest of the step to the next cheapest and says which bound applied", () => {
    const r = optimizeCostAware(
      model(35000, 0, [
        v("cheap", 5, 10000, 3, { bounds: [{ source: "hpa", maxReplicas: 4 }] }),
        v("next", 10, 10000, 1),
        v("dear", 20, 10000, 1),
      ]),
    );
    const by = Object.fromEntries(r.decisions.map((d) => [d.variant, d]));
    assert.equal(by.cheap.targetReplicas, 4);
    assert.equal(by.next.targetReplicas, 4, "10000 went to cheap, 25000 to next: ceil(2.5) = 3");
    assert.equal(by.dear.targetReplicas, 1);
    assert.match(by.cheap.reason, /capped by HPA maxReplicas 4/);
    assert.deepEqual(by.cheap.cappedBy, { source: "hpa", maxReplicas: 4 });
    assert.equal(r.unmetCapacity, 0);
  });

  it("a variant already at its maximum stays and the next cheapest grows", () => {
    const r = optimizeCostAware(
      model(5000, 0, [
        v("cheap", 5, 10000, 2, { bounds: [{ source: "annotation", maxReplicas: 2 }] }),
        v("dear", 15, 10000, 1),
      ]),
    );
    const by = Object.fromEntries(r.decisions.map((d) => [d.variant, d]));
    assert.equal(by.cheap.targetReplicas, 2);
    assert.equal(by.cheap.action, "no-change");
    assert.match(by.cheap.reason, /^V2 steady state \(at maximum: wva\.llmd\.ai\/max-replicas annotation 2;/);
    assert.equal(by.dear.targetReplicas, 2);
    assert.equal(by.dear.action, "scale-up");
  });

  it("the tightest of several bounds applies (the limiter's grant here)", () => {
    const bounds = [
      { source: "annotation" as const, maxReplicas: 8 },
      { source: "limiter" as const, maxReplicas: 3 },
      { source: "hpa" as const, maxReplicas: 5 },
    ];
    assert.deepEqual(tightestBound(bounds), { source: "limiter", maxReplicas: 3 });
    const r = optimizeCostAware(model(50000, 0, [v("a", 5, 10000, 1, { bounds })]));
    assert.equal(r.decisions[0].targetReplicas, 3);
    assert.match(r.decisions[0].reason, /capped by GPU limiter grant 3/);
    assert.equal(r.unmetCapacity, 30000);
    assert.match(r.decisions[0].reason, /unmet: 30000/);
  });
});

describe("cost-aware optimizer: scale-down", () => {
  it("removes whole replicas from the most expensive variant first", () => {
    assert.deepEqual(targets(model(0, 15000, [v("cheap", 5, 10000, 3), v("expensive", 15, 20000, 2)])), {
      cheap: 2,
      expensive: 2,
    });
  });

  it("the cheapest variant may go to zero while another variant still has replicas", () => {
    assert.deepEqual(targets(model(0, 15000, [v("expensive", 15, 20000, 1), v("cheap", 5, 10000, 1)])), {
      expensive: 1,
      cheap: 0,
    });
  });

  it("an expensive variant goes to zero while the cheap one carries the load", () => {
    const r = optimizeCostAware(model(0, 25000, [v("expensive", 15, 20000, 1), v("cheap", 5, 10000, 2)]));
    const by = Object.fromEntries(r.decisions.map((d) => [d.variant, d]));
    assert.equal(by.expensive.targetReplicas, 0);
    assert.equal(by.expensive.reason, "V2 scale-down (optimizer: cost-aware, spare: 25000)");
    assert.equal(by.cheap.targetReplicas, 2, "5000 spare left is less than one cheap replica");
  });

  it("keeps one replica of the cheapest variant when no other variant has replicas", () => {
    assert.deepEqual(targets(model(0, 1e9, [v("expensive", 15, 20000, 2), v("cheap", 5, 10000, 3)])), {
      expensive: 0,
      cheap: 1,
    });
  });

  it("without required or spare capacity every variant stays", () => {
    const r = optimizeCostAware(model(0, 0, [v("v1", 10, 10000, 2)]));
    assert.equal(r.decisions.length, 1);
    assert.equal(r.decisions[0].action, "no-change");
    assert.equal(r.decisions[0].targetReplicas, 2);
    assert.equal(r.decisions[0].reason, "V2 steady state");
  });

  it("decides each model on its own", () => {
    const [m1, m2] = optimizeCostAwareAll([
      model(5000, 0, [v("a", 10, 10000, 1)], "m1"),
      model(0, 10000, [v("b", 10, 10000, 2)], "m2"),
    ]);
    assert.deepEqual([m1.decisions[0].action, m1.decisions[0].targetReplicas], ["scale-up", 2]);
    assert.deepEqual([m2.decisions[0].action, m2.decisions[0].targetReplicas], ["scale-down", 1]);
  });
});

describe("cost-aware optimizer on a token-capacity analysis", () => {
  it("an expensive variant at 1 replica goes to 0 while the cheap one carries the light load", () => {
    const cfg = {
      kvCacheThreshold: 0.8,
      queueLengthThreshold: 5,
      scaleUpThreshold: 0.85,
      scaleDownBoundary: 0.7,
    };
    const replica = (pod: string, variant: string, tokensInUse: number) => ({
      pod,
      variant,
      queueLength: 0,
      tokensInUse,
      totalKvCapacityTokens: 16000,
    });
    const analysis = analyzeTokenCapacity(
      {
        modelID: "m",
        namespace: "ns",
        variants: [
          { name: "cheap", accelerator: "L40S", cost: 5, gpusPerReplica: 1, current: 2, ready: 2 },
          { name: "expensive", accelerator: "H100", cost: 20, gpusPerReplica: 1, current: 1, ready: 1 },
        ],
        replicas: [
          replica("c1", "cheap", 1000),
          replica("c2", "cheap", 1000),
          replica("e1", "expensive", 500),
        ],
      },
      cfg,
      new CapacityStore(),
      0,
    );
    // supply 3 × 12800 = 38400, demand 2500: spare = 38400 − 2500 / 0.7 ≈ 34829
    const r = optimizeCostAware(toCostAwareModel(analysis, { cheap: [{ source: "hpa", maxReplicas: 10 }] }));
    const by = Object.fromEntries(r.decisions.map((d) => [d.variant, d]));
    assert.equal(by.expensive.targetReplicas, 0);
    assert.equal(by.expensive.action, "scale-down");
    assert.equal(
      by.cheap.targetReplicas,
      1,
      "a second replica fits in the spare capacity; the last one stays",
    );
    assert.equal(by.cheap.perReplicaCapacity, 12800);
  });
});

describe("cost-aware optimizer: properties", () => {
  const variantArb = fc.record({
    cost: fc.integer({ min: 1, max: 50 }),
    perReplicaCapacity: fc.integer({ min: 0, max: 50000 }),
    current: fc.integer({ min: 0, max: 10 }),
    max: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
  });
  const modelArb = fc.record({
    required: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 500000 })),
    spare: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 500000 })),
    variants: fc.array(variantArb, { minLength: 1, maxLength: 5 }),
  });
  const toModel = (g: {
    required: number;
    spare: number;
    variants: { cost: number; perReplicaCapacity: number; current: number; max?: number }[];
  }) =>
    model(
      g.required,
      g.spare,
      g.variants.map((x, i) =>
        v(`v${i}`, x.cost, x.perReplicaCapacity, x.current, {
          bounds: x.max === undefined ? undefined : [{ source: "hpa", maxReplicas: x.max }],
        }),
      ),
    );

  it("never takes a variant above its bound (or above its current replicas when already over it)", () => {
    fc.assert(
      fc.property(modelArb, (g) => {
        const m = toModel(g);
        for (const d of optimizeCostAware(m).decisions) {
          const src = m.variants.find((x) => x.name === d.variant) as CostAwareVariant;
          const max = src.bounds?.[0]?.maxReplicas;
          if (max !== undefined) assert.ok(d.targetReplicas <= Math.max(max, src.current));
          assert.ok(d.targetReplicas >= 0);
        }
      }),
    );
  });

  it("a scale-up adds at least the required capacity, or reports what no variant could take", () => {
    fc.assert(
      fc.property(modelArb, (g) => {
        const m = toModel(g);
        if (m.requiredCapacity <= 0) return;
        const r = optimizeCostAware(m);
        let added = 0;
        for (const d of r.decisions) added += (d.targetReplicas - d.currentReplicas) * d.perReplicaCapacity;
        assert.ok(r.decisions.every((d) => d.targetReplicas >= d.currentReplicas));
        assert.ok(added + r.unmetCapacity >= m.requiredCapacity - 1e-9);
        if (r.unmetCapacity > 0) {
          for (const x of m.variants) {
            if (x.perReplicaCapacity > 0)
              assert.ok(x.bounds !== undefined, `unbounded ${x.name} should have grown`);
          }
        }
      }),
    );
  });

  it("a scale-down removes no more than the spare capacity and never empties a model whose cheapest variant runs", () => {
    fc.assert(
      fc.property(modelArb, (g) => {
        const m = { ...toModel(g), requiredCapacity: 0 };
        const r = optimizeCostAware(m);
        let removed = 0;
        for (const d of r.decisions) removed += (d.currentReplicas - d.targetReplicas) * d.perReplicaCapacity;
        assert.ok(removed <= m.spareCapacity);
        // The cheapest variant: lowest cost, first by name (variants are named in order here).
        const cheapest = m.variants.reduce((a, x) => (x.cost < a.cost ? x : a));
        const after = r.decisions.reduce((s, d) => s + d.targetReplicas, 0);
        if (cheapest.current > 0) assert.ok(after >= 1);
      }),
    );
  });
});
