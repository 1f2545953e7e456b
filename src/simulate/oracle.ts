import type { Arrival } from "../playground/load/patterns.js";
import type { ModelSpec, Scenario, Slo, VariantSpec } from "../playground/runner/scenario.js";
import { VllmEngine } from "../playground/vllm/engine.js";
import { World } from "./world.js";

/**
 * The cost oracle, and the steady-state capacity of a replica reported beside it. See
 * docs/user-guide/simulate.md for what they assume.
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

/** A window's arrivals and the replicas serving them. */
export interface ServedWindow {
  arrivals: readonly Arrival[];
  mix: readonly number[];
}

/**
 * Requests of one window meeting the targets, per replica mix (one count per variant): the window's
 * arrivals replayed with the simulator's router through pods of that mix, Ready from the start, until the
 * last request finishes. With `previous`, the replay starts one window earlier with that window's
 * arrivals on its own mix, and switches to the mix at the boundary, so requests still running then weigh
 * on the window as they do in the plan's replay; only the window's own requests count. Each mix is
 * replayed once.
 */
export class WindowReplay {
  private readonly memo = new Map<string, number>();
  private readonly scenario: Scenario;
  private readonly arrivals: Arrival[];
  private readonly offset: number;
  private readonly previousMix?: readonly number[];
  readonly requests: number;

  /** `arrivals`: the model's arrivals in `[start, start + lengthMs)`; `previous`: the window before it. */
  constructor(
    scenario: Scenario,
    m: ModelSpec,
    arrivals: readonly Arrival[],
    start: number,
    lengthMs: number,
    previous?: ServedWindow & { lengthMs: number },
  ) {
    this.offset = previous && previous.arrivals.length > 0 ? previous.lengthMs : 0;
    this.previousMix = this.offset > 0 ? previous!.mix : undefined;
    const from = start - this.offset;
    this.scenario = { ...scenario, models: [m], durationMs: this.offset + lengthMs };
    this.arrivals = [...(this.offset > 0 ? previous!.arrivals : []), ...arrivals].map((a) => ({
      ...a,
      t: a.t - from,
    }));
    this.requests = arrivals.length;
  }

  /** Requests of the window served within the targets by `mix`. */
  met(mix: readonly number[]): number {
    if (this.requests === 0) return 0;
    const k = mix.join(",");
    let met = this.memo.get(k);
    if (met === undefined) {
      const world = new World(this.scenario, [this.arrivals], {
        instantStart: true,
        untilDone: true,
        metFrom: this.offset,
      });
      const first = this.previousMix ?? mix;
      world.variants.forEach((v, i) => world.setInitial(v, first[i]));
      if (this.offset > 0)
        world.every({
          periodMs: this.offset,
          run: () => world.variants.forEach((v, i) => world.scale(v, mix[i])),
        });
      world.run(() => undefined);
      met = world.models[0].metSlo;
      this.memo.set(k, met);
    }
    return met;
  }
}

export interface MixVariant {
  cost: number;
  maxReplicas: number;
}

/**
 * The cheapest mix (one count per variant, each in `0..maxReplicas`, at least `minTotal` replicas in all)
 * for which `met(mix) >= need`, assuming that more replicas of a variant never serve fewer requests within
 * the targets. For each combination of the other variants' counts, the last variant's count is bisected;
 * branches that cannot be cheaper than the best mix so far are skipped. Ties: the first mix found, in
 * increasing counts of the first variants. Undefined when no mix meets `need`.
 */
export function cheapestMeeting(
  variants: readonly MixVariant[],
  met: (mix: readonly number[]) => number,
  need: number,
  minTotal: number,
): number[] | undefined {
  const last = variants.length - 1;
  const counts = variants.map(() => 0);
  let best: number[] | undefined;
  let bestCost = Infinity;
  const ok = () => met(counts) >= need;
  const search = (i: number, cost: number, replicas: number) => {
    const v = variants[i];
    if (i < last) {
      for (let n = 0; n <= v.maxReplicas && cost + n * v.cost < bestCost; n++) {
        counts[i] = n;
        search(i + 1, cost + n * v.cost, replicas + n);
      }
      counts[i] = 0;
      return;
    }
    const lo = Math.max(0, minTotal - replicas);
    // the counts of this variant that keep the mix strictly cheaper than the best so far
    const hi =
      v.cost > 0 ? Math.min(v.maxReplicas, Math.ceil((bestCost - cost) / v.cost) - 1) : v.maxReplicas;
    if (hi < lo) return;
    counts[i] = hi;
    if (!ok()) return;
    let fail = lo - 1;
    let pass = hi;
    while (pass - fail > 1) {
      const mid = (fail + pass) >> 1;
      counts[i] = mid;
      if (ok()) pass = mid;
      else fail = mid;
    }
    counts[i] = pass;
    best = [...counts];
    bestCost = cost + pass * v.cost;
  };
  search(0, 0, 0);
  return best;
}

