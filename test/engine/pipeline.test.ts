import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decideCycle, decideModel, type ModelInput } from "../../src/engine/pipeline.js";
import type { VariantState } from "../../src/types/decision.js";
import { DEFAULT_THRESHOLDS, NOW, reps, state } from "../support/engine-fixtures.js";
import { ZERO_SATURATION_CONFIG } from "../../src/config/saturation.js";

const model = (
  variants: VariantState[],
  replicas: ModelInput["replicas"],
  over: Partial<ModelInput> = {},
): ModelInput => ({
  modelID: "m",
  namespace: "ns",
  variants,
  replicas,
  config: DEFAULT_THRESHOLDS,
  ...over,
});
const idle = (v: string, n: number) =>
  reps(
    v,
    Array.from({ length: n }, () => [0.5, 1] as [number, number]),
  );

describe("decision conversion", () => {
  it("one decision per variant including no-change, action from target vs current, reason prefix", () => {
    // b's previous decision 5 is not realised yet (current 3): the model is in transition and keeps it.
    const variants = [
      state("a", { current: 3 }),
      state("b", { current: 3, desired: 5 }),
      state("c", { current: 2 }),
    ];
    const r = decideModel(model(variants, [...idle("a", 3), ...idle("b", 3), ...idle("c", 2)]), {
      now: NOW,
    }).result;
    assert.deepEqual(
      r.decisions.map((d) => [d.variantName, d.targetReplicas, d.action]),
      [
        ["a", 3, "no-change"],
        ["b", 5, "scale-up"],
        ["c", 2, "no-change"],
      ],
    );
    // Upstream's reason is exactly `saturation-only mode: <action>`; ours keeps that prefix and adds
    // the explanation of each stage so every decision can be explained.
    for (const d of r.decisions)
      assert.ok(d.reason.startsWith(`saturation-only mode: ${d.action} (`), d.reason);
    assert.match(
      r.decisions[1].reason,
      /model in transition \(b: desired\(5\)!=current\(3\)\); keeping previous decision 5/,
    );
  });

  it("a cycle without any metrics completes and keeps every variant", () => {
    const zero = { ...ZERO_SATURATION_CONFIG };
    const variants = ["va-1", "va-2", "va-3"].map((n) => state(n, { accelerator: "A100", current: 1 }));
    const r = decideCycle(
      { models: [model(variants, [], { config: zero })], enableLimiter: false },
      { now: NOW },
    );
    assert.equal(r.models.length, 1);
    assert.deepEqual(
      r.models[0].decisions.map((d) => [d.variantName, d.targetReplicas, d.metricsAvailable]),
      [
        ["va-1", 1, false],
        ["va-2", 1, false],
        ["va-3", 1, false],
      ],
    );
  });
});

