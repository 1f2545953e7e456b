import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { QueueAnalyzer } from "../../src/analyze/queueing-model/analyzer.js";
import {
  decodeTimeMs,
  iterationTimeMs,
  prefillTimeMs,
  serviceRatesPerMs,
} from "../../src/analyze/queueing-model/performance.js";
import { solveStateDependentQueue } from "../../src/analyze/queueing-model/queue.js";
import { bisect, withinTolerance } from "../../src/analyze/queueing-model/search.js";

/** Relative tolerance 1e-3 with an absolute floor (1e-3 by default) for values near zero. */
function close(actual: number, expected: number, rel = 1e-3, abs = 1e-3): void {
  const ok = Math.abs(actual - expected) <= Math.max(rel * Math.abs(expected), abs);
  assert.ok(ok, `expected ${expected}, got ${actual}`);
}

describe("iteration-time law", () => {
  it("prefill time grows with the prompt and the batch, and is 0 without a prompt", () => {
    const p = { alpha: 10, beta: 0.01, gamma: 0.001 };
    assert.equal(prefillTimeMs(p, { inputTokens: 0, outputTokens: 0 }, 4), 0);
    close(prefillTimeMs(p, { inputTokens: 1000, outputTokens: 0 }, 1), 32);
    close(prefillTimeMs(p, { inputTokens: 2000, outputTokens: 0 }, 8), 208);
    close(prefillTimeMs(p, { inputTokens: 500, outputTokens: 0 }, 2.5), 29.25);
    close(iterationTimeMs(p, { inputTokens: 1000, outputTokens: 0 }, 1), 21);
  });

  it("decode time per token follows alpha + n·(beta·compute + gamma·memory) + beta + gamma·memory", () => {
    const p = { alpha: 1, beta: 0.1, gamma: 0.01 };
    const r = { inputTokens: 1, outputTokens: 1 };
    close(decodeTimeMs(p, r, 1), 1.23);
    close(decodeTimeMs(p, r, 4), 1.575);
    close(decodeTimeMs(p, r, 8), 2.035);
    close(decodeTimeMs(p, r, 2.5), 1.4025);
  });

  it("reproduces the iteration, prefill and decode times of a 100/200-token request", () => {
    const p = { alpha: 5, beta: 0.2, gamma: 0.015 };
    const r = { inputTokens: 100, outputTokens: 200 };
    close(iterationTimeMs(p, r, 1), 8.298508);
    close(prefillTimeMs(p, r, 1), 29.798508);
    close(decodeTimeMs(p, r, 1), 11.4985075);
    close(decodeTimeMs(p, r, 16), 60.97612);
  });
});

describe("bisection search", () => {
  it("accepts exact matches and relative tolerances", () => {
    assert.equal(withinTolerance(1, 1, 0.01), true);
    assert.equal(withinTolerance(1.005, 1, 0.01), true);
    assert.equal(withinTolerance(1.02, 1, 0.01), false);
    assert.equal(withinTolerance(0.1, 0, 0.01), false);
    assert.equal(withinTolerance(1, 1, -0.01), true);
    assert.equal(withinTolerance(0, 0, 0.01), true);
  });

  it("finds the target, reports targets outside the range and hits boundaries", () => {
    const near = (r: { x: number; indicator: number }, x: number, ind: number) => {
      assert.equal(r.indicator, ind);
      close(r.x, x, 1e-6, 1e-6);
    };
    near(
      bisect(0, 10, 4, (x) => x * x),
      2.0000005,
      0,
    );
    near(
      bisect(1, 5, 6, (x) => 2 * x),
      3,
      0,
    );
    near(
      bisect(2, 5, 1, (x) => 2 * x),
      2,
      -1,
    );
    near(
      bisect(1, 3, 10, (x) => 2 * x),
      3,
      1,
    );
    near(
      bisect(1, 5, -3, (x) => -x),
      3,
      0,
    );
    near(
      bisect(1, 5, 2, (x) => 2 * x),
      1,
      0,
    );
    near(
      bisect(1, 10, 5, () => 5),
      1,
      0,
    );
    near(
      bisect(1, 10, 3, () => 5),
      10,
      1,
    );
    near(
      bisect(1, 5, 5, (x) => (x < 3 ? 1 : 10)),
      3,
      0,
    );
    near(
      bisect(3, 3, 6, (x) => 2 * x),
      3,
      0,
    );
    assert.ok(Math.abs(bisect(1, 5, 9, (x) => 2 * x + 3).x - 3) <= 1e-3);
    assert.throws(() => bisect(5, 1, 6, (x) => 2 * x), /invalid range/);
    assert.throws(
      () =>
        bisect(4, 6, 9, (x) => {
          if (x > 5) throw new Error("out of domain");
          return x;
        }),
      /out of domain/,
    );
  });
});

