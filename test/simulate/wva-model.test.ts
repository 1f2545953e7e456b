import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LearnedParameters } from "../../src/analyze/queueing-model/learning.js";
import { QueueAnalyzer } from "../../src/analyze/queueing-model/analyzer.js";
import { stateAround, type TunerObservation } from "../../src/analyze/queueing-model/tuner.js";
import {
  seededRandom,
  stepArrivals,
  type Arrival,
  type TokenDist,
} from "../../src/playground/load/patterns.js";
import { loadScenarioFile, normalizeScenario, ScenarioError } from "../../src/playground/runner/scenario.js";
import { PodWindows } from "../../src/simulate/pod-window.js";
import { simulate } from "../../src/simulate/simulate.js";
import { World, type SimPod } from "../../src/simulate/world.js";
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

  it("learns the emulator's alpha, beta, gamma from simulated pod windows at varied loads and request sizes", () => {
    const truth = { alpha: 5, beta: 0.05, gamma: 0.0005 };
    const maxBatch = 32;
    const pods = 2;
    const cycles = 32; // 31 engine cycles run before the trial's end; the first only opens the windows
    const scenario = normalizeScenario({
      ...validDoc(),
      engineInterval: "60s",
      actuation: "direct",
      duration: `${cycles * 60}s`,
      models: [
        {
          modelID: "m",
          namespace: "ns",
          variants: [
            {
              name: "v",
              accelerator: "A100",
              cost: 1,
              initialReplicas: pods,
              maxReplicas: pods,
              emulator: { maxBatch, kvBlocks: 8000, blockSize: 16, ...truth },
            },
          ],
          load: { schedule: [{ rate: 1, duration: `${cycles * 60}s` }] },
        },
      ],
    });
    const u = (min: number, max: number): TokenDist => ({ kind: "uniform", min, max });
    // 5-minute phases: share of the model's maximum rate, prompt and output sizes
    const phases: Array<[number, TokenDist, TokenDist]> = [
      [0.3, u(128, 384), u(64, 192)],
      [0.5, u(1536, 2560), u(64, 192)],
      [0.55, u(128, 384), u(192, 320)],
      [0.2, u(768, 1280), u(32, 96)],
      [0.6, u(384, 640), u(96, 160)],
      [0.4, u(1536, 2560), u(256, 512)],
      [0.3, u(128, 384), u(64, 192)],
    ];
    const rng = seededRandom(11);
    const arrivals: Arrival[] = [];
    phases.forEach(([load, input, output], i) => {
      const mid = (d: TokenDist) => (d.kind === "uniform" ? (d.min + d.max) / 2 : 0);
      const { maxPerSec } = new QueueAnalyzer({
        maxBatchSize: maxBatch,
        maxQueueSize: 10 * maxBatch,
        params: truth,
        request: { inputTokens: mid(input), outputTokens: mid(output) },
      }).rateRange;
      for (const a of stepArrivals([[300, load * maxPerSec * pods]], { input, output }, rng, true))
        arrivals.push({ ...a, t: a.t + i * 300_000 });
    });
    for (const scale of [2, 0.5]) {
      const world = new World(scenario, [arrivals]);
      world.setInitial(world.variants[0], pods);
      const windows = new PodWindows();
      const start = stateAround({ alpha: 5 * scale, beta: 0.05 * scale, gamma: 0.0005 * scale });
      const learned = new LearnedParameters({ "ns/v": start });
      let steps = 0;
      const err = (p: typeof truth, k: keyof typeof truth) => Math.abs(p[k] / truth[k] - 1);
      const within = (p: typeof truth) =>
        (["alpha", "beta", "gamma"] as const).every((k) => err(p, k) < 0.15);
      // Learning cycles after which all three were within 15 %.
      const good: number[] = [];
      world.run((now) => {
        const ready = world.variants[0].pods.filter((p) => p.ready);
        windows.record(ready, now);
        const obs = ready.flatMap((p): TunerObservation[] => {
          const w = windows.window(p);
          if (!w) return [];
          const { arrivalRatePerSec, avgInputTokens, avgOutputTokens, ttftMs, itlMs } = w;
          return [
            {
              arrivalRatePerSec: arrivalRatePerSec!,
              avgInputTokens: avgInputTokens!,
              avgOutputTokens: avgOutputTokens!,
              maxBatchSize: maxBatch,
              ttftMs: ttftMs!,
              itlMs: itlMs!,
            },
          ];
        });
        if (obs.length === 0) return;
        steps += obs.length;
        learned.learn(new Map([["ns/v", obs]]));
        if (within(learned.params("ns/v")!)) good.push(steps / pods);
      });
      assert.equal(steps, 2 * 30, `${steps} steps`);
      const p = learned.params("ns/v")!;
      for (const k of ["alpha", "beta", "gamma"] as const) {
        assert.ok(err(p, k) < 0.15, `start ×${scale}: ${k} ${p[k]} is ${(err(p, k) * 100).toFixed(1)} % off`);
      }
      // Within 15 % after 10 of the 30 cycles, and from then on.
      assert.deepEqual(
        good.slice(-21),
        Array.from({ length: 21 }, (_, i) => 10 + i),
        `start ×${scale}: ${good}`,
      );
    }
  });
});
