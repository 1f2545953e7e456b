import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { arrivalsFromOptions } from "../../src/cli/commands/load.js";
import { UsageError } from "../../src/cli/usage-error.js";
import {
  LOAD_LIMITS,
  constantArrivals,
  parseSchedule,
  parseTokenDist,
  poissonArrivals,
  sampleTokens,
  seededRandom,
  stepArrivals,
  traceArrivals,
} from "../../src/playground/load/patterns.js";
import { percentiles, runLoad } from "../../src/playground/load/runner.js";
import { VllmEmulator } from "../../src/playground/vllm/server.js";

const SAMPLE = "test/fixtures/traces/azure-code-sample.csv";
/** The full hour of the trace, shipped with the examples. */
const FULL = "examples/traces/azure-llm-2023-code.csv";
const fixed = { input: { kind: "fixed" as const, value: 10 }, output: { kind: "fixed" as const, value: 5 } };

describe("load patterns", () => {
  it("constant: one request every 1/rate seconds", () => {
    const a = constantArrivals(4, 2000, fixed, seededRandom(1));
    assert.deepEqual(
      a.map((x) => x.t),
      [0, 250, 500, 750, 1000, 1250, 1500, 1750],
    );
    assert.throws(() => constantArrivals(0, 1000, fixed, Math.random), /rate must be a number > 0/);
  });

  it("poisson: mean rate close to the requested rate, reproducible with a seed", () => {
    const a = poissonArrivals(50, 200_000, fixed, seededRandom(7));
    const rate = a.length / 200;
    assert.ok(Math.abs(rate - 50) / 50 < 0.05, `rate ${rate}`);
    assert.deepEqual(
      poissonArrivals(5, 10_000, fixed, seededRandom(3)),
      poissonArrivals(5, 10_000, fixed, seededRandom(3)),
    );
  });

  it("step: rates per step with offsets", () => {
    const a = stepArrivals(parseSchedule("[[2, 1], [1, 0], [1, 4]]"), fixed, seededRandom(1));
    assert.deepEqual(
      a.map((x) => x.t),
      [0, 1000, 3000, 3250, 3500, 3750],
    );
    assert.throws(() => stepArrivals([[0, 1]], fixed, Math.random), /schedule\[0\] must be/);
    assert.throws(() => parseSchedule("nope"), /not JSON/);
  });

  it("token distributions parse and sample within their bounds", () => {
    const rng = seededRandom(5);
    const u = parseTokenDist("uniform:100-200", "--input");
    for (let i = 0; i < 1000; i++) {
      const v = sampleTokens(u, rng);
      assert.ok(v >= 100 && v <= 200);
    }
    const n = parseTokenDist("normal:256,32", "--input");
    let sum = 0;
    for (let i = 0; i < 5000; i++) sum += sampleTokens(n, rng);
    assert.ok(Math.abs(sum / 5000 - 256) < 3);
    assert.equal(sampleTokens(parseTokenDist("64", "--output"), rng), 64);
    assert.ok(sampleTokens(parseTokenDist("exp:50", "--output"), rng) >= 1);
    assert.throws(
      () => parseTokenDist("uniform:9-1", "--input"),
      /--input: uniform minimum 9 is above maximum 1/,
    );
    assert.throws(() => parseTokenDist("lots", "--output"), /--output: "lots" must be/);
  });

  it("trace: the Azure trace replays with time compression and rate scaling", () => {
    const csv = readFileSync(SAMPLE, "utf8");
    const full = traceArrivals(csv, {}, seededRandom(1));
    assert.equal(full.info.rows, 400);
    assert.equal(full.arrivals[0].t, 0);
    assert.equal(full.arrivals[0].inputTokens, 4808);
    assert.equal(full.arrivals[0].outputTokens, 10);
    assert.ok(Math.abs(full.arrivals[1].t - 52) < 1e-6, "timestamps keep sub-millisecond digits");
    const span = full.arrivals[full.arrivals.length - 1].t;
    const fast = traceArrivals(csv, { timeCompression: 60 }, seededRandom(1));
    assert.ok(Math.abs(fast.arrivals[fast.arrivals.length - 1].t - span / 60) < 1e-6);
    assert.ok(Math.abs(fast.info.meanRate - full.info.meanRate * 60) / (full.info.meanRate * 60) < 1e-9);
    const half = traceArrivals(csv, { rateScale: 0.5 }, seededRandom(1));
    assert.ok(Math.abs(half.arrivals.length / 400 - 0.5) < 0.08, `kept ${half.arrivals.length}`);
    const double = traceArrivals(
      csv,
      { rateScale: 2, durationMs: 60_000, maxInputTokens: 1000 },
      seededRandom(1),
    );
    assert.equal(double.arrivals.length, 2 * double.info.rows);
    assert.ok(double.arrivals.every((a) => a.t < 60_000 && a.inputTokens <= 1000));
    assert.throws(() => traceArrivals("a,b\n1,2", {}, Math.random), /header must have TIMESTAMP/);
    assert.throws(
      () => traceArrivals("TIMESTAMP,ContextTokens,GeneratedTokens\nyesterday,1,2", {}, Math.random),
      /line 2/,
    );
  });

  it("trace: the full Azure code trace (about 8,800 requests over about an hour) parses", () => {
    const r = traceArrivals(readFileSync(FULL, "utf8"), {}, seededRandom(1));
    assert.ok(r.info.rows >= 8818, `rows ${r.info.rows}`);
    assert.ok(r.info.traceSpanSec > 3000 && r.info.traceSpanSec < 3700, `span ${r.info.traceSpanSec}`);
  });

  it("percentiles use the nearest rank", () => {
    const p = percentiles(Array.from({ length: 100 }, (_, i) => i + 1));
    assert.deepEqual([p.p50, p.p95, p.p99, p.mean], [50, 95, 99, 50.5]);
    assert.deepEqual(percentiles([]), { p50: 0, p95: 0, p99: 0, mean: 0 });
  });
});

