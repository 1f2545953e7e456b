import { compareNames } from "../analyze/saturation.js";
import type { Action, ModelAnalysis, TransitionState, VariantState } from "../engine/types.js";
import { DEFAULT_TRANSITION_TIMEOUT_MS } from "../engine/types.js";
import { formatDuration } from "../util/duration.js";

/** Target of one variant after the cost-aware step (5.4). */
export interface VariantTarget {
  variant: string;
  target: number;
  action: Action;
  reason: string;
  /** The step blocked what the signals asked for (transition lock or pending replicas). */
  wasConstrained: boolean;
  /** The variant had replica metrics this cycle. */
  analysed: boolean;
}

export interface TargetOptions {
  /** Current time (epoch ms). */
  now: number;
  /** After how long a model stuck in transition is released (default 10 minutes; <= 0 = never). */
  transitionTimeoutMs?: number;
  /** Transition bookkeeping from the previous cycle (not modified; the new state is returned). */
  state?: TransitionState;
}

export interface TargetResult {
  /** One entry per variant state, sorted by variant name. */
  targets: VariantTarget[];
  inTransition: boolean;
  transitionReleased: boolean;
  transitionReasons: string[];
  /** When the model was first seen in its current transition (epoch ms), if in transition. */
  transitionSince?: number;
  /** Transition bookkeeping to pass into the next cycle. */
  state: TransitionState;
}

/** Key of a model group: `modelID|namespace`. */
export function modelKey(modelID: string, namespace: string): string {
  return `${modelID}|${namespace}`;
}

/** Replicas that exist but are not ready yet. */
export function pendingReplicas(s: VariantState): number {
  return Math.max(0, s.current - s.ready);
}

/**
 * Cost-aware V1 targets (wva-core 5.4): at most one variant changes by exactly one replica per cycle —
 * the cheapest variant without pending replicas grows on a scale-up signal, the most expensive variant
 * above one replica shrinks when scale-down is safe; nothing changes while the model is in transition.
 *
 * The transition lock is bounded: when the model has been in transition for `transitionTimeoutMs`
 * (something outside WVA, such as an HPA maxReplicas, keeps `current` from reaching `desired`), the
 * model is released and decided from its current replicas, and every reason says so.
 */
export function calculateTargets(
  analysis: ModelAnalysis,
  states: readonly VariantState[],
  opts: TargetOptions,
): TargetResult {
  const timeout = opts.transitionTimeoutMs ?? DEFAULT_TRANSITION_TIMEOUT_MS;
  const key = modelKey(analysis.modelID, analysis.namespace);
  // Copy-on-write: the caller's state is never modified, and is returned as is when nothing changed.
  const prevSeen = opts.state?.firstSeen ?? {};
  let firstSeen = prevSeen;
  const setSeen = (value: number | undefined) => {
    if (firstSeen[key] === value) return;
    if (value === undefined && !(key in firstSeen)) return;
    firstSeen = { ...prevSeen };
    if (value === undefined) delete firstSeen[key];
    else firstSeen[key] = value;
  };
  const sorted = [...states].sort((a, b) => compareNames(a.name, b.name));
  const analysed = {
    get: (name: string) => analysis.variants.find((v) => v.variant === name),
    has: (name: string) => analysis.variants.some((v) => v.variant === name),
  };

  const keep = (s: VariantState, reason: string): VariantTarget => ({
    variant: s.name,
    target: s.current,
    action: "no-change",
    reason,
    wasConstrained: false,
    analysed: false,
  });

  if (analysis.totalReplicas === 0) {
    setSeen(undefined);
    return {
      targets: sorted.map((s) => keep(s, "no replica metrics for the model; keeping current replicas")),
      inTransition: false,
      transitionReleased: false,
      transitionReasons: [],
      state: firstSeen === prevSeen && opts.state !== undefined ? opts.state : { firstSeen },
    };
  }

  // 1. Transition check over the analysed variants.
  const reasons: string[] = [];
  for (const s of sorted) {
    const v = analysed.get(s.name);
    if (v === undefined) continue;
    if (s.desired !== 0 && s.desired !== s.current)
      reasons.push(`${s.name}: desired(${s.desired})!=current(${s.current})`);
    if (v.replicaCount !== s.current)
      reasons.push(`${s.name}: metrics(${v.replicaCount})!=current(${s.current})`);
  }
  const inTransition = reasons.length > 0;
  let released = false;
  let since: number | undefined;
  if (inTransition) {
    since = firstSeen[key] ?? opts.now;
    setSeen(since);
    released = timeout > 0 && opts.now - since >= timeout;
  } else {
    setSeen(undefined);
  }
  const state = firstSeen === prevSeen && opts.state !== undefined ? opts.state : { firstSeen };
  const transitionText = reasons.join(", ");

  const noMetrics = "no replica metrics for this variant; keeping current replicas";

  // 2./3. Locked: keep the pending decision (or current) and do not scale.
  if (inTransition && !released) {
    const targets = sorted.map((s): VariantTarget => {
      if (!analysed.has(s.name)) return keep(s, noMetrics);
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
    const v = analysed.get(s.name);
    return { s, v, target: v === undefined ? s.current : released ? s.current : v.replicaCount };
  });
  const candidates = work.filter((w) => w.v !== undefined);

  let chosenUp: (typeof work)[number] | undefined;
  let chosenDown: (typeof work)[number] | undefined;
  let upBlocked = false;
  if (analysis.scaleUp) {
    for (const w of candidates) {
      if (pendingReplicas(w.s) > 0) continue;
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
    if (w === chosenUp) {
      reason = `${analysis.scaleUpReason}; cheapest variant without pending replicas (cost ${w.s.cost})`;
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

/** scale-up / scale-down / no-change of a target compared with the current replicas. */
export function actionOf(target: number, current: number): Action {
  return target > current ? "scale-up" : target < current ? "scale-down" : "no-change";
}
