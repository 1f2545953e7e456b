import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  candidateAllocations,
  createAllocation,
  effectivePriority,
  transitionPenalty,
  type Allocation,
  type ModelDemand,
  type VariantProfile,
  type VariantShare,
} from "../../src/optimize/allocation/allocation.js";
import { solveAllocations, type BestEffortPolicy } from "../../src/optimize/allocation/solver.js";
import type { BoundSource } from "../../src/types/decision.js";

/** "A×4+B×2": the variants and replicas of an allocation, in share order. */
const mix = (a: Allocation): string => a.shares.map((s) => `${s.variant}×${s.replicas}`).join("+");

function close(actual: number, expected: number, rel = 1e-3): void {
  assert.ok(
    Math.abs(actual - expected) <= rel * Math.abs(expected) + 1e-9,
    `expected ${expected}, got ${actual}`,
  );
}

const gpu: VariantProfile = {
  name: "m-test-gpu",
  accelerator: "test-gpu",
  costPerReplica: 100,
  gpusPerReplica: 1,
  maxBatchSize: 16,
  atTokens: 200,
  params: { alpha: 5, beta: 0.2, gamma: 0.015 },
};

function demand(arrivalRatePerSec: number, over: Partial<ModelDemand> = {}): ModelDemand {
  return {
    modelID: "m",
    namespace: "ns",
    targets: { ttftMs: 2000, itlMs: 500 },
    load: { arrivalRatePerSec, avgInputTokens: 100, avgOutputTokens: 200 },
    minReplicas: 1,
    variants: [gpu],
    ...over,
  };
}

/** The allocation of `d` led by `v`, which must be `v` alone. */
function allocationOf(d: ModelDemand, v = gpu): VariantShare {
  const r = createAllocation(d, v);
  assert.ok(r.ok, r.ok ? "" : r.reason);
  assert.equal(r.allocation.shares.length, 1);
  return r.allocation.shares[0];
}

describe("allocation of a model on one variant", () => {
  it("sizes replicas for the load within TTFT 2000 ms / ITL 500 ms", () => {
    const rows: Array<[number, number, number, number, number]> = [
      // req/min, replicas, itl, ttft, utilisation
      [30, 1, 17.262083, 32.251244, 0.10889575],
      [120, 2, 33.792606, 224.77727, 0.42546725],
      [360, 6, 33.792606, 224.77727, 0.42546725],
      [6000, 87, 44.8509, 1830.1323, 0.6487729],
    ];
    for (const [perMin, replicas, itl, ttft, rho] of rows) {
      const a = allocationOf(demand(perMin / 60));
      assert.equal(a.replicas, replicas, `${perMin} req/min`);
      assert.equal(a.cost, 100 * replicas);
      assert.equal(a.batchSize, 16);
      close(a.itlMs, itl);
      close(a.ttftMs, ttft);
      close(a.utilization, rho);
      close(a.maxRatePerReplicaPerSec * 60, 69.21753);
    }
  });

  it("uses the variant's batch size as is when no profiling length is given", () => {
    const a = allocationOf(demand(1), { ...gpu, maxBatchSize: 12, atTokens: undefined });
    assert.equal(a.replicas, 1);
    assert.equal(a.batchSize, 12);
    close(a.itlMs, 32.674583);
    close(a.ttftMs, 725.72864);
    close(a.utilization, 0.5485943);
    close(a.maxRatePerReplicaPerSec * 60, 64.739845);
  });

  it("needs more replicas for tighter targets", () => {
    const a = allocationOf(demand(1, { targets: { ttftMs: 100, itlMs: 50 } }));
    assert.equal(a.replicas, 2);
    close(a.itlMs, 17.262083);
    close(a.ttftMs, 32.251244);
    close(a.maxRatePerReplicaPerSec * 60, 53.344696);
  });

  it("is infeasible when one replica cannot meet the targets even at the lowest rate", () => {
    const r = createAllocation(demand(20, { targets: { ttftMs: 1, itlMs: 0.1 } }), gpu);
    assert.equal(r.ok, false);
    assert.match(r.ok ? "" : r.reason, /TTFT target 1 ms is below the bounded region/);
    const neg = createAllocation(demand(-1), gpu);
    assert.equal(neg.ok, false);
  });

  it("treats a TPS target as a floor on the load to size for", () => {
    const low = allocationOf(demand(0.5, { targets: { ttftMs: 2000, itlMs: 500, tps: 2000 } }));
    assert.equal(low.ratePerSec, 10);
    assert.ok(low.replicas >= 9, `replicas ${low.replicas}`);
    const high = allocationOf(demand(1, { targets: { ttftMs: 2000, itlMs: 500, tps: 2 } }));
    assert.equal(high.ratePerSec, 1);
    assert.equal(high.replicas, 1);
  });

  it("keeps minReplicas under zero load with a light-load rate estimate", () => {
    const a = allocationOf(demand(0));
    assert.deepEqual([a.replicas, a.batchSize, a.cost], [1, 16, 100]);
    close(a.itlMs, 5.2);
    close(a.ttftMs, 5.2);
    close(a.maxRatePerReplicaPerSec, 1194.0299);
    const two = allocationOf(demand(0, { minReplicas: 2 }), {
      ...gpu,
      atTokens: undefined,
      params: { alpha: 5, beta: 2, gamma: 1.5 },
    });
    assert.deepEqual([two.replicas, two.batchSize, two.cost], [2, 16, 200]);
    close(two.itlMs, 7);
    close(two.maxRatePerReplicaPerSec, 363.63637);
    const small = allocationOf(
      demand(0, { load: { arrivalRatePerSec: 3, avgInputTokens: 10, avgOutputTokens: 0 } }),
      {
        ...gpu,
        maxBatchSize: 8,
        costPerReplica: 100,
        params: { alpha: 3, beta: 1, gamma: 2 },
      },
    );
    assert.deepEqual([small.replicas, small.batchSize, small.cost], [1, 8, 100]);
    close(small.ttftMs, 4);
    close(small.maxRatePerReplicaPerSec, 533.33336);
    const none = allocationOf(demand(0, { minReplicas: 0 }));
    assert.deepEqual([none.replicas, none.cost, none.gpus, none.batchSize], [0, 0, 0, 0]);
  });
});