describe("state-dependent queue", () => {
  it("matches the reference solutions for rising arrival rates", () => {
    const rates = [1, 2, 3];
    const a = solveStateDependentQueue(0.5, rates, 5)!;
    close(a.busyProbability, 0.39389688);
    close(a.meanInSystem, 0.50263065);
    close(a.meanInService, 0.4998246);
    close(a.responseMs, 1.005614);
    close(a.waitMs, 0.005614);
    close(a.serviceMs, 1);
    close(a.throughputPerMs, 0.4998246);
    const b = solveStateDependentQueue(1.5, rates, 5)!;
    close(b.busyProbability, 0.78305084);
    close(b.meanInSystem, 1.5762712);
    close(b.responseMs, 1.0839161);
    close(b.waitMs, 0.08391607);
    const c = solveStateDependentQueue(2.8, rates, 5)!;
    close(c.meanInService, 2.3036911);
    close(c.responseMs, 1.2363253);
    close(c.waitMs, 0.23632526);
    const idle = solveStateDependentQueue(0, rates, 5)!;
    assert.equal(idle.emptyProbability, 1);
    assert.equal(idle.fullProbability, 0);
    assert.equal(idle.throughputPerMs, 0);
    assert.ok(Number.isNaN(idle.responseMs));
    assert.equal(solveStateDependentQueue(-1, rates, 5), undefined);
  });

  it("holds the full-batch rate in queueing states and has no wait when every state is in service", () => {
    const e2 = solveStateDependentQueue(1, [2, 4, 6], 4)!;
    close(e2.meanInSystem, 0.5010526);
    close(e2.waitMs, 0.0021097);
    close(e2.throughputPerMs, 0.99789476);
    const e3 = solveStateDependentQueue(0.5, [1, 2], 5)!;
    close(e3.busyProbability, 0.39976555);
    close(e3.meanInSystem, 0.53106683);
    close(e3.waitMs, 0.06338024);
    const e4 = solveStateDependentQueue(1.5, [3, 3, 3, 3, 3], 5)!;
    close(e4.meanInSystem, 0.9047619);
    close(e4.throughputPerMs, 1.4761904);
    assert.equal(e4.waitMs, 0);
    close(e4.serviceMs, 0.61290324);
    const e5 = solveStateDependentQueue(10, [1, 2, 3, 4, 5], 5)!;
    close(e5.busyProbability, 0.99932325);
    close(e5.meanInSystem, 4.3604784);
  });

  it("stays finite when the state products overflow, and cuts a negligible tail short", () => {
    const flooded = solveStateDependentQueue(1000, [0.001], 200)!;
    assert.ok(Number.isFinite(flooded.meanInSystem));
    close(flooded.meanInSystem, 200);
    close(flooded.throughputPerMs, 0.001);
    close(flooded.fullProbability, 1);
    const idle = solveStateDependentQueue(1e-6, [1, 2, 3], 10_000)!;
    assert.equal(idle.fullProbability, 0);
    close(idle.meanInSystem, 1e-6, 1e-9, 0);
    close(idle.throughputPerMs, 1e-6, 1e-9, 0);
  });

  it("agrees with a plain state-by-state solution at light, medium and heavy load", () => {
    const reference = (lambda: number, rates: number[], k: number) => {
      const q = [1];
      for (let n = 1; n <= k; n++) q.push((q[n - 1] * lambda) / rates[Math.min(n, rates.length) - 1]);
      const total = q.reduce((a, b) => a + b, 0);
      const p = q.map((v) => v / total);
      const l = p.reduce((a, v, i) => a + i * v, 0);
      const s = p.reduce((a, v, i) => a + Math.min(i, rates.length) * v, 0);
      const x = lambda * (1 - p[k]);
      return { l, s, x, w: Math.max(l / x - s / x, 0) };
    };
    const rates = serviceRatesPerMs(
      { alpha: 6, beta: 0.03, gamma: 0.0002 },
      { inputTokens: 512, outputTokens: 128 },
      64,
    );
    for (const share of [0.01, 0.3, 0.8, 0.95, 0.9995, 1.2]) {
      const lambda = share * rates[63];
      const got = solveStateDependentQueue(lambda, rates, 64 * 11)!;
      const want = reference(lambda, rates, 64 * 11);
      close(got.meanInSystem, want.l, 1e-9, 0);
      close(got.meanInService, want.s, 1e-9, 0);
      close(got.throughputPerMs, want.x, 1e-9, 0);
      close(got.waitMs, want.w, 1e-6, 1e-9);
    }
  });

  it("rejects a replica that holds a single request", () => {
    assert.equal(solveStateDependentQueue(0.5, [1], 1), undefined);
    const a = new QueueAnalyzer({
      maxBatchSize: 1,
      maxQueueSize: 0,
      params: { alpha: 1, beta: 0.01, gamma: 0.001 },
      request: { inputTokens: 10, outputTokens: 10 },
    });
    assert.throws(() => a.analyze(a.rateRange.maxPerSec / 2), /no solution/);
  });
});