export interface OraclePlan {
  /** Window length, ms: the largest start-up delay of the model's variants (the engine interval if 0). */
  windowMs: number;
  /** Per window, the replica count of each variant (scenario order). */
  windows: number[][];
  /** Per window, the share of its arrivals the window's mix serves within the targets in the replay (1 without arrivals). */
  attainment: number[];
  /** Replicas per variant of `static-peak`: the cheapest variant only, enough for every window. */
  peakFleet: number[];
}

/** Index of the cheapest variant per replica (ties: the larger steady-state capacity, then the first). */
function cheapestVariant(m: ModelSpec, capacities: readonly number[]): number {
  let cheapest = 0;
  m.variants.forEach((v, i) => {
    const c = m.variants[cheapest];
    if (v.cost < c.cost || (v.cost === c.cost && capacities[i] > capacities[cheapest])) cheapest = i;
  });
  return cheapest;
}

/**
 * The oracle's plan for one model. Per window of the longest start-up delay, the cheapest mix whose replay
 * of the window's arrivals serves at least `baselines.oracleAttainment` of them within the targets; when no
 * mix within the maximums does, the cheapest of those serving the most. A model with scale-to-zero has no
 * replica in a window without arrivals; others keep at least one.
 */
export function oraclePlan(
  scenario: Scenario,
  m: ModelSpec,
  arrivals: readonly Arrival[],
  capacities: number[],
): OraclePlan {
  const { durationMs, engineIntervalMs } = scenario;
  const target = scenario.baselines.oracleAttainment;
  const startup = Math.max(...m.variants.map((v) => v.startupDelayMs));
  const windowMs = startup > 0 ? startup : engineIntervalMs;
  const n = Math.ceil(durationMs / windowMs);
  const byWindow: Arrival[][] = Array.from({ length: n }, () => []);
  for (const a of arrivals) if (a.t < durationMs) byWindow[Math.floor(a.t / windowMs)].push(a);
  const maxMix = m.variants.map((v) => v.maxReplicas);
  const cheapest = cheapestVariant(m, capacities);
  const zero = m.variants.map(() => 0);
  const alone = (k: number) => zero.map((_, i) => (i === cheapest ? k : 0));
  const windows: number[][] = [];
  const attainment: number[] = [];
  let peak = 0;
  byWindow.forEach((as, w) => {
    const start = w * windowMs;
    const lengthMs = Math.min(windowMs, durationMs - start);
    if (as.length === 0) {
      // nothing to serve: no replica with scale-to-zero, else one of the cheapest variant
      windows.push(m.scaleToZero ? zero : alone(1));
      attainment.push(1);
      return;
    }
    const previous =
      w > 0 ? { arrivals: byWindow[w - 1], mix: windows[w - 1], lengthMs: windowMs } : undefined;
    const r = new WindowReplay(scenario, m, as, start, lengthMs, previous);
    // the most any mix serves is what every variant at its maximum serves
    const need = Math.min(Math.ceil(target * as.length - 1e-9), r.met(maxMix));
    const mix = cheapestMeeting(m.variants, (x) => r.met(x), need, 1) ?? maxMix;
    windows.push(mix);
    attainment.push(r.met(mix) / as.length);
    // static-peak: the fewest replicas of the cheapest variant alone that do as well in every window
    const max = m.variants[cheapest].maxReplicas;
    const needAlone = Math.min(need, r.met(alone(max)));
    if (peak < max && r.met(alone(Math.max(peak, 1))) < needAlone)
      peak = cheapestMeeting([{ cost: 1, maxReplicas: max }], (x) => r.met(alone(x[0])), needAlone, 1)![0];
  });
  const peakFleet = zero.map((_, i) => (i === cheapest ? Math.max(peak, 1) : 0));
  return { windowMs, windows, attainment, peakFleet };
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