describe("transition penalty", () => {
  it("charges the cost difference on the same variant and 10 % of both costs on a change", () => {
    const from = [{ variant: "a", replicas: 2, cost: 100 }];
    assert.equal(transitionPenalty(from, [{ variant: "a", replicas: 2, cost: 100 }]), 0);
    assert.equal(transitionPenalty(from, [{ variant: "a", replicas: 3, cost: 150 }]), 50);
    close(transitionPenalty(from, [{ variant: "b", replicas: 2, cost: 120 }]), 42);
    close(transitionPenalty([], [{ variant: "a", replicas: 1, cost: 100 }]), 110);
    close(transitionPenalty(from, [{ variant: "a", replicas: 0, cost: 0 }]), -90);
  });

  it("counts a mix as a change unless it keeps the same variants", () => {
    const mix = [
      { variant: "a", replicas: 4, cost: 160 },
      { variant: "b", replicas: 2, cost: 200 },
    ];
    // same variants, one more replica of b: the cost difference only
    assert.equal(transitionPenalty(mix, [mix[0], { variant: "b", replicas: 3, cost: 300 }]), 100);
    // a alone → a and b: 10 % of both costs on top of the difference
    close(transitionPenalty([mix[0]], mix), 200 + 0.1 * (160 + 360));
  });

  it("values candidates by the penalty from the current allocation", () => {
    const fresh = candidateAllocations(demand(0.1)).allocations[0];
    assert.equal(fresh.replicas, 1);
    close(fresh.value, 110);
    close(fresh.shares[0].itlMs, 12.337949);
    close(fresh.shares[0].ttftMs, 27.322948);
    const scaleDown = candidateAllocations(demand(0.1, { current: [{ variant: gpu.name, replicas: 2 }] }))
      .allocations[0];
    assert.equal(scaleDown.value, -100);
  });

  it("clamps priorities to 1..100", () => {
    assert.deepEqual([1, 5, -1, 150, undefined].map(effectivePriority), [1, 5, 100, 100, 100]);
  });
});

/** Two variants of the solver and maximum tests: A is cheaper per replica, B faster. */
const A: VariantProfile = {
  name: "A",
  accelerator: "TA",
  costPerReplica: 10,
  gpusPerReplica: 1,
  maxBatchSize: 16,
  atTokens: 200,
  params: { alpha: 5, beta: 0.2, gamma: 0.015 },
};
const B: VariantProfile = {
  name: "B",
  accelerator: "TB",
  costPerReplica: 25,
  gpusPerReplica: 1,
  maxBatchSize: 32,
  atTokens: 200,
  params: { alpha: 3, beta: 0.1, gamma: 0.008 },
};

