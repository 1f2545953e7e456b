import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { modelArrivals } from "../../src/playground/runner/run.js";
import { normalizeScenario } from "../../src/playground/runner/scenario.js";
import { validDoc } from "./scenario-cases.js";

/* eslint-disable @typescript-eslint/no-explicit-any */
describe("playground load arrivals", () => {
  it("a schedule gives rate x duration arrivals per step (constant arrival), cut at the trial's end", () => {
    const d = validDoc() as any;
    d.models[0].load.arrival = "constant";
    const m = normalizeScenario(d).models[0]; // 2 req/s for 30 s, then 10 req/s for 30 s
    const all = modelArrivals(m, 60_000, 1).arrivals;
    assert.equal(all.length, 2 * 30 + 10 * 30);
    assert.ok(all.every((a) => a.inputTokens === 100 && a.outputTokens === 50));
    const cut = modelArrivals(m, 40_000, 1).arrivals;
    assert.equal(cut.length, 60 + 100);
    assert.ok(cut.every((a) => a.t < 40_000));
  });

  it("the same seed sends the same Poisson load", () => {
    const m = normalizeScenario(validDoc()).models[0];
    assert.deepEqual(modelArrivals(m, 60_000, 7).arrivals, modelArrivals(m, 60_000, 7).arrivals);
    assert.notDeepEqual(modelArrivals(m, 60_000, 7).arrivals, modelArrivals(m, 60_000, 8).arrivals);
  });

  it("a trace is compressed, started at `start`, cut at the end, and its sizes capped to the KV cache", () => {
    const d = validDoc() as any;
    delete d.models[0].load.schedule;
    d.models[0].load.trace = {
      file: "examples/traces/azure-llm-2023-code-12min.csv",
      timeScale: 4,
      start: "180s",
    };
    d.models[0].variants[0].emulator = { kvBlocks: 100, blockSize: 16 }; // 1,600 tokens
    const m = normalizeScenario(d).models[0];
    const { arrivals, info } = modelArrivals(m, 30_000, 1);
    assert.ok(arrivals.length > 0);
    assert.ok(arrivals.every((a) => a.t >= 0 && a.t < 30_000));
    assert.ok(arrivals.every((a) => a.inputTokens + a.outputTokens <= 1600));
    assert.equal(info?.timeCompression, 4);
    // 30 s of compressed time from 45 s (180 s / 4) covers trace seconds 180-300
    const full = modelArrivals(m, 1e9, 1).arrivals;
    assert.ok(full.length > arrivals.length);
  });
});