describe("load runner against the emulator", () => {
  let emu: VllmEmulator;
  let url: string;
  before(async () => {
    emu = new VllmEmulator({
      model: "m",
      engine: { alpha: 30, beta: 0.01, gamma: 0.0001, maxQueue: 2, maxBatch: 1 },
    });
    url = (await emu.start()).url;
  });
  after(() => emu.stop());

  it("reports sent, completed, failed and latency percentiles", async () => {
    const arrivals = constantArrivals(
      50,
      200,
      { input: { kind: "fixed", value: 8 }, output: { kind: "fixed", value: 4 } },
      seededRandom(1),
    );
    const r = await runLoad({ target: url, model: "m", arrivals, pattern: "constant" });
    assert.equal(r.requests.sent, 10);
    assert.equal(r.requests.completed + r.requests.failed, 10);
    assert.ok(r.requests.completed > 0);
    assert.ok(r.ttftMs.p50 > 0 && r.e2eMs.p99 >= r.e2eMs.p50);
    assert.ok(r.itlMs.mean > 0);
    const wrong = await runLoad({ target: url, model: "other", arrivals: arrivals.slice(0, 2) });
    assert.equal(wrong.requests.failed, 2);
    assert.equal(wrong.errors["HTTP 404"], 2);
  });

  it("rejects overflowing the waiting queue as failures (HTTP 429)", async () => {
    emu.pause();
    const burst = Array.from({ length: 5 }, () => ({ t: 0, inputTokens: 4, outputTokens: 2 }));
    const run = runLoad({ target: url, model: "m", arrivals: burst, timeoutMs: 30_000 });
    // resume once the requests are in
    while (emu.stats().running + emu.stats().waiting + emu.stats().rejected < 5)
      await new Promise((r) => setTimeout(r, 10));
    emu.resume();
    const r = await run;
    assert.equal(r.requests.failed, 2);
    assert.equal(r.errors["HTTP 429"], 2);
    assert.equal(r.requests.completed, 3);
  });
});