describe("queue analyzer", () => {
  const params = { alpha: 1, beta: 0.01, gamma: 0.001 };
  const make = (inputTokens: number, outputTokens: number, maxBatchSize = 8, maxQueueSize = 16, p = params) =>
    new QueueAnalyzer({ maxBatchSize, maxQueueSize, params: p, request: { inputTokens, outputTokens } });

  it("derives service rates and the admissible rate range in req/s", () => {
    const a = make(100, 10);
    const expected = [
      0.06449532, 0.11261261, 0.14988759, 0.17961384, 0.20387359, 0.2240478, 0.24108835, 0.25567275,
    ];
    a.ratesPerMs.forEach((r, i) => close(r, expected[i]));
    close(a.rateRange.minPerSec, 0.06449532);
    close(a.rateRange.maxPerSec, 255.41708);
    assert.deepEqual(serviceRatesPerMs(params, { inputTokens: 100, outputTokens: 10 }, 8), [...a.ratesPerMs]);
  });

  it("turns a request rate into TTFT, ITL and throughput", () => {
    const a = make(100, 10);
    const m = a.analyze(127.70854);
    close(m.throughputPerSec, 127.70851);
    close(m.responseMs, 21.891424);
    close(m.waitMs, 0.1938343);
    close(m.meanInService, 2.7709668);
    close(m.prefillMs, 2.6680484);
    close(m.itlMs, 1.9029541);
    close(m.ttftMs, 4.764837);
    close(m.utilization, 0.34637085);
    const hot = a.analyze(229.87537);
    close(hot.throughputPerSec, 226.95076);
    close(hot.waitMs, 14.204987);
    close(hot.itlMs, 2.557836);
    close(hot.ttftMs, 20.213392);
    close(hot.utilization, 0.82351726);
    assert.throws(() => a.analyze(280.9588), /max allowed rate/);
    assert.throws(() => a.analyze(0), /invalid request rate/);
    assert.throws(() => a.analyze(-1), /invalid request rate/);
  });

  it("sizes a replica: a TPS target caps the rate at 90 % of the maximum", () => {
    const a = make(100, 10);
    const s = a.size({ ttftMs: 50, itlMs: 5, tps: 100 });
    close(s.ratePerSec.ttft, 255.417);
    close(s.ratePerSec.itl, 255.417);
    close(s.ratePerSec.tps, 229.875);
    close(s.metrics.throughputPerSec, 226.95076);
    close(s.achieved.ttftMs, 20.213);
    close(s.achieved.itlMs, 2.558);
    close(s.achieved.tps, 2269.508);
    for (const t of [
      { ttftMs: 0, itlMs: 0 },
      { ttftMs: 50, itlMs: 5 },
    ]) {
      const u = a.size(t);
      close(u.metrics.throughputPerSec, 243.55475);
      close(u.metrics.ttftMs, 32.347355);
      close(u.metrics.itlMs, 2.6700187);
      close(u.metrics.utilization, 0.9228811);
    }
    assert.throws(() => a.size({ ttftMs: -1, itlMs: 0 }), /ttftMs: target must be >= 0/);
  });

  it("sizes decode-only requests", () => {
    const a = make(0, 10);
    close(a.ratesPerMs[0], 0.09717315);
    close(a.ratesPerMs[7], 0.70939136);
    close(a.rateRange.maxPerSec, 708.682);
    const s = a.size({ ttftMs: 50, itlMs: 5, tps: 100 });
    close(s.metrics.throughputPerSec, 628.6864);
    close(s.metrics.itlMs, 1.1189258);
    close(s.metrics.ttftMs, 6.886812);
    const one = make(0, 1);
    close(one.rateRange.minPerSec, 0.9842521);
    close(one.rateRange.maxPerSec, 7578.9478);
    const s1 = one.size({ ttftMs: 50, itlMs: 5 });
    close(s1.metrics.throughputPerSec, 7209.089);
    close(s1.metrics.itlMs, 1.0530863);
  });

  it("fails sizing when a target is below what the replica reaches at the lowest rate", () => {
    const slow = make(100, 10, 4, 8, { alpha: 1, beta: 0.01, gamma: 10 });
    assert.throws(() => slow.size({ ttftMs: 25, itlMs: 0 }), /TTFT target 25 ms is below the bounded region/);
    assert.throws(() => slow.size({ ttftMs: 0, itlMs: 2 }), /ITL target 2 ms is below the bounded region/);
  });

  it("sizes a 100/200-token workload against TTFT 2000 ms / ITL 500 ms with the TTFT search binding", () => {
    const a = make(100, 200, 16, 160, { alpha: 5, beta: 0.2, gamma: 0.015 });
    const s = a.size({ ttftMs: 2000, itlMs: 500 });
    close(s.ratePerSec.ttft, 1.154);
    close(s.ratePerSec.itl, 1.302);
    close(s.metrics.throughputPerSec, 1.1536255);
    close(s.metrics.waitMs, 1893.6);
  });

  it("rejects invalid configurations naming the field", () => {
    assert.throws(() => make(100, 10, 0), /maxBatchSize: must be a positive integer/);
    assert.throws(() => make(100, 10, 8, -1), /maxQueueSize/);
    assert.throws(() => make(-1, 10), /inputTokens: must be >= 0/);
    assert.throws(() => make(100, 0), /outputTokens: must be >= 1/);
    assert.throws(() => make(100, 10, 8, 16, { alpha: Number.NaN, beta: 0, gamma: 0 }), /params.alpha/);
  });
});
