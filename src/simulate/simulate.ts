import type { Arrival } from "../playground/load/patterns.js";
import { modelArrivals } from "../playground/runner/run.js";
import type { Scenario } from "../playground/runner/scenario.js";
import { measureCapacity, oraclePlan, planCost, tokenMix, type OraclePlan } from "./oracle.js";
import { defaultPolicies, POLICIES, POLICY_NAMES, type Policy } from "./policies.js";
import { LatencySketch, type Percentiles } from "./quantiles.js";
import { World, type TimelineEntry } from "./world.js";

/** The JSON report of `wva simulate --report`. */
export interface SimulationReport {
  scenario: string;
  seed: number;
  /** Simulated trial length, seconds. */
  duration: number;
  /** Engine interval, seconds. */
  engineInterval: number;
  actuation: "hpa" | "direct";
  /** Per model, per variant: the steady-state capacity (req/s one replica serves within the latency targets). */
  capacities: Array<{ model: string; namespace: string; variant: string; rps: number }>;
  policies: PolicyReport[];
}

/** Requests that waited in the router for a pod to become ready (a cold start), and their TTFT. */
export interface ColdStartFigures {
  requests: number;
  completed: number;
  ttftMs: Percentiles;
}

export interface ModelFigures {
  requests: { sent: number; completed: number; failed: number };
  coldStart: ColdStartFigures;
  /** Share of sent requests that completed within the model's latency targets (0..1). */
  sloAttainment: number;
  ttftMs: Percentiles;
  itlMs: Percentiles;
}

export interface PolicyReport extends ModelFigures {
  policy: string;
  /** Sum over time of replicas × variant cost, per hour (cost units × hours). */
  cost: number;
  /** cost / the oracle's cost on the same arrivals; null unless `oracle` or `static-peak` is among the policies. */
  costRatioToOracle: number | null;
  /** GPU-hours per accelerator. */
  gpuHours: Record<string, number>;
  /** Replica count changes, all variants together. */
  scalingActions: number;
  /** Changes in the opposite direction of the variant's previous change. */
  reversals: number;
  models: Array<ModelFigures & { model: string; namespace: string }>;
  timeline: TimelineEntry[];
}

export interface SimulateOptions {
  policies?: readonly string[];
  seed?: number;
  /** Called with the policy and the fraction of its trial done. */
  onProgress?: (policy: string, fraction: number) => void;
}

export class UnknownPolicyError extends Error {
  constructor(name: string) {
    super(`unknown policy ${JSON.stringify(name)}; valid policies: ${POLICY_NAMES.join(", ")}`);
  }
}

/** Looks up policies by name, in the order given. */
export function selectPolicies(names: readonly string[]): Policy[] {
  return names.map((n) => {
    const p = POLICIES.find((x) => x.name === n);
    if (!p) throw new UnknownPolicyError(n);
    return p;
  });
}

const round = (x: number, digits = 4) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Runs every selected policy on the same arrivals and returns the report. Deterministic for a seed. */
export function simulate(scenario: Scenario, opts: SimulateOptions = {}): SimulationReport {
  const seed = opts.seed ?? 1;
  const policies = selectPolicies(opts.policies ?? defaultPolicies(scenario));
  const arrivals: Arrival[][] = scenario.models.map(
    (m, i) => modelArrivals(m, scenario.durationMs, seed + i).arrivals,
  );
  const capacities = scenario.models.map((m, i) => {
    const mix = tokenMix(arrivals[i], m);
    return m.variants.map((v) => measureCapacity(v, mix, m.slo));
  });
  // the oracle's plans replay every window many times: only computed when a selected policy reads them
  const plans: OraclePlan[] = policies.some((p) => p.usesPlans)
    ? scenario.models.map((m, i) => oraclePlan(scenario, m, arrivals[i], capacities[i]))
    : [];
  const oracleCost =
    plans.length > 0
      ? scenario.models.reduce((s, m, i) => s + planCost(m, plans[i], scenario.durationMs), 0)
      : undefined;

  const reports = policies.map((policy) => {
    const world = new World(scenario, arrivals, {
      instantStart: policy.instantStart,
      onProgress: opts.onProgress && ((f) => opts.onProgress!(policy.name, f)),
    });
    const onCycle = policy.start(world, { scenario, plans });
    world.run(onCycle);
    return policyReport(policy.name, world, oracleCost);
  });

  return {
    scenario: scenario.name,
    seed,
    duration: scenario.durationMs / 1000,
    engineInterval: scenario.engineIntervalMs / 1000,
    actuation: scenario.actuation,
    capacities: scenario.models.flatMap((m, mi) =>
      m.variants.map((v, vi) => ({
        model: m.modelID,
        namespace: m.namespace,
        variant: v.name,
        rps: round(capacities[mi][vi], 3),
      })),
    ),
    policies: reports,
  };
}

function policyReport(name: string, world: World, oracleCost: number | undefined): PolicyReport {
  let cost = 0;
  const gpuHours: Record<string, number> = {};
  let scalingActions = 0;
  let reversals = 0;
  for (const v of world.variants) {
    const hours = v.replicaMs / 3_600_000;
    cost += hours * v.spec.cost;
    gpuHours[v.spec.accelerator] = (gpuHours[v.spec.accelerator] ?? 0) + hours * v.spec.gpusPerReplica;
    scalingActions += v.scalingActions;
    reversals += v.reversals;
  }
  const models = world.models.map((m) => ({
    model: m.spec.modelID,
    namespace: m.spec.namespace,
    ...figures(m.sent, m.completed, m.metSlo, m.ttft, m.itl, {
      requests: m.coldStarts,
      completed: m.coldCompleted,
      ttftMs: m.coldTtft.percentiles(),
    }),
  }));
  const ttft = new LatencySketch();
  const itl = new LatencySketch();
  const coldTtft = new LatencySketch();
  for (const m of world.models) {
    ttft.merge(m.ttft);
    itl.merge(m.itl);
    coldTtft.merge(m.coldTtft);
  }
  const cold: ColdStartFigures = {
    requests: world.models.reduce((s, m) => s + m.coldStarts, 0),
    completed: world.models.reduce((s, m) => s + m.coldCompleted, 0),
    ttftMs: coldTtft.percentiles(),
  };
  const sent = models.reduce((s, m) => s + m.requests.sent, 0);
  const completed = models.reduce((s, m) => s + m.requests.completed, 0);
  const met = world.models.reduce((s, m) => s + m.metSlo, 0);
  return {
    policy: name,
    cost: round(cost),
    costRatioToOracle: oracleCost === undefined ? null : oracleCost > 0 ? round(cost / oracleCost) : 0,
    gpuHours: Object.fromEntries(Object.entries(gpuHours).map(([k, v]) => [k, round(v)])),
    ...figures(sent, completed, met, ttft, itl, cold),
    scalingActions,
    reversals,
    models,
    timeline: world.timeline,
  };
}

function figures(
  sent: number,
  completed: number,
  met: number,
  ttft: LatencySketch,
  itl: LatencySketch,
  coldStart: ColdStartFigures,
): ModelFigures {
  return {
    requests: { sent, completed, failed: sent - completed },
    coldStart,
    sloAttainment: sent > 0 ? round(met / sent) : 1,
    ttftMs: ttft.percentiles(),
    itlMs: itl.percentiles(),
  };
}