describe("solver", () => {
  const model = (id: string, priority: number, perMin: number): ModelDemand => ({
    ...demand(perMin / 60, { modelID: id, priority, variants: [B, A] }),
  });
  const three = () => [model("s1", 1, 120), model("s2", 1, 60), model("s3", 2, 240)];
  const picks = (inv?: Record<string, number>, bestEffort?: BestEffortPolicy, delayedBestEffort = false) =>
    solveAllocations(three(), { gpuInventory: inv, bestEffort, delayedBestEffort }).map((m) =>
      m.chosen ? `${m.modelID} ${mix(m.chosen)} cost ${m.chosen.cost}` : `${m.modelID} none`,
    );

  it("builds candidates per variant sorted by value", () => {
    const vals = three().map((d) =>
      candidateAllocations(d).allocations.map((a) => `${mix(a)} ${a.cost} ${a.value.toFixed(1)}`),
    );
    assert.deepEqual(vals, [
      ["A×2 20 22.0", "B×1 25 27.5"],
      ["A×1 10 11.0", "B×1 25 27.5"],
      ["A×4 40 44.0", "B×2 50 55.0"],
    ]);
  });

  it("unlimited mode takes each model's cheapest candidate", () => {
    assert.deepEqual(picks(), ["s1 A×2 cost 20", "s2 A×1 cost 10", "s3 A×4 cost 40"]);
    assert.deepEqual(picks({ TA: 10, TB: 10 }), ["s1 A×2 cost 20", "s2 A×1 cost 10", "s3 A×4 cost 40"]);
  });

  it("limited mode serves the highest regret first and moves models to the next variant", () => {
    for (const policy of ["None", "PriorityExhaustive", "PriorityRoundRobin", "RoundRobin"] as const) {
      for (const delayed of [false, true]) {
        assert.deepEqual(picks({ TA: 3, TB: 2 }, policy, delayed), [
          "s1 A×2 cost 20",
          "s2 A×1 cost 10",
          "s3 B×2 cost 50",
        ]);
      }
    }
  });

  it("leaves a model without GPUs unallocated unless a best-effort policy scales it down", () => {
    assert.deepEqual(picks({ TA: 2, TB: 1 }, "None"), ["s1 B×1 cost 25", "s2 A×1 cost 10", "s3 none"]);
    for (const policy of ["PriorityExhaustive", "PriorityRoundRobin", "RoundRobin"] as const) {
      const out = solveAllocations(three(), { gpuInventory: { TA: 2, TB: 1 }, bestEffort: policy });
      const s3 = out[2];
      assert.equal(mix(s3.chosen!), "A×1");
      assert.equal(s3.chosen?.cost, 10);
      close(s3.chosen?.value ?? 0, 11);
      assert.equal(s3.bestEffort, true);
      assert.match(s3.reason, /^1 × TA best effort \(GPU limit\)/);
    }
    const none = solveAllocations(three(), { gpuInventory: { TA: 2, TB: 1 } })[2];
    assert.match(none.reason, /no GPUs left for 4 × TA or 2 × TB/);
  });

  it("serves a priority level's best effort before lower levels unless best effort is delayed", () => {
    const models = () => [model("gold", 1, 240), model("silver", 2, 60)];
    const run = (delayedBestEffort: boolean) =>
      solveAllocations(models(), {
        gpuInventory: { TA: 3, TB: 0 },
        bestEffort: "PriorityExhaustive",
        delayedBestEffort,
      }).map((m) => (m.chosen ? `${m.modelID} ${mix(m.chosen)}` : `${m.modelID} none`));
    assert.deepEqual(run(false), ["gold A×3", "silver none"]);
    assert.deepEqual(run(true), ["gold A×2", "silver A×1"]);
  });

  it("gives 1 replica of each variant to two equal models when only one GPU of each exists", () => {
    const five = [1, 2, 3, 4, 5].map((i) => model(`x${i}`, 1, 60));
    for (const delayed of [false, true]) {
      const out = solveAllocations(five, {
        gpuInventory: { TA: 1, TB: 1 },
        bestEffort: "PriorityExhaustive",
        delayedBestEffort: delayed,
      });
      const got = out.filter((m) => m.chosen).map((m) => m.chosen!.shares[0].accelerator);
      assert.deepEqual(got.sort(), ["TA", "TB"]);
    }
  });

  it("never allocates a model without feasible candidates and says why", () => {
    const bad = { ...model("bad", 1, 60), targets: { ttftMs: 1, itlMs: 0 } };
    const out = solveAllocations([bad, model("s2", 1, 60)], { gpuInventory: { TA: 5, TB: 5 } });
    assert.equal(out[0].chosen, undefined);
    assert.match(out[0].reason, /^no variant can meet TTFT 1 ms \(A: TTFT target 1 ms is below/);
    assert.equal(mix(out[1].chosen!), "A×1");
  });

  it("keeps the current variant when asked to", () => {
    const d = { ...model("k", 1, 60), keepVariant: true, current: [{ variant: "B", replicas: 1 }] };
    const [out] = solveAllocations([d]);
    assert.deepEqual(out.candidates.map(mix), ["B×1"]);
    assert.equal(out.chosen?.value, 0);
  });

  it("explains the choice with targets, rates and the next variant's cost", () => {
    const [out] = solveAllocations([model("s3", 2, 240)]);
    assert.equal(
      out.reason,
      "4 × TA meet TTFT 2000 ms / ITL 500 ms at 4 req/s (per replica 1.15 req/s); TB would cost 1.3× more",
    );
    const [idle] = solveAllocations([{ ...model("z", 1, 0), minReplicas: 0 }]);
    assert.equal(idle.chosen?.replicas, 0);
    assert.match(idle.reason, /no load and minReplicas 0/);
  });
});

describe("variant maximums", () => {
  const C: VariantProfile = { ...A, name: "C", accelerator: "TC", costPerReplica: 11 };
  const cap = (
    v: VariantProfile,
    maxReplicas: number,
    source: BoundSource = "annotation",
  ): VariantProfile => ({
    ...v,
    bounds: [{ source, maxReplicas }],
  });
  const model = (rate: number, variants: VariantProfile[], over: Partial<ModelDemand> = {}): ModelDemand =>
    demand(rate, { variants, ...over });
  const shares = (a: Allocation | undefined) =>
    (a?.shares ?? []).map(
      (s) => `${s.variant}×${s.replicas}${s.cappedBy ? ` max ${s.cappedBy.maxReplicas}` : ""}`,
    );

  it("without a maximum the cheapest variant takes the whole load", () => {
    const [out] = solveAllocations([model(4, [B, A])]);
    assert.deepEqual(shares(out.chosen), ["A×4"]);
  });

  it("a capped cheapest variant stays at its maximum and the next cheapest takes the rest", () => {
    const [out] = solveAllocations([model(4, [B, cap(A, 2)])]);
    assert.deepEqual(shares(out.chosen), ["A×2 max 2", "B×1"]);
    const [a, b] = out.chosen!.shares;
    // A serves what two replicas can within the targets, B the remainder
    close(a.ratePerSec, 2 * a.maxRatePerReplicaPerSec);
    close(a.ratePerSec + b.ratePerSec, 4);
    assert.ok(b.ratePerSec < b.maxRatePerReplicaPerSec);
    assert.equal(out.chosen!.cost, 2 * 10 + 25);
    assert.equal(out.chosen!.unmetRatePerSec, 0);
    assert.equal(
      out.reason,
      "2 × TA (at maximum: wva.llmd.ai/max-replicas annotation 2) + 1 × TB meet TTFT 2000 ms / ITL 500 ms " +
        "at 4 req/s (per replica TA 1.15, TB 2.46 req/s); TB would cost 1.1× more",
    );
  });

  it("spills over several capped variants, cheapest capacity first", () => {
    const [out] = solveAllocations([model(8, [B, cap(C, 1, "hpa"), cap(A, 2)])]);
    // cost per req/s: A 8.7, C 9.5, B 10.1
    assert.deepEqual(shares(out.chosen), ["A×2 max 2", "C×1 max 1", "B×2"]);
    assert.equal(out.candidates.length, 2, "the mixes led by A and by C are the same, counted once");
    assert.match(
      out.reason,
      /^2 × TA \(at maximum: wva\.llmd\.ai\/max-replicas annotation 2\) \+ 1 × TC \(at maximum: HPA maxReplicas 1\) \+ 2 × TB meet /,
    );
  });

  it("never gives a variant more than its maximum, whatever the load and minimum", () => {
    for (const rate of [0, 0.5, 3, 9, 40]) {
      for (const minReplicas of [0, 1, 5]) {
        const d = model(rate, [cap(A, 2), cap(B, 3, "hpa"), C], { minReplicas });
        for (const a of candidateAllocations(d).allocations) {
          for (const s of a.shares) {
            const max = s.variant === "A" ? 2 : s.variant === "B" ? 3 : Infinity;
            assert.ok(s.replicas <= max, `${rate} req/s, min ${minReplicas}: ${shares(a).join(" + ")}`);
          }
        }
      }
    }
  });

  it("allocates every maximum and says so when even all of them cannot carry the load", () => {
    const [out] = solveAllocations([model(8, [cap(B, 1, "hpa"), cap(A, 2)])]);
    assert.deepEqual(shares(out.chosen), ["A×2 max 2", "B×1 max 1"]);
    assert.deepEqual(out.candidates.length, 1);
    const served = out.chosen!.shares.reduce((s, x) => s + x.maxRatePerReplicaPerSec * x.replicas, 0);
    close(out.chosen!.unmetRatePerSec, 8 - served);
    assert.equal(
      out.reason,
      "2 × TA (at maximum: wva.llmd.ai/max-replicas annotation 2) + 1 × TB (at maximum: HPA maxReplicas 1): " +
        "load 8 req/s exceeds what the variants can serve at their maximums (4.77 req/s) within " +
        "TTFT 2000 ms / ITL 500 ms (per replica TA 1.15, TB 2.46 req/s)",
    );
  });

  it("keeps minReplicas up to the maximum", () => {
    const [idle] = solveAllocations([model(0, [cap(A, 2)], { minReplicas: 3 })]);
    assert.deepEqual(shares(idle.chosen), ["A×2 max 2"]);
    assert.equal(
      idle.reason,
      "no load: minReplicas 2 × TA (at maximum: wva.llmd.ai/max-replicas annotation 2)",
    );
    const [light] = solveAllocations([model(0.5, [cap(A, 5)], { minReplicas: 3 })]);
    assert.deepEqual(shares(light.chosen), ["A×3"]);
  });

  it("values a mix by the penalty from the current mix: keeping it costs nothing", () => {
    const current = [
      { variant: "A", replicas: 2 },
      { variant: "B", replicas: 1 },
    ];
    const [out] = solveAllocations([model(4, [B, cap(A, 2)], { current })]);
    assert.deepEqual(shares(out.chosen), ["A×2 max 2", "B×1"]);
    assert.equal(out.chosen!.value, 0);
  });

  it("GPU-limited mode grants a mix only when every share fits and keeps the maximum under best effort", () => {
    const d = () => model(4, [B, cap(A, 2)]);
    const [fits] = solveAllocations([d()], { gpuInventory: { TA: 10, TB: 10 } });
    assert.deepEqual(shares(fits.chosen), ["A×2 max 2", "B×1"]);
    // no TB: neither the mix nor B alone fits; A never goes above 2 although 10 TA GPUs are free
    const [none] = solveAllocations([d()], { gpuInventory: { TA: 10, TB: 0 } });
    assert.equal(none.chosen, undefined);
    assert.match(none.reason, /^no GPUs left for 2 × TA \(at maximum: .*\) \+ 1 × TB or 2 × TB$/);
    for (const bestEffort of ["PriorityExhaustive", "RoundRobin"] as const) {
      const [be] = solveAllocations([d()], { gpuInventory: { TA: 10, TB: 0 }, bestEffort });
      assert.deepEqual(shares(be.chosen), ["A×2 max 2"], bestEffort);
      assert.equal(be.bestEffort, true);
      const [one] = solveAllocations([d()], { gpuInventory: { TA: 1, TB: 0 }, bestEffort });
      assert.deepEqual(shares(one.chosen), ["A×1"], bestEffort);
      assert.match(one.reason, /^1 × TA best effort \(GPU limit\) for /);
    }
    // two models: the first takes the mix, the second falls back to B alone
    const two = solveAllocations([d(), { ...d(), modelID: "m2" }], { gpuInventory: { TA: 2, TB: 3 } });
    assert.deepEqual(
      two.map((m) => shares(m.chosen)),
      [["A×2 max 2", "B×1"], ["B×2"]],
    );
  });
});
