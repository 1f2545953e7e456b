/** Arrival patterns and token-size distributions of the load generator. Times are ms from the start. */

export interface Arrival {
  t: number;
  inputTokens: number;
  outputTokens: number;
}

export type TokenDist =
  | { kind: "fixed"; value: number }
  | { kind: "uniform"; min: number; max: number }
  | { kind: "normal"; mean: number; sd: number }
  | { kind: "exponential"; mean: number };

export class LoadSpecError extends Error {}

/**
 * What one load generator process can plan and send. Inputs beyond them are refused with the field
 * named instead of exhausting memory or overflowing timers.
 */
export const LOAD_LIMITS = {
  /** Requests per second. */
  maxRate: 10_000,
  /** Length of one run in milliseconds (24 h). */
  maxDurationMs: 24 * 60 * 60 * 1000,
  /** Requests in one run (arrivals are planned in memory before the first one is sent). */
  maxRequests: 1_000_000,
  /** Prompt or output tokens of one request (the largest context windows served today). */
  maxTokens: 131_072,
  /** Trace rows sent per row on average. */
  maxRateScale: 1000,
  /** Per-request timeout in milliseconds (1 h). */
  maxTimeoutMs: 60 * 60 * 1000,
} as const;

/** Deterministic PRNG (mulberry32) so runs with the same seed send the same load. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Parses a token distribution: `256` (fixed), `uniform:100-400`, `normal:256,64`, `exp:200`
 * (exponential with that mean). Samples are rounded and at least 1.
 */
export function parseTokenDist(text: string, field: string): TokenDist {
  const s = text.trim();
  const num = (v: string) => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n < 0) {
      throw new LoadSpecError(
        `${field}: "${text}" must be N, uniform:MIN-MAX, normal:MEAN,SD or exp:MEAN with numbers >= 0`,
      );
    }
    if (n > LOAD_LIMITS.maxTokens) {
      throw new LoadSpecError(`${field}: ${v} must be at most ${LOAD_LIMITS.maxTokens} tokens`);
    }
    return n;
  };
  let d: TokenDist;
  if (/^\d+(\.\d+)?$/.test(s)) d = { kind: "fixed", value: num(s) };
  else if (s.startsWith("uniform:")) {
    const [a, b] = s.slice(8).split("-");
    d = { kind: "uniform", min: num(a ?? ""), max: num(b ?? "") };
    if (d.min > d.max)
      throw new LoadSpecError(`${field}: uniform minimum ${d.min} is above maximum ${d.max}`);
  } else if (s.startsWith("normal:")) {
    const [a, b] = s.slice(7).split(",");
    d = { kind: "normal", mean: num(a ?? ""), sd: num(b ?? "") };
  } else if (s.startsWith("exp:")) d = { kind: "exponential", mean: num(s.slice(4)) };
  else throw new LoadSpecError(`${field}: "${text}" must be N, uniform:MIN-MAX, normal:MEAN,SD or exp:MEAN`);
  return d;
}

export function sampleTokens(d: TokenDist, rng: () => number): number {
  let v: number;
  switch (d.kind) {
    case "fixed":
      v = d.value;
      break;
    case "uniform":
      v = d.min + (d.max - d.min) * rng();
      break;
    case "normal": {
      const u = Math.max(rng(), 1e-12);
      v = d.mean + d.sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
      break;
    }
    case "exponential":
      v = -d.mean * Math.log(Math.max(1 - rng(), 1e-12));
      break;
  }
  return Math.min(LOAD_LIMITS.maxTokens, Math.max(1, Math.round(v)));
}

export interface TokenSpec {
  input: TokenDist;
  output: TokenDist;
}

function withTokens(times: number[], tokens: TokenSpec, rng: () => number): Arrival[] {
  return times.map((t) => ({
    t,
    inputTokens: sampleTokens(tokens.input, rng),
    outputTokens: sampleTokens(tokens.output, rng),
  }));
}

/**
 * Checks a rate (requests per second) and a duration against LOAD_LIMITS; `where` names the fields in
 * the message (e.g. `schedule[2]`).
 */
