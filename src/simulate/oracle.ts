import type { Arrival } from "../playground/load/patterns.js";
import type { ModelSpec, Slo, VariantSpec } from "../playground/runner/scenario.js";
import { VllmEngine } from "../playground/vllm/engine.js";

/**
 * Capacity of a replica and the cost oracle. See docs/user-guide/simulate.md for what they assume.
 */

/** Share of requests that must meet the latency targets for a rate to count as served. */
export const CAPACITY_ATTAINMENT = 0.95;
/** Requests simulated per capacity probe. */
const PROBE_REQUESTS = 400;
/** The lowest rate probed (req/s); a variant that misses the targets even then gets this capacity. */
export const MIN_CAPACITY = 0.01;
/** Token pairs of the model's load used for the capacity probes (the first ones, in order). */
const MIX_SIZE = 2000;

/** Token pairs of a model's requests: the workload mix a capacity is measured for. */
export function tokenMix(arrivals: readonly Arrival[], m: ModelSpec): Array<[number, number]> {
  if (arrivals.length === 0) return [[m.load.tokens.input, m.load.tokens.output]];
  return arrivals.slice(0, MIX_SIZE).map((a) => [a.inputTokens, a.outputTokens]);
}

/** Share of `count` requests at a steady `rate` (req/s) that one replica serves within the targets. */
function attainmentAt(v: VariantSpec, mix: Array<[number, number]>, slo: Slo, rate: number): number {
  const engine = new VllmEngine({ ...v.emulator, maxQueue: Number.MAX_SAFE_INTEGER });
  const gap = 1000 / rate;
  let met = 0;
  for (let i = 0; i < PROBE_REQUESTS; i++) {
    const t = i * gap;
    engine.advance(t);
    const [input, output] = mix[i % mix.length];
    engine.submit(
      { inputTokens: input, outputTokens: output },
      {
        onDone: (c) => {
          const ttft = c.firstToken - c.arrival;
          const itl = output > 1 ? (c.finish - c.firstToken) / (output - 1) : 0;
          if (ttft <= slo.ttftMs && itl <= slo.itlMs) met++;
        },
      },
    );
  }
  for (let e = engine.nextEventTime(); e !== undefined; e = engine.nextEventTime()) engine.advance(e);
  return met / PROBE_REQUESTS;
}

/**
 * The largest steady request rate (req/s) one replica of `v` serves with at least 95 % of requests within
 * the targets, for the given token mix: doubling, then bisection to 1 % precision.
 */
export function measureCapacity(v: VariantSpec, mix: Array<[number, number]>, slo: Slo): number {
  const ok = (rate: number) => attainmentAt(v, mix, slo, rate) >= CAPACITY_ATTAINMENT;
  if (!ok(MIN_CAPACITY)) return MIN_CAPACITY;
  let lo = MIN_CAPACITY;
  let hi = MIN_CAPACITY * 2;
  while (ok(hi) && hi < 1e6) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > lo * 0.01) {
    const mid = (lo + hi) / 2;
    if (ok(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

export interface OracleVariant {
  cost: number;
  /** Requests per second one replica serves within the targets. */
  capacity: number;
  maxReplicas: number;
}

/**
 * The cheapest replica counts (one per variant) whose capacity covers `demand` req/s with at least one
 * replica in all (none for no demand when `allowZero`, i.e. the model has scale-to-zero), by exhaustive
 * search (the last variant's count follows from the others). When even every variant at its maximum cannot
 * cover it, the demand is cut to what they can serve.
 */
export function cheapestMix(variants: readonly OracleVariant[], demand: number, allowZero = false): number[] {
  const total = variants.reduce((s, v) => s + v.capacity * v.maxReplicas, 0);
  const need = Math.min(demand, total);
  let best: number[] | undefined;
  let bestCost = Infinity;
  const counts = variants.map(() => 0);
  const search = (i: number, covered: number, cost: number, replicas: number) => {
    if (cost >= bestCost) return;
    const v = variants[i];
    if (i === variants.length - 1) {
      let n = Math.max(0, Math.ceil((need - covered) / v.capacity - 1e-9));
      if (replicas + n === 0 && !(allowZero && need <= 0)) n = 1;
      if (n > v.maxReplicas) return;
      const c = cost + n * v.cost;
      if (c < bestCost || (c === bestCost && best === undefined)) {
        bestCost = c;
        counts[i] = n;
        best = [...counts];
      }
      return;
    }
    for (let n = 0; n <= v.maxReplicas; n++) {
      counts[i] = n;
      search(i + 1, covered + n * v.capacity, cost + n * v.cost, replicas + n);
      // more of this variant only costs more
      if (covered + n * v.capacity >= need && (replicas + n > 0 || (allowZero && need <= 0))) break;
    }
    counts[i] = 0;
  };
  search(0, 0, 0, 0);
  return best ?? variants.map((v) => v.maxReplicas);
}

export interface OraclePlan {
  /** Window length, ms: the largest start-up delay of the model's variants (the engine interval if 0). */
  windowMs: number;
  /** Per window, the replica count of each variant (scenario order). */
  windows: number[][];
  /** Per window, the demand (req/s). */
  demand: number[];
  capacities: number[];
}

/**
 * The oracle's plan for one model: per window of the start-up delay, the cheapest mix covering its demand.
 * A model with scale-to-zero has no replica in a window without requests; others keep at least one.
 */
export function oraclePlan(
  m: ModelSpec,
  arrivals: readonly Arrival[],
  durationMs: number,
  engineIntervalMs: number,
  capacities: number[],
): OraclePlan {
  const startup = Math.max(...m.variants.map((v) => v.startupDelayMs));
  const windowMs = startup > 0 ? startup : engineIntervalMs;
  const n = Math.ceil(durationMs / windowMs);
  const counts = new Array<number>(n).fill(0);
  for (const a of arrivals) if (a.t < durationMs) counts[Math.floor(a.t / windowMs)]++;
  const variants: OracleVariant[] = m.variants.map((v, i) => ({
    cost: v.cost,
    capacity: capacities[i],
    maxReplicas: v.maxReplicas,
  }));
  const memo = new Map<number, number[]>();
  const demand = counts.map((c) => c / (windowMs / 1000));
  const windows = counts.map((c, i) => {
    let mix = memo.get(c);
    if (!mix) {
      mix = cheapestMix(variants, demand[i], m.scaleToZero !== undefined);
      memo.set(c, mix);
    }
    return mix;
  });
  return { windowMs, windows, demand, capacities };
}

/** Cost of a plan over the trial (replica-hours × cost). */
export function planCost(m: ModelSpec, plan: OraclePlan, durationMs: number): number {
  let cost = 0;
  plan.windows.forEach((mix, w) => {
    const len = Math.min(plan.windowMs, durationMs - w * plan.windowMs);
    mix.forEach((n, i) => (cost += (n * m.variants[i].cost * len) / 3_600_000));
  });
  return cost;
}
