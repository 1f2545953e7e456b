import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeTimeMs, prefillTimeMs } from "../../src/analyze/queueing-model/performance.js";
import {
  EngineError,
  VllmEngine,
  type EngineConfig,
  type RequestSpec,
} from "../../src/playground/vllm/engine.js";

const CFG: Partial<EngineConfig> = {
  maxBatch: 8,
  kvBlocks: 1000,
  blockSize: 16,
  alpha: 10,
  beta: 0.1,
  gamma: 0.001,
};
const REQ: RequestSpec = { inputTokens: 100, outputTokens: 50 };

/**
 * End times of the iterations of one request alone: the prefill iteration (alpha + (beta+gamma)·in) makes
 * the first token, then decode iteration k (k tokens generated so far) takes alpha + beta + gamma·(in + k).
 */
function aloneTokenTimes(c: Partial<EngineConfig>, r: RequestSpec): number[] {
  const alpha = c.alpha ?? 0;
  const beta = c.beta ?? 0;
  const gamma = c.gamma ?? 0;
  let t = alpha + (beta + gamma) * r.inputTokens;
  const times = [t];
  for (let k = 1; k < r.outputTokens; k++) {
    t += alpha + beta + gamma * (r.inputTokens + k);
    times.push(t);
  }
  return times;
}

/** Work (ms beyond alpha) of one request over its life: its prefill plus every decode iteration. */
function requestWork(c: Partial<EngineConfig>, r: RequestSpec): number {
  const times = aloneTokenTimes(c, r);
  return times[times.length - 1] - r.outputTokens * (c.alpha ?? 0);
}

/** Drives the engine with arrivals every 1000/rate ms for `durationMs`, sampling every `stepMs` of virtual time. */
function drive(engine: VllmEngine, ratePerSec: number, durationMs: number, warmupMs: number, stepMs = 5) {
  const gap = 1000 / ratePerSec;
  let nextArrival = 0;
  let samples = 0;
  let running = 0;
  let waiting = 0;
  let kv = 0;
  let maxWaiting = 0;
  let maxRunning = 0;
  for (let t = 0; t <= durationMs; t += stepMs) {
    while (nextArrival <= t) {
      engine.advance(nextArrival);
      engine.submit(REQ);
      nextArrival += gap;
    }
    engine.advance(t);
    const s = engine.stats();
    assert.ok(s.usedBlocks <= engine.config.kvBlocks, "KV blocks never exceed the budget");
    assert.ok(s.running <= engine.config.maxBatch, "running never exceeds the max batch");
    maxWaiting = Math.max(maxWaiting, s.waiting);
    maxRunning = Math.max(maxRunning, s.running);
    if (t >= warmupMs) {
      samples++;
      running += s.running;
      waiting += s.waiting;
      kv += s.kvUsage;
    }
  }
  return {
    running: running / samples,
    waiting: waiting / samples,
    kv: kv / samples,
    maxWaiting,
    maxRunning,
    last: engine.stats(),
  };
}

