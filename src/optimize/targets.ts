import type {
  ModelAnalysis,
  OptimizeOptions,
  OptimizeResult,
  VariantState,
  VariantTarget,
} from "../types/decision.js";
import {
  actionOf,
  boundLabel,
  compareNames,
  DEFAULT_TRANSITION_TIMEOUT_MS,
  groupKey,
  pendingReplicas,
  tightestBound,
  variantTransition,
  type ReplicaBound,
} from "../types/decision.js";
import { formatDuration } from "../util/duration.js";
import { transitionLock } from "./transition-lock.js";

/**
 * Cost-aware V1 targets (docs/design/target-calculation.md): at most one variant changes by exactly one
 * replica per cycle — the cheapest variant without pending replicas grows on a scale-up signal, the most
 * expensive variant above one replica shrinks when scale-down is safe; nothing changes while the model
 * is in transition.
 *
 * The transition lock ({@link transitionLock}) is bounded: when the model has been in transition for
 * `transitionTimeoutMs` (something outside WVA, such as an HPA maxReplicas, keeps `current` from reaching
 * `desired`), the model is released and decided from its current replicas, and every reason says so.
 * Runs in O(n log n) in the number of variants.
 */
export function calculateTargets(
  analysis: ModelAnalysis,
  states: readonly VariantState[],
  opts: OptimizeOptions,
): OptimizeResult {
  const timeout = opts.transitionTimeoutMs ?? DEFAULT_TRANSITION_TIMEOUT_MS;
  const key = groupKey(analysis.modelID, analysis.namespace);
  const sorted = [...states].sort((a, b) => compareNames(a.name, b.name));
  const byName = new Map(analysis.variants.map((v) => [v.variant, v]));

  const keep = (s: VariantState, reason: string): VariantTarget => ({
    variant: s.name,
    target: s.current,
    action: "no-change",
    reason,
    wasConstrained: false,
    analysed: false,
  });

  if (analysis.totalReplicas === 0) {
    const lock = transitionLock(
      key,
      { inTransition: false, pendingDecisions: [] },
      { ...opts, timeoutMs: timeout },
    );
    return {
      targets: sorted.map((s) => keep(s, "no replica metrics for the model; keeping current replicas")),
      inTransition: false,
      transitionReleased: false,
      transitionReasons: [],
      state: lock.state,
    };
  }

  // 1. Transition check over the analysed variants.
  const reasons: string[] = [];
  const pendingDecisions: string[] = [];
  for (const s of sorted) {
    const v = byName.get(s.name);
    if (v === undefined) continue;
    const t = variantTransition(s, v.replicaCount);
    reasons.push(...t.reasons);
    if (t.pendingDecision !== undefined) pendingDecisions.push(t.pendingDecision);
  }
  const lock = transitionLock(
    key,
    { inTransition: reasons.length > 0, pendingDecisions },
    { now: opts.now, timeoutMs: timeout, state: opts.state },
  );
  const { inTransition, released, since, state } = lock;
  const transitionText = reasons.join(", ");

  const noMetrics = "no replica metrics for this variant; keeping current replicas";

  // 2./3. Locked: keep the pending decision (or current) and do not scale.
  if (inTransition && !released) {
    const targets = sorted.map((s): VariantTarget => {
      if (!byName.has(s.name)) return keep(s, noMetrics);
      const pendingDecision = s.desired !== 0 && s.desired !== s.current;
      const target = pendingDecision ? s.desired : s.current;
      return {
        variant: s.name,
        target,
        action: actionOf(target, s.current),
        reason: pendingDecision
          ? `model in transition (${transitionText}); keeping previous decision ${s.desired}`
          : `model in transition (${transitionText}); scaling blocked`,
        wasConstrained: true,
        analysed: true,
      };
    });
    return {
      targets,
      inTransition,
      transitionReleased: false,
      transitionReasons: reasons,
      transitionSince: since,
      state,
    };
  }

  // Stable (or released): start from the metric replica count (released: from current replicas).
  const prefix = released
    ? `transition lock released after ${formatDuration(timeout)} (${transitionText}); deciding from current replicas; `
    : "";
  const work = sorted.map((s) => {
    const v = byName.get(s.name);
    return { s, v, target: v === undefined ? s.current : released ? s.current : v.replicaCount };
  });
  const candidates = work.filter((w) => w.v !== undefined);

  let chosenUp: (typeof work)[number] | undefined;
  let chosenDown: (typeof work)[number] | undefined;
  let upBlocked = false;
  // variants at their maximum (annotation, limiter grant, HPA maxReplicas) cannot take the step
  const atMax = new Map<(typeof work)[number], ReplicaBound>();
  if (analysis.scaleUp) {
    for (const w of candidates) {
      if (pendingReplicas(w.s) > 0) continue;
      const bound = tightestBound(w.s.bounds);
      if (bound !== undefined && w.target >= bound.maxReplicas) {
        atMax.set(w, bound);
        continue;
      }
      if (chosenUp === undefined || w.s.cost < chosenUp.s.cost) chosenUp = w; // sorted ⇒ ties keep the smaller name
    }
    if (chosenUp === undefined) upBlocked = true;
    else chosenUp.target += 1;
  } else if (analysis.scaleDownSafe) {
    for (const w of candidates) {
      if (w.target <= 1) continue;
      if (chosenDown === undefined || w.s.cost >= chosenDown.s.cost) chosenDown = w; // ties: larger name
    }
    if (chosenDown !== undefined) chosenDown.target -= 1;
  }

  const targets = work.map((w): VariantTarget => {
    if (w.v === undefined) return keep(w.s, noMetrics);
    let reason: string;
    let constrained = false;
    const bound = atMax.get(w);
    if (w === chosenUp) {
      const capped = [...atMax].filter(([x]) => x.s.cost <= w.s.cost);
      reason =
        capped.length === 0
          ? `${analysis.scaleUpReason}; cheapest variant without pending replicas (cost ${w.s.cost})`
          : `${analysis.scaleUpReason}; next cheapest variant (cost ${w.s.cost}): ${capped
              .map(([x, b]) => `${x.s.name} at maximum (${boundLabel(b)})`)
              .join(", ")}`;
    } else if (bound !== undefined) {
      reason =
        chosenUp === undefined
          ? `${analysis.scaleUpReason}; at maximum (${boundLabel(bound)}); no variant can take the scale-up`
          : `${analysis.scaleUpReason}; at maximum (${boundLabel(bound)}); scale-up goes to the next cheapest variant ${chosenUp.s.name}`;
      constrained = true;
    } else if (w === chosenDown) {
      reason = `scale-down safe (${analysis.scaleDownReason}); most expensive variant above 1 replica (cost ${w.s.cost})`;
    } else if (analysis.scaleUp && upBlocked) {
      reason = `${analysis.scaleUpReason}; scale-up blocked: every variant has pending replicas`;
      constrained = true;
    } else if (analysis.scaleUp) {
      reason = `${analysis.scaleUpReason}; scale-up assigned to cheaper variant ${chosenUp?.s.name}`;
      if (pendingReplicas(w.s) > 0) reason += ` (this variant has ${pendingReplicas(w.s)} pending replicas)`;
    } else if (analysis.scaleDownSafe && chosenDown !== undefined) {
      reason = `scale-down safe; scale-down assigned to more expensive variant ${chosenDown.s.name}`;
    } else if (analysis.scaleDownSafe) {
      reason = `scale-down safe but every variant is at 1 replica`;
    } else {
      reason = `no scaling needed (${analysis.scaleUpReason}; scale-down not safe: ${analysis.scaleDownReason})`;
    }
    return {
      variant: w.s.name,
      target: w.target,
      action: actionOf(w.target, w.s.current),
      reason: prefix + reason,
      wasConstrained: constrained,
      analysed: true,
    };
  });

  return {
    targets,
    inTransition,
    transitionReleased: released,
    transitionReasons: reasons,
    transitionSince: since,
    state,
  };
}
