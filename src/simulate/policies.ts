import { clampReplicas, scaleBounds } from "../actuate/direct.js";
import { ScaleDownStabilizer } from "../actuate/stabilization.js";
import { chooseWakeVariant, SCALE_FROM_ZERO_INTERVAL_MS } from "../enforce/scale-from-zero.js";
import {
  decide,
  externalAverageValueReplicas,
  newMemory,
  recordScale,
  withDefaults,
  type HpaMemory,
} from "../playground/cluster/hpa.js";
import { hpaManifest, vaManifest } from "../playground/runner/manifests.js";
import type { Scenario } from "../playground/runner/scenario.js";
import { QUEUEING_MODEL } from "../engine/types.js";
import { key, WvaDecider } from "./decide.js";
import type { OraclePlan } from "./oracle.js";
import type { SimVariant, World } from "./world.js";

/**
 * The policies `wva simulate` compares. Each one sets the initial replicas of every variant and acts
 * on timers of the simulated cluster; adding a policy is one entry in POLICIES.
 */

export interface PolicyContext {
  scenario: Scenario;
  /** Per model (scenario order): the oracle's plan, with the static-peak fleet; empty unless a selected policy `usesPlans`. */
  plans: OraclePlan[];
}

export interface Policy {
  name: string;
  description: string;
  /** Pods are Ready at once (no start-up delay). */
  instantStart?: boolean;
  /** Reads the oracle's plans (`PolicyContext.plans`), which are only computed for such policies. */
  usesPlans?: boolean;
  /** Sets the initial replicas and registers timers; returns what to do on every engine cycle. */
  start(world: World, ctx: PolicyContext): (now: number) => void;
}

/**
 * An emulated HPA per variant following `metric` (a total over the variant's pods, AverageValue target).
 * `keepOne`: minReplicas at least 1 even for a model with scale-to-zero (the policy cannot wake it).
 */
function hpaPerVariant(
  world: World,
  scenario: Scenario,
  metric: (v: SimVariant) => number | undefined,
  target: number,
  keepOne = true,
): void {
  const hpas = world.variants.map((v) => ({
    v,
    mem: newMemory() as HpaMemory,
    manifest: hpaManifest(scenario, v.model.spec, v.spec),
  }));
  world.every({
    periodMs: scenario.hpa.syncPeriodMs,
    run: (now) => {
      for (const h of hpas) {
        const spec = h.manifest.spec as { minReplicas: number; maxReplicas: number; behavior: never };
        const minReplicas = keepOne ? Math.max(1, spec.minReplicas) : spec.minReplicas;
        const behavior = withDefaults(spec.behavior);
        const current = h.v.pods.length;
        const total = metric(h.v);
        const d = decide({
          specReplicas: current,
          currentReplicas: current,
          minReplicas,
          maxReplicas: spec.maxReplicas,
          metricProposal:
            total === undefined
              ? undefined
              : externalAverageValueReplicas(current, total, target, scenario.hpa.tolerance),
          behavior,
          mem: h.mem,
          now,
        });
        if (!d.inactive && d.desiredReplicas !== current) {
          recordScale(h.mem, behavior, current, d.desiredReplicas, now);
          world.scale(h.v, d.desiredReplicas);
        }
        if (!d.inactive) h.v.desired = d.desiredReplicas;
      }
    },
  });
}

/**
 * Sets every variant's initial replicas. `keepOne`: a model whose variants all start at 0 starts its
 * cheapest variant at 1 instead (for policies that cannot wake a model from zero).
 */
function initial(world: World, keepOne: boolean): void {
  for (const m of world.models) {
    const total = m.variants.reduce((s, v) => s + v.spec.initialReplicas, 0);
    const cheapest = [...m.variants].sort(
      (a, b) => a.spec.cost - b.spec.cost || (a.spec.name < b.spec.name ? -1 : 1),
    )[0];
    for (const v of m.variants)
      world.setInitial(v, keepOne && total === 0 && v === cheapest ? 1 : v.spec.initialReplicas);
  }
}

/**
 * The WVA engine with the scenario's saturation config (`analyzerName` replaced when given); with
 * `scaleToZero`, models with scale-to-zero in the scenario go to zero and wake up.
 */
function wvaPolicy(
  name: string,
  description: string,
  opts: { analyzerName?: string; scaleToZero: boolean },
): Policy {
  return { name, description, start: (world, ctx) => startWva(world, ctx, opts) };
}