describe("vLLM emulator engine (virtual time)", () => {
  it("one request alone: TTFT is its prefill iteration, then one decode iteration per further token", () => {
    const e = new VllmEngine(CFG);
    let done: { ttft: number; e2e: number } | undefined;
    const tokens: number[] = [];
    e.submit(REQ, { onDone: (c) => (done = c), onToken: (_i, t) => tokens.push(t) });
    // KV right after admission: prompt + the first token's slot
    assert.equal(e.stats().usedBlocks, Math.ceil(101 / 16));
    assert.equal(e.stats().running, 1);
    e.advance(10_000);
    assert.ok(done);
    // prefill: 10 + 0.101·100 = 20.1 ms; decodes: Σ_{k=1..49} (10.1 + 0.001·(100 + k)) = 501.025 ms
    assert.ok(Math.abs(done.ttft - 20.1) < 1e-9, `ttft ${done.ttft}`);
    assert.ok(Math.abs(done.e2e - 521.125) < 1e-9, `e2e ${done.e2e}`);
    const expected = aloneTokenTimes(CFG, REQ);
    assert.equal(tokens.length, 50);
    tokens.forEach((t, i) => assert.ok(Math.abs(t - expected[i]) < 1e-9, `token ${i + 1} at ${t}`));
    assert.equal(e.stats().usedBlocks, 0);
    assert.equal(e.stats().completed, 1);
    assert.equal(e.stats().iterations, 50);
  });

  it("KV blocks grow with generated tokens: ceil((in + generated + 1) / blockSize)", () => {
    const e = new VllmEngine(CFG);
    const spec = { inputTokens: 16, outputTokens: 40 };
    e.submit(spec);
    const ends = aloneTokenTimes(CFG, spec);
    assert.equal(e.stats().usedBlocks, 2); // prompt 16 + the first token's slot = 17 tokens
    e.advance((ends[14] + ends[15]) / 2); // iteration with 15 tokens generated: 32 slots
    assert.equal(e.stats().usedBlocks, 2);
    e.advance((ends[15] + ends[16]) / 2); // 16 generated, the next token needs slot 33
    assert.equal(e.stats().usedBlocks, 3);
  });

  it("below capacity: (almost) no queue, mean batch and KV use follow n = λ·(prefill(n) + (o−1)·decode(n))", () => {
    const e = new VllmEngine(CFG);
    const rate = 5; // req/s, capacity is 8 / (50·alpha + 8·work per request) ≈ 12 req/s
    const r = drive(e, rate, 60_000, 5_000);
    // Little's law with the model's law, the other requests in the batch averaging n: time in service
    // S(n) = prefill(n) + (o−1)·decode(n) is linear in n, so n = λ·S(n) has a closed-form solution.
    const lambda = rate / 1000;
    const p = { alpha: CFG.alpha!, beta: CFG.beta!, gamma: CFG.gamma! };
    const service = (n: number) => prefillTimeMs(p, REQ, n) + 49 * decodeTimeMs(p, REQ, n);
    const slope = service(1) - service(0);
    const n = (lambda * service(0)) / (1 - lambda * slope);
    // arrivals wait only for the current iteration to end
    assert.ok(r.maxWaiting <= 1, `max waiting ${r.maxWaiting}`);
    assert.ok(r.waiting < 0.1, `mean waiting ${r.waiting}`);
    assert.ok(Math.abs(r.running - n) / n < 0.05, `mean running ${r.running} vs model ${n}`);
    let blocks = 0;
    for (let j = 0; j < 50; j++) blocks += Math.ceil((100 + j + 1) / 16);
    const kvModel = (n * (blocks / 50)) / 1000;
    assert.ok(Math.abs(r.kv - kvModel) / kvModel < 0.05, `mean KV ${r.kv} vs model ${kvModel}`);
  });

  it("above capacity: the batch is full and the queue grows at λ − μmax", () => {
    const e = new VllmEngine(CFG);
    const rate = 20;
    const duration = 60_000;
    const r = drive(e, rate, duration, 10_000);
    // a full batch of 8 requests takes 50 iterations (alpha each) plus the work of all 8 to complete them
    const muMax = 8 / (50 * CFG.alpha! + 8 * requestWork(CFG, REQ)); // req/ms
    const expectedQueue = (rate / 1000 - muMax) * duration;
    assert.equal(r.last.running, 8);
    assert.ok(
      Math.abs(r.last.waiting - expectedQueue) / expectedQueue < 0.05,
      `queue ${r.last.waiting} vs ${expectedQueue}`,
    );
    const completedRate = r.last.completed / duration;
    assert.ok(Math.abs(completedRate - muMax) / muMax < 0.05, `throughput ${completedRate} vs ${muMax}`);
  });

  it("a small KV budget limits the batch, preempts, and still never exceeds the budget", () => {
    const cfg = { ...CFG, kvBlocks: 40 };
    const e = new VllmEngine(cfg);
    const r = drive(e, 20, 20_000, 2_000);
    // each request needs at least ceil(101/16) = 7 blocks, so at most 5 run at once
    assert.ok(r.maxRunning <= 5, `max running ${r.maxRunning}`);
    assert.ok(r.last.preempted > 0, "growth beyond the budget preempts");
    assert.ok(r.kv > 0.8, `KV stays near full, mean ${r.kv}`);
    assert.ok(r.maxWaiting > 0);
  });

  it("rejects requests that can never fit and requests beyond the queue cap", () => {
    const e = new VllmEngine({ ...CFG, kvBlocks: 10, maxQueue: 1, maxBatch: 1 });
    assert.throws(
      () => e.submit({ inputTokens: 150, outputTokens: 20 }),
      (err: EngineError) => err.status === 400,
    );
    e.submit({ inputTokens: 10, outputTokens: 5 });
    e.submit({ inputTokens: 10, outputTokens: 5 });
    assert.throws(
      () => e.submit({ inputTokens: 10, outputTokens: 5 }),
      (err: EngineError) => err.status === 429 && /queue is full/.test(err.message),
    );
    assert.equal(e.stats().rejected, 2);
    assert.throws(() => e.submit({ inputTokens: 0, outputTokens: 5 }), /inputTokens must be an integer >= 1/);
  });

  it("pause freezes the state; resume continues; cancel frees blocks", () => {
    const e = new VllmEngine(CFG);
    const id = e.submit(REQ);
    e.pause();
    e.advance(100_000);
    assert.equal(e.stats().running, 1);
    assert.equal(e.stats().completed, 0);
    e.resume();
    e.advance(200_000);
    assert.equal(e.stats().completed, 1);
    const id2 = e.submit(REQ);
    assert.notEqual(id, id2);
    assert.equal(e.cancel(id2), true);
    assert.equal(e.stats().usedBlocks, 0);
    assert.equal(e.cancel(id2), false);
  });

  it("driven by its next event (as the simulator does) or by small clock steps (as the server does), it gives the same results", () => {
    const cfg: Partial<EngineConfig> = { ...CFG, kvBlocks: 120 };
    const arrivals = Array.from({ length: 60 }, (_, i) => ({
      t: i * 37,
      spec: { inputTokens: 50 + ((i * 53) % 400), outputTokens: 5 + ((i * 17) % 60) },
    }));
    const run = (byEvents: boolean) => {
      const e = new VllmEngine(cfg);
      const done: string[] = [];
      const submit = (a: (typeof arrivals)[number]) =>
        e.submit(a.spec, { onDone: (c) => done.push(`${c.id}:${c.firstToken}:${c.finish}`) });
      let i = 0;
      while (i < arrivals.length || e.nextEventTime() !== undefined) {
        while (i < arrivals.length && arrivals[i].t <= e.now()) {
          assert.equal(e.now(), arrivals[i].t, "every arrival is submitted at its own time");
          submit(arrivals[i++]);
        }
        if (byEvents) e.advance(Math.min(arrivals[i]?.t ?? Infinity, e.nextEventTime() ?? Infinity));
        else e.advance(e.now() + 1);
      }
      return { done, stats: e.stats() };
    };
    const events = run(true);
    const clock = run(false);
    assert.equal(events.done.length, 60);
    assert.ok(events.stats.preempted > 0, "the small KV budget makes it preempt");
    assert.deepEqual(events.done, clock.done);
    assert.equal(events.stats.iterations, clock.stats.iterations);
  });

  it("invalid configuration names the field", () => {
    assert.throws(() => new VllmEngine({ maxBatch: 0 }), /maxBatch must be an integer >= 1/);
    assert.throws(() => new VllmEngine({ beta: -1 }), /beta must be a number >= 0/);
    assert.throws(() => new VllmEngine({ alpha: 0, beta: 0, gamma: 0 }), /must not all be 0/);
  });
});