export function checkRate(
  rate: number,
  durationMs: number,
  where = "",
  maxRequests: number = LOAD_LIMITS.maxRequests,
): void {
  const f = (name: string) => (where ? `${where}: ${name}` : name);
  if (!Number.isFinite(rate) || rate <= 0)
    throw new LoadSpecError(`${f("rate")} must be a number > 0 (requests per second), got ${rate}`);
  if (rate > LOAD_LIMITS.maxRate)
    throw new LoadSpecError(
      `${f("rate")} must be at most ${LOAD_LIMITS.maxRate} requests per second, got ${rate}`,
    );
  if (!Number.isFinite(durationMs) || durationMs <= 0)
    throw new LoadSpecError(`${f("duration")} must be > 0, got ${durationMs} ms`);
  if (durationMs > LOAD_LIMITS.maxDurationMs)
    throw new LoadSpecError(`${f("duration")} must be at most 24h, got ${durationMs} ms`);
  checkRequests(
    (rate * durationMs) / 1000,
    where ? `${where}: rate × duration` : "rate × duration",
    maxRequests,
  );
}

/** Refuses a run of more than `maxRequests` requests (by default the load generator's limit). */
export function checkRequests(
  requests: number,
  field: string,
  maxRequests: number = LOAD_LIMITS.maxRequests,
): void {
  if (requests > maxRequests) {
    throw new LoadSpecError(
      `${field}: ${Math.ceil(requests)} requests exceed the limit of ${maxRequests} per run`,
    );
  }
}

/** Evenly spaced arrivals: one every 1/rate seconds. */
export function constantArrivals(
  rate: number,
  durationMs: number,
  tokens: TokenSpec,
  rng: () => number,
  maxRequests: number = LOAD_LIMITS.maxRequests,
): Arrival[] {
  checkRate(rate, durationMs, "", maxRequests);
  const times: number[] = [];
  for (let i = 0; ; i++) {
    const t = (i * 1000) / rate;
    if (t >= durationMs) break;
    times.push(t);
  }
  return withTokens(times, tokens, rng);
}

/** Poisson arrivals: exponential inter-arrival times with mean 1/rate. */
export function poissonArrivals(
  rate: number,
  durationMs: number,
  tokens: TokenSpec,
  rng: () => number,
  maxRequests: number = LOAD_LIMITS.maxRequests,
): Arrival[] {
  checkRate(rate, durationMs, "", maxRequests);
  const times: number[] = [];
  let t = 0;
  for (;;) {
    t += (-Math.log(Math.max(1 - rng(), 1e-12)) * 1000) / rate;
    if (t >= durationMs) break;
    times.push(t);
  }
  return withTokens(times, tokens, rng);
}

/** A step schedule: `[[seconds, rate], ...]`, each step constant (or Poisson) at its rate. */
export function stepArrivals(
  schedule: Array<[number, number]>,
  tokens: TokenSpec,
  rng: () => number,
  poisson = false,
  maxRequests: number = LOAD_LIMITS.maxRequests,
): Arrival[] {
  if (!Array.isArray(schedule) || schedule.length === 0) {
    throw new LoadSpecError("schedule must be a non-empty list of [seconds, rate] pairs");
  }
  const out: Arrival[] = [];
  let offset = 0;
  let requests = 0;
  schedule.forEach((step, i) => {
    if (!Array.isArray(step) || step.length !== 2 || !(step[0] > 0) || !(step[1] >= 0)) {
      throw new LoadSpecError(`schedule[${i}] must be [seconds > 0, rate >= 0], got ${JSON.stringify(step)}`);
    }
    const [sec, rate] = step;
    if (offset + sec * 1000 > LOAD_LIMITS.maxDurationMs) {
      throw new LoadSpecError(`schedule[${i}]: the steps must last at most 24h in total`);
    }
    if (rate > 0) {
      checkRate(rate, sec * 1000, `schedule[${i}]`, maxRequests);
      requests += rate * sec;
      checkRequests(requests, "schedule", maxRequests);
      const part = poisson
        ? poissonArrivals(rate, sec * 1000, tokens, rng, maxRequests)
        : constantArrivals(rate, sec * 1000, tokens, rng, maxRequests);
      for (const a of part) out.push({ ...a, t: a.t + offset });
    }
    offset += sec * 1000;
  });
  return out;
}

/** Parses a step schedule given as JSON `[[seconds, rate], ...]`. */
export function parseSchedule(text: string): Array<[number, number]> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new LoadSpecError(`schedule: "${text}" is not JSON; expected [[seconds, rate], ...]`);
  }
  if (!Array.isArray(v)) throw new LoadSpecError("schedule must be a JSON list of [seconds, rate] pairs");
  return v as Array<[number, number]>;
}