function startWva(
  world: World,
  { scenario }: PolicyContext,
  { analyzerName, scaleToZero }: { analyzerName?: string; scaleToZero: boolean },
): (now: number) => void {
  initial(world, !scaleToZero);
  const decider = new WvaDecider(
    analyzerName === undefined ? scenario.saturation : { ...scenario.saturation, analyzerName },
    scenario.actuation === "hpa" ? "hpa" : "annotation",
    scaleToZero,
  );
  const published = new Map<string, number>();
  // the direct actuator's scale-down stabilisation, with the window the playground gives the controller
  const stabilizer = new ScaleDownStabilizer(scenario.hpa.stabilizationWindowMs);
  if (scenario.actuation === "hpa")
    hpaPerVariant(
      world,
      scenario,
      (v) => published.get(key(v.model.spec.namespace, v.spec.name)),
      1,
      !scaleToZero,
    );
  if (scaleToZero && scenario.models.some((m) => m.scaleToZero))
    // the scale-from-zero loop: a model at zero with requests in its router queue wakes one variant
    world.every({
      periodMs: SCALE_FROM_ZERO_INTERVAL_MS,
      run: (now) => {
        for (const m of world.models) {
          if (!m.spec.scaleToZero || world.podCount(m) > 0 || world.queued(m) === 0) continue;
          const choice = chooseWakeVariant(
            m.variants.map((v) => ({
              variant: v.spec.name,
              accelerator: v.spec.accelerator,
              cost: v.spec.cost,
              gpusPerReplica: v.spec.gpusPerReplica,
            })),
            world.freeGpus(),
          );
          const v = m.variants.find((x) => x.spec.name === choice?.variant)!;
          decider.woke(m, v.spec.name, now);
          published.set(key(m.spec.namespace, v.spec.name), 1);
          world.scale(v, 1);
          v.desired = 1;
        }
      },
    });
  return (now) => {
    const targets = decider.decide(world, now);
    for (const v of world.variants) {
      const target = targets.get(key(v.model.spec.namespace, v.spec.name));
      if (target === undefined) continue;
      published.set(key(v.model.spec.namespace, v.spec.name), target);
      if (scenario.actuation === "direct") {
        const k = key(v.model.spec.namespace, v.spec.name);
        const bounded = clampReplicas(
          stabilizer.stabilize(k, target, now, v.pods.length),
          scaleBounds(vaManifest(v.model.spec, v.spec).metadata.annotations),
        );
        world.scale(v, bounded);
        v.desired = bounded;
      } else v.desired = target;
    }
  };
}

const wva = wvaPolicy(
  "wva",
  "the WVA engine with the scenario's saturation config, actuation and scale-to-zero",
  { scaleToZero: true },
);
const wvaAlwaysOn = wvaPolicy(
  "wva-always-on",
  "the WVA engine with scale-to-zero off: every model keeps at least one replica",
  { scaleToZero: false },
);
const wvaV2 = wvaPolicy(
  "wva-v2",
  "as wva, with the token-capacity analyzer and cost-aware optimizer (analyzerName: saturation)",
  { analyzerName: "saturation", scaleToZero: true },
);
const wvaModel = wvaPolicy(
  "wva-model",
  "the SLO-driven queueing-model engine: parameters learned online, the model's slo as targets",
  { analyzerName: QUEUEING_MODEL, scaleToZero: true },
);

/** An HPA per variant on one per-replica average of the ready pods (the community recipes the baselines follow). */
function hpaPolicy(
  name: string,
  description: string,
  metric: "kv" | "queue",
  target: (b: Scenario["baselines"]) => number,
): Policy {
  return {
    name,
    description,
    start(world, { scenario }) {
      initial(world, true);
      hpaPerVariant(
        world,
        scenario,
        (v) => {
          const r = world.readyTotals(v);
          return r.ready > 0 ? r[metric] : undefined;
        },
        target(scenario.baselines),
      );
      return () => undefined;
    },
  };
}

const hpaKv = hpaPolicy(
  "hpa-kv",
  "an HPA per variant on average KV-cache use (baselines.hpaKvTarget, default 70%)",
  "kv",
  (b) => b.hpaKvTarget,
);

const hpaQueue = hpaPolicy(
  "hpa-queue",
  "an HPA per variant on waiting requests per replica (baselines.hpaQueueTarget, default 5)",
  "queue",
  (b) => b.hpaQueueTarget,
);

const staticPeak: Policy = {
  name: "static-peak",
  usesPlans: true,
  description: "a fixed fleet of the cheapest variant, as many replicas as the busiest oracle window needs",
  start(world, { plans }) {
    world.models.forEach((m, mi) =>
      m.variants.forEach((v, i) => world.setInitial(v, plans[mi].peakFleet[i])),
    );
    return () => undefined;
  },
};

const oracle: Policy = {
  name: "oracle",
  usesPlans: true,
  description:
    "knows the whole trace: per start-up window, the cheapest mix whose replay of the window's arrivals meets baselines.oracleAttainment",
  instantStart: true,
  start(world, { plans }) {
    world.models.forEach((m, mi) => {
      const plan = plans[mi];
      m.variants.forEach((v, i) => world.setInitial(v, plan.windows[0][i]));
      world.every({
        periodMs: plan.windowMs,
        run: (now) => {
          const w = Math.floor(now / plan.windowMs + 1e-9);
          if (w >= plan.windows.length) return;
          m.variants.forEach((v, i) => {
            world.scale(v, plan.windows[w][i]);
            v.desired = plan.windows[w][i];
          });
        },
      });
    });
    return () => undefined;
  },
};

/** Every policy, in table order. */
export const POLICIES: readonly Policy[] = [
  wva,
  wvaAlwaysOn,
  wvaV2,
  wvaModel,
  hpaKv,
  hpaQueue,
  staticPeak,
  oracle,
];

export const POLICY_NAMES: readonly string[] = POLICIES.map((p) => p.name);

/** The policies run when none are named: all, with `wva-always-on` only when a model has scale-to-zero. */
export function defaultPolicies(scenario: Scenario): string[] {
  const zero = scenario.models.some((m) => m.scaleToZero);
  return POLICY_NAMES.filter((n) => zero || n !== wvaAlwaysOn.name);
}
