import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LearnedParameters } from "../../src/analyze/queueing-model/learning.js";
import { stateAround, type TunerObservation } from "../../src/analyze/queueing-model/tuner.js";
import { loadScenarioFile, normalizeScenario, ScenarioError } from "../../src/playground/runner/scenario.js";
import { PodWindows } from "../../src/simulate/pod-window.js";
import { simulate } from "../../src/simulate/simulate.js";
import type { SimPod } from "../../src/simulate/world.js";
import { validDoc } from "../playground/scenario-cases.js";

const pod = (id: number, served: SimPod["served"]) => ({ id, served }) as SimPod;

describe("wva-model policy", () => {
  it("pod windows: completed requests per second, averages per request and per output token", () => {
    const w = new PodWindows();
    const zero = { requests: 0, inputTokens: 0, outputTokens: 0, ttftMs: 0, itlMs: 0, itlCount: 0 };
    w.record([pod(1, zero)], 0);
    assert.equal(w.window(pod(1, zero)), undefined);
    const later = {
      requests: 20,
      inputTokens: 2000,
      outputTokens: 1000,
      ttftMs: 4000,
      itlMs: 9800,
      itlCount: 980,
    };
    w.record([pod(1, later)], 10_000);
    assert.deepEqual(w.window(pod(1, later)), {
      arrivalRatePerSec: 2,
      avgInputTokens: 100,
      avgOutputTokens: 50,
      ttftMs: 200,
      itlMs: 10,
    });
    w.record([], 20_000);
    assert.equal(w.window(pod(1, later)), undefined);
  });

  it("learned parameters: a rejected step leaves the stored state unchanged and is reported", () => {
    const start = stateAround({ alpha: 6, beta: 0.05, gamma: 0.0006 });
    const learned = new LearnedParameters({ "ns/v": start });
    const absurd: TunerObservation = {
      arrivalRatePerSec: 1,
      avgInputTokens: 128,
      avgOutputTokens: 128,
      maxBatchSize: 16,
      ttftMs: 1e6,
      itlMs: 1e5,
    };
    const r = learned.learn(new Map([["ns/v", [absurd]]]));
    assert.deepEqual(r.changed, []);
    assert.equal(r.rejected.length, 1);
    assert.deepEqual(learned.snapshot()["ns/v"], start);
  });

  it("scales the cheapest variant for a load step within the model's latency targets", () => {
    const r = simulate(loadScenarioFile("examples/scenarios/direct-step.yaml"), {
      seed: 1,
      policies: ["wva-model"],
    });
    const [p] = r.policies;
    assert.ok(p.scalingActions > 0);
    const peak = Math.max(
      ...p.timeline.flatMap((e) =>
        e.variants.filter((v) => v.variant === "llama-8b-l4").map((v) => v.desired),
      ),
    );
    assert.ok(peak >= 3, `l4 peak desired ${peak}`);
    assert.ok(p.sloAttainment >= 0.95, `SLO attainment ${p.sloAttainment}`);
  });

  it("a scenario selects the engine with saturation.analyzerName; an unknown name is refused", () => {
    const doc = { ...validDoc(), saturation: { analyzerName: "queueing-model" } };
    const s = normalizeScenario(doc);
    assert.equal(s.saturation.analyzerName, "queueing-model");
    const [wva, model] = simulate(s, { seed: 2, policies: ["wva", "wva-model"] }).policies;
    assert.equal(wva.cost, model.cost);
    assert.deepEqual(wva.timeline, model.timeline);
    assert.throws(
      () => normalizeScenario({ ...validDoc(), saturation: { analyzerName: "v9" } }),
      (e: unknown) => e instanceof ScenarioError && e.field === "saturation.analyzerName",
    );
  });
});