export interface TraceOptions {
  /** Divide the trace's time axis by this factor (60 = one trace hour in one minute). Default 1. */
  timeCompression?: number;
  /** Requests per trace row, on average (0.5 keeps half of them, 2 sends each twice). Default 1. */
  rateScale?: number;
  /** Stop after this much (compressed) time. */
  durationMs?: number;
  /** Cap the token counts (the emulator rejects requests larger than its KV cache). */
  maxInputTokens?: number;
  maxOutputTokens?: number;
}

export interface TraceInfo {
  rows: number;
  requests: number;
  traceSpanSec: number;
  timeCompression: number;
  rateScale: number;
  meanRate: number;
}

/**
 * Reads a trace in the Azure LLM inference trace format (`TIMESTAMP,ContextTokens,GeneratedTokens`, one row
 * per request; timestamps like `2023-11-16 18:17:03.9799600`) into arrivals relative to the first row.
 */
export function traceArrivals(
  csv: string,
  opts: TraceOptions,
  rng: () => number,
): { arrivals: Arrival[]; info: TraceInfo } {
  const compression = opts.timeCompression ?? 1;
  const scale = opts.rateScale ?? 1;
  if (!(compression > 0)) throw new LoadSpecError(`time-compression must be > 0, got ${compression}`);
  if (!(scale > 0) || scale > LOAD_LIMITS.maxRateScale)
    throw new LoadSpecError(`rate-scale must be > 0 and at most ${LOAD_LIMITS.maxRateScale}, got ${scale}`);
  if (opts.durationMs !== undefined && !(opts.durationMs > 0))
    throw new LoadSpecError(`duration must be > 0, got ${opts.durationMs} ms`);
  const lines = csv.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length === 0) throw new LoadSpecError("trace is empty");
  const header = lines[0].split(",").map((h) => h.trim());
  const iT = header.indexOf("TIMESTAMP");
  const iIn = header.indexOf("ContextTokens");
  const iOut = header.indexOf("GeneratedTokens");
  if (iT < 0 || iIn < 0 || iOut < 0) {
    throw new LoadSpecError(
      `trace header must have TIMESTAMP,ContextTokens,GeneratedTokens, got "${lines[0]}"`,
    );
  }
  const arrivals: Arrival[] = [];
  let t0: number | undefined;
  let last = 0;
  let rows = 0;
  for (let n = 1; n < lines.length; n++) {
    const cols = lines[n].split(",");
    const ts = parseTraceTime(cols[iT] ?? "");
    const inTok = Number(cols[iIn]);
    const outTok = Number(cols[iOut]);
    if (ts === undefined || !Number.isFinite(inTok) || !Number.isFinite(outTok)) {
      throw new LoadSpecError(`trace line ${n + 1}: cannot parse "${lines[n]}"`);
    }
    t0 ??= ts;
    const t = (ts - t0) / compression;
    if (opts.durationMs !== undefined && t >= opts.durationMs) break;
    // without a cut-off the whole (compressed) trace is played: at most 24h of it
    if (opts.durationMs === undefined && t > LOAD_LIMITS.maxDurationMs) {
      throw new LoadSpecError(
        `trace line ${n + 1}: more than 24h after the first row once compressed; use duration or time-compression`,
      );
    }
    rows++;
    last = ts - t0;
    const copies = Math.floor(scale) + (rng() < scale - Math.floor(scale) ? 1 : 0);
    checkRequests(arrivals.length + copies, "trace");
    for (let c = 0; c < copies; c++) {
      arrivals.push({
        t,
        inputTokens: Math.max(1, Math.min(inTok, opts.maxInputTokens ?? LOAD_LIMITS.maxTokens)),
        outputTokens: Math.max(1, Math.min(outTok, opts.maxOutputTokens ?? LOAD_LIMITS.maxTokens)),
      });
    }
  }
  const spanSec = last / 1000;
  const playedSec = opts.durationMs !== undefined ? opts.durationMs / 1000 : spanSec / compression;
  return {
    arrivals,
    info: {
      rows,
      requests: arrivals.length,
      traceSpanSec: spanSec,
      timeCompression: compression,
      rateScale: scale,
      meanRate: playedSec > 0 ? arrivals.length / playedSec : 0,
    },
  };
}

function parseTraceTime(text: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?/.exec(text.trim());
  if (!m) return undefined;
  const frac = m[3] ? Number(`0${m[3]}`) * 1000 : 0;
  const base = Date.parse(`${m[1]}T${m[2]}Z`);
  return Number.isFinite(base) ? base + frac : undefined;
}