describe("engine pipeline", () => {
  it("records one step per stage with name, action, target, reason, wasConstrained", () => {
    const variants = [state("cheap", { cost: 5, current: 2 }), state("dear", { cost: 20, current: 2 })];
    const r = decideModel(
      model(variants, [
        ...reps("cheap", [
          [0.75, 2],
          [0.76, 2],
        ]),
        ...reps("dear", [
          [0.75, 2],
          [0.76, 2],
        ]),
      ]),
      {
        now: NOW,
      },
    ).result;
    const cheap = r.decisions[0];
    assert.equal(cheap.targetReplicas, 3);
    assert.deepEqual(
      cheap.steps.map((s) => [s.name, s.action, s.target, s.wasConstrained]),
      [
        ["saturation-targets", "scale-up", 3, false],
        ["scale-to-zero-enforcer", "scale-up", 3, false],
      ],
    );
    assert.equal(cheap.spareCapacity > 0, true);
    assert.equal(cheap.metricsAvailable, true);
  });

  it("scale-to-zero: no requests ⇒ every variant 0 and the reason says why", () => {
    const variants = [state("a", { current: 1 }), state("b", { current: 1 })];
    const r = decideModel(
      model(variants, [...idle("a", 1), ...idle("b", 1)], {
        scaleToZero: { enabled: true, requestCount: 0, retentionMs: 600_000 },
      }),
      { now: NOW },
    ).result;
    assert.equal(r.scaledToZero, true);
    assert.deepEqual(
      r.decisions.map((d) => [d.targetReplicas, d.action]),
      [
        [0, "scale-down"],
        [0, "scale-down"],
      ],
    );
    assert.match(r.decisions[0].reason, /No requests in retention period in the last 10m, scaling to zero/);
    assert.equal(r.decisions[0].steps[1].wasConstrained, true);
  });

  it("metrics of pods whose variant is not listed are ignored", () => {
    const r = decideModel(
      model([state("a", { current: 2 })], [...idle("a", 2), ...reps("ghost", [[0.99, 9]])]),
      { now: NOW },
    ).result;
    assert.equal(r.analysis.totalReplicas, 2);
  });

  it("a variant without metrics in an analysed model keeps its replicas and says so", () => {
    const r = decideModel(model([state("a", { current: 2 }), state("b", { current: 0 })], idle("a", 2)), {
      now: NOW,
    }).result;
    const b = r.decisions.find((d) => d.variantName === "b")!;
    assert.equal(b.targetReplicas, 0);
    assert.equal(b.metricsAvailable, false);
    assert.match(b.reason, /no replica metrics for this variant; keeping current replicas/);
  });

  it("the GPU limiter runs over all models of the cycle, most saturated first", () => {
    const hot = model([state("h", { current: 1, accelerator: "H100" })], reps("h", [[0.79, 4]]), {
      modelID: "hot",
    });
    const warm = model([state("w", { current: 1, accelerator: "H100" })], reps("w", [[0.75, 1]]), {
      modelID: "warm",
    });
    const r = decideCycle(
      { models: [warm, hot], enableLimiter: true, gpuInventory: { H100: 3 } },
      { now: NOW },
    );
    assert.deepEqual(
      r.models.map((m) => m.modelID),
      ["hot", "warm"],
    );
    const [h, w] = r.models.map((m) => m.decisions[0]);
    assert.equal(h.targetReplicas, 2);
    assert.equal(h.wasLimited, false);
    assert.equal(w.targetReplicas, 1);
    assert.equal(w.originalTargetReplicas, 2);
    assert.equal(w.wasLimited, true);
    assert.equal(w.action, "no-change");
    assert.match(w.reason, /gpu-limiter: limited: allocated 0 GPUs for \+0 replicas/);
  });

  it("the limiter's grant is a bound: a cheapest variant without GPUs passes the step to the next (V1 and V2)", () => {
    // A100 cheaper but every A100 GPU in use; H100 has room
    const a100 = state("a100", { current: 2, accelerator: "A100", cost: 10 });
    const h100 = state("h100", { current: 1, accelerator: "H100", cost: 20 });
    const hot = [
      ...reps("a100", [
        [0.79, 4],
        [0.79, 4],
      ]),
      ...reps("h100", [[0.79, 4]]),
    ];
    for (const analyzerName of ["", "saturation"]) {
      const tokens =
        analyzerName === "saturation" ? { tokensInUse: 12_600, totalKvCapacityTokens: 16_000 } : {};
      const m = model(
        [a100, h100],
        hot.map((r) => ({ ...r, ...tokens })),
        {
          config: { ...DEFAULT_THRESHOLDS, analyzerName },
        },
      );
      const r = decideCycle(
        { models: [m], enableLimiter: true, gpuInventory: { A100: 2, H100: 8 } },
        { now: NOW },
      );
      const [a, h] = r.models[0].decisions;
      assert.equal(a.targetReplicas, 2, `${analyzerName || "V1"}: the A100 has no GPU left`);
      assert.equal(a.wasLimited, true);
      assert.ok(a.originalTargetReplicas > 2);
      assert.match(a.reason, /GPU limiter grant 2/);
      assert.ok(h.targetReplicas > 1, `${analyzerName || "V1"}: the H100 takes the step (${h.reason})`);
      assert.equal(h.wasLimited, false);
    }
  });

  it("the limiter is skipped when disabled or without inventory", () => {
    const m = model([state("h", { current: 1 })], reps("h", [[0.79, 4]]));
    for (const input of [
      { models: [m], enableLimiter: false, gpuInventory: { H100: 0 } },
      { models: [m], enableLimiter: true },
    ]) {
      const d = decideCycle(input, { now: NOW }).models[0].decisions[0];
      assert.equal(d.targetReplicas, 2);
      assert.equal(
        d.steps.some((s) => s.name === "gpu-limiter"),
        false,
      );
    }
  });

  it("the cycle carries transition state between calls and drops models that left", () => {
    const stuck = model(
      [state("v", { current: 4, desired: 5 })],
      reps("v", [
        [0.1, 0],
        [0.1, 0],
        [0.1, 0],
        [0.1, 0],
      ]),
    );
    const c1 = decideCycle(
      { models: [stuck], enableLimiter: false },
      { now: NOW, state: { firstSeen: { "gone|x": 1 } } },
    );
    assert.deepEqual(c1.state.firstSeen, { "m|ns": NOW });
    const c2 = decideCycle(
      { models: [stuck], enableLimiter: false },
      { now: NOW + 600_000, state: c1.state },
    );
    assert.equal(c2.models[0].transitionReleased, true);
    // released: decided from current (4); scale-down is safe at this load ⇒ 3
    assert.equal(c2.models[0].decisions[0].targetReplicas, 3);
    assert.match(c2.models[0].decisions[0].reason, /transition lock released after 10m0s/);
  });
});