describe("wva load / wva emulate CLI input errors", () => {
  const wva = (...args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", "src/cli/wva.ts", ...args], { encoding: "utf8" });
  for (const [args, msg] of [
    [["load", "--model", "m"], /--target: required/],
    [["load", "--target", "ftp://x", "--model", "m"], /--target: must be an http\(s\) URL/],
    [["load", "--target", "http://x"], /--model: required/],
    [["load", "--target", "http://x", "--model", "m", "--pattern", "burst"], /--pattern: must be one of/],
    [
      ["load", "--target", "http://x", "--model", "m", "--rate", "-1", "--duration", "1s"],
      /--rate: must be a number > 0/,
    ],
    [
      ["load", "--target", "http://x", "--model", "m", "--rate", "1", "--duration", "10"],
      /--duration: invalid duration/,
    ],
    [["load", "--target", "http://x", "--model", "m", "--pattern", "step"], /--schedule: required/],
    [["load", "--target", "http://x", "--model", "m", "--pattern", "trace"], /--trace: required/],
    [
      ["load", "--target", "http://x", "--model", "m", "--pattern", "trace", "--trace", "/nonexistent.csv"],
      /--trace: cannot read/,
    ],
    [
      ["load", "--target", "http://x", "--model", "m", "--rate", "1", "--duration", "1s", "--input", "x"],
      /--input: "x" must be/,
    ],
    [
      ["load", "--target", "http://x", "--model", "m", "--endpoint", "embed"],
      /--endpoint: must be completions or chat/,
    ],
    [
      ["load", "--target", "http://x", "--model", "m", "--rate", "1e9", "--duration", "1s"],
      /--rate: must be at most 10000/,
    ],
    [
      ["load", "--target", "http://x", "--model", "m", "--rate", "1", "--duration", "100000h"],
      /--duration: must be at most 24h/,
    ],
    [
      [
        "load",
        "--target",
        "http://x",
        "--model",
        "m",
        "--rate",
        "1",
        "--duration",
        "1s",
        "--input",
        "1000000000",
      ],
      /--input: 1000000000 must be at most 131072 tokens/,
    ],
    [["emulate", "vllm", "--port", "0"], /--model: required/],
    [
      ["emulate", "vllm", "--model", "m", "--port", "70000"],
      /--port: must be an integer between 0 and 65535/,
    ],
    [["emulate", "vllm", "--model", "m", "--alpha", "-2"], /--alpha: must be a number >= 0/],
    [["emulate", "vllm", "--model", "m", "--alpha", "0", "--beta", "0", "--gamma", "0"], /must not all be 0/],
  ] as Array<[string[], RegExp]>) {
    it(`${args.join(" ")} exits 2 naming the field`, () => {
      const r = wva(...args);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trimEnd().split("\n").length, 1);
      assert.match(r.stderr, msg);
    });
  }

  it("exits 1 with one line when every request failed", () => {
    const r = wva(
      "load",
      "--target",
      "http://127.0.0.1:1",
      "--model",
      "m",
      "--rate",
      "2",
      "--duration",
      "1s",
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /failed 2/);
    assert.deepEqual(r.stderr.trimEnd().split("\n"), ["wva: all 2 request(s) failed"]);
  });
});

describe("load limits", () => {
  const base = { target: "http://x", model: "m", timeCompression: "1", rateScale: "1", seed: "1" };
  const opts = (o: Record<string, string>) => ({
    pattern: "constant",
    input: "256",
    output: "128",
    endpoint: "completions",
    timeout: "180s",
    ...base,
    ...o,
  });
  for (const [o, msg] of [
    [
      { rate: "10000", duration: "101s" },
      /--rate × --duration: 1010000 requests exceed the limit of 1000000/,
    ],
    [{ rate: "1", duration: "1s", output: "exp:200000" }, /--output: 200000 must be at most 131072 tokens/],
    [{ pattern: "step", schedule: "[[86400,1],[1,1]]" }, /schedule\[1\]: the steps must last at most 24h/],
    [{ pattern: "step", schedule: "[[10,20000]]" }, /schedule\[0\]: rate must be at most 10000/],
    [{ pattern: "step", schedule: "[[100,6000],[100,6000]]" }, /schedule: 1200000 requests exceed/],
  ] as Array<[Record<string, string>, RegExp]>) {
    it(`${JSON.stringify(o)} is refused naming the field`, () => {
      assert.throws(
        () => arrivalsFromOptions(opts(o)),
        (e: Error) => e instanceof UsageError && msg.test(e.message),
      );
    });
  }

  it("a scenario's schedule is bounded by the caller's request limit, the generator's by its own", () => {
    const fixed = {
      input: { kind: "fixed" as const, value: 1 },
      output: { kind: "fixed" as const, value: 1 },
    };
    const schedule: Array<[number, number]> = [[101, 10_000]];
    assert.throws(() => stepArrivals(schedule, fixed, seededRandom(1)), /1010000 requests exceed the limit/);
    assert.equal(stepArrivals(schedule, fixed, seededRandom(1), false, 2_000_000).length, 1_010_000);
    assert.throws(
      () => stepArrivals(schedule, fixed, seededRandom(1), false, 1_000_000),
      /schedule\[0\]: rate × duration: 1010000 requests exceed the limit of 1000000/,
    );
  });

  it("a trace's rows and copies are bounded; tokens are capped", () => {
    const rows = [
      "TIMESTAMP,ContextTokens,GeneratedTokens",
      "2023-11-16 18:00:00.0,999999999,5",
      "2023-11-16 18:00:01.0,10,10",
    ];
    const { arrivals } = traceArrivals(rows.join("\n"), {}, seededRandom(1));
    assert.equal(arrivals[0].inputTokens, LOAD_LIMITS.maxTokens);
    assert.throws(
      () => traceArrivals(rows.join("\n"), { rateScale: 1e6 }, seededRandom(1)),
      /rate-scale must be > 0 and at most 1000/,
    );
    const far = [...rows, "2023-11-20 18:00:00.0,10,10"].join("\n");
    assert.throws(
      () => traceArrivals(far, {}, seededRandom(1)),
      /trace line 4: more than 24h after the first row/,
    );
    assert.equal(traceArrivals(far, { timeCompression: 10 }, seededRandom(1)).arrivals.length, 3);
  });
});
