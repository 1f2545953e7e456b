/**
 * The `autoscaling/v2` HorizontalPodAutoscaler replica calculation, as the Kubernetes controller
 * does it: per-metric proposals with a tolerance, then stabilization windows, then the scaling
 * policies (rate limits) and min/max. Pure functions over an explicit state and clock.
 */

export type PolicyType = "Pods" | "Percent";
export type SelectPolicy = "Max" | "Min" | "Disabled";

export interface ScalingPolicy {
  type: PolicyType;
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: SelectPolicy;
  policies: ScalingPolicy[];
}

export interface Behavior {
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
}

/** The defaults the API server fills in for autoscaling/v2. */
export const defaultBehavior: Behavior = {
  scaleUp: {
    stabilizationWindowSeconds: 0,
    selectPolicy: "Max",
    policies: [
      { type: "Pods", value: 4, periodSeconds: 15 },
      { type: "Percent", value: 100, periodSeconds: 15 },
    ],
  },
  scaleDown: {
    stabilizationWindowSeconds: 300,
    selectPolicy: "Max",
    policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
  },
};

/** Fills missing parts of a (possibly partial) behavior with the defaults. */
export function withDefaults(
  b: Partial<{ scaleUp: Partial<ScalingRules>; scaleDown: Partial<ScalingRules> }> | undefined,
): Behavior {
  const up = b?.scaleUp ?? {};
  const down = b?.scaleDown ?? {};
  return {
    scaleUp: {
      stabilizationWindowSeconds:
        up.stabilizationWindowSeconds ?? defaultBehavior.scaleUp.stabilizationWindowSeconds,
      selectPolicy: up.selectPolicy ?? "Max",
      policies: up.policies ?? defaultBehavior.scaleUp.policies,
    },
    scaleDown: {
      stabilizationWindowSeconds:
        down.stabilizationWindowSeconds ?? defaultBehavior.scaleDown.stabilizationWindowSeconds,
      selectPolicy: down.selectPolicy ?? "Max",
      policies: down.policies ?? defaultBehavior.scaleDown.policies,
    },
  };
}

export const DEFAULT_TOLERANCE = 0.1;

/**
 * External metric with an `AverageValue` target: usage ratio = total / (target × current); within
 * the tolerance the replica count stays, otherwise it becomes ceil(total / target).
 */
export function externalAverageValueReplicas(
  currentReplicas: number,
  metricTotal: number,
  targetAverageValue: number,
  tolerance = DEFAULT_TOLERANCE,
): number {
  const usageRatio = metricTotal / (targetAverageValue * currentReplicas);
  if (currentReplicas > 0 && Math.abs(1 - usageRatio) <= tolerance) return currentReplicas;
  return Math.ceil(metricTotal / targetAverageValue);
}

/** External metric with a `Value` target: ratio = value / target; ceil(ratio × ready pods). */
export function externalValueReplicas(
  currentReplicas: number,
  readyPods: number,
  metricValue: number,
  targetValue: number,
  tolerance = DEFAULT_TOLERANCE,
): number {
  const usageRatio = metricValue / targetValue;
  if (currentReplicas === 0) return Math.ceil(usageRatio);
  if (Math.abs(1 - usageRatio) <= tolerance) return currentReplicas;
  return Math.ceil(usageRatio * readyPods);
}

export interface TimedValue {
  value: number;
  /** ms since epoch */
  at: number;
}

/** What the controller remembers per HPA between syncs. */
export interface HpaMemory {
  recommendations?: TimedValue[];
  scaleUpEvents: TimedValue[];
  scaleDownEvents: TimedValue[];
}

export const newMemory = (): HpaMemory => ({ scaleUpEvents: [], scaleDownEvents: [] });

/** Stabilization: scale up to the lowest, down to the highest recommendation in the windows. */
export function stabilize(
  mem: HpaMemory,
  behavior: Behavior,
  current: number,
  desired: number,
  now: number,
): number {
  if (mem.recommendations === undefined && behavior.scaleDown.stabilizationWindowSeconds > 0)
    mem.recommendations = [{ value: current, at: now }];
  const recs = (mem.recommendations ??= []);
  const upCutoff = now - behavior.scaleUp.stabilizationWindowSeconds * 1000;
  const downCutoff = now - behavior.scaleDown.stabilizationWindowSeconds * 1000;
  const obsoleteCutoff =
    now -
    Math.max(behavior.scaleUp.stabilizationWindowSeconds, behavior.scaleDown.stabilizationWindowSeconds) *
      1000;
  let up = desired;
  let down = desired;
  let oldIndex = -1;
  recs.forEach((r, i) => {
    if (r.at > upCutoff) up = Math.min(r.value, up);
    if (r.at > downCutoff) down = Math.max(r.value, down);
    if (r.at < obsoleteCutoff) oldIndex = i;
  });
  let recommendation = current;
  if (recommendation < up) recommendation = up;
  if (recommendation > down) recommendation = down;
  if (oldIndex >= 0) recs[oldIndex] = { value: desired, at: now };
  else recs.push({ value: desired, at: now });
  return recommendation;
}

function changeInPeriod(events: TimedValue[], periodSeconds: number, now: number): number {
  const cutoff = now - periodSeconds * 1000;
  return events.filter((e) => e.at > cutoff).reduce((a, e) => a + e.value, 0);
}

export function scaleUpLimit(current: number, mem: HpaMemory, rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === "Disabled") return current;
  const pickMin = rules.selectPolicy === "Min";
  let result = pickMin ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const p of rules.policies) {
    const start =
      current -
      changeInPeriod(mem.scaleUpEvents, p.periodSeconds, now) +
      changeInPeriod(mem.scaleDownEvents, p.periodSeconds, now);
    const proposed = p.type === "Pods" ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pickMin ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

export function scaleDownLimit(current: number, mem: HpaMemory, rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === "Disabled") return current;
  const pickMin = rules.selectPolicy === "Min";
  let result = pickMin ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const p of rules.policies) {
    const start =
      current -
      changeInPeriod(mem.scaleUpEvents, p.periodSeconds, now) +
      changeInPeriod(mem.scaleDownEvents, p.periodSeconds, now);
    const proposed = p.type === "Pods" ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    // "Min" picks the smallest change, which for scale-down is the largest count
    result = pickMin ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

export type LimitReason =
  "DesiredWithinRange" | "ScaleUpLimit" | "TooManyReplicas" | "ScaleDownLimit" | "TooFewReplicas";

/** Applies the policies' rate limits and min/max to a stabilized recommendation. */
export function rateLimit(
  mem: HpaMemory,
  behavior: Behavior,
  current: number,
  desired: number,
  min: number,
  max: number,
  now: number,
): { replicas: number; reason: LimitReason } {
  if (desired > current) {
    let limit = scaleUpLimit(current, mem, behavior.scaleUp, now);
    if (limit < current) limit = current;
    const allowed = Math.min(max, limit);
    const reason: LimitReason = max > limit ? "ScaleUpLimit" : "TooManyReplicas";
    if (desired > allowed) return { replicas: allowed, reason };
  } else if (desired < current) {
    let limit = scaleDownLimit(current, mem, behavior.scaleDown, now);
    if (limit > current) limit = current;
    const allowed = Math.max(min, limit);
    const reason: LimitReason = min < limit ? "ScaleDownLimit" : "TooFewReplicas";
    if (desired < allowed) return { replicas: allowed, reason };
  }
  return { replicas: desired, reason: "DesiredWithinRange" };
}

/** Records a scale change for the policies' periods (old events past the longest period are reused). */
export function recordScale(mem: HpaMemory, behavior: Behavior, from: number, to: number, now: number): void {
  if (to === from) return;
  const up = to > from;
  const events = up ? mem.scaleUpEvents : mem.scaleDownEvents;
  const rules = up ? behavior.scaleUp : behavior.scaleDown;
  const longest = Math.max(0, ...rules.policies.map((p) => p.periodSeconds));
  const cutoff = now - longest * 1000;
  const change = Math.abs(to - from);
  const old = events.findIndex((e) => e.at <= cutoff);
  if (old >= 0) events[old] = { value: change, at: now };
  else events.push({ value: change, at: now });
}

export interface Decision {
  desiredReplicas: number;
  /** The metric proposal before stabilization and limits. */
  proposal?: number;
  stabilized?: number;
  limitReason?: LimitReason;
  /** Why scaling is inactive (e.g. scaled to zero by hand). */
  inactive?: string;
}

/**
 * One reconcile of an HPA: `metricProposal` is the highest per-metric replica proposal (undefined
 * when no metric could be read: no change). Updates `mem` like the controller does.
 */
export function decide(input: {
  specReplicas: number;
  currentReplicas: number;
  minReplicas: number;
  maxReplicas: number;
  metricProposal?: number;
  behavior: Behavior;
  mem: HpaMemory;
  now: number;
}): Decision {
  const { currentReplicas: current, minReplicas: min, maxReplicas: max, mem, behavior, now } = input;
  if (input.specReplicas === 0 && min !== 0) return { desiredReplicas: 0, inactive: "ScalingDisabled" };
  if (current > max) return { desiredReplicas: max };
  if (current < min) return { desiredReplicas: min };
  if (input.metricProposal === undefined)
    return { desiredReplicas: current, inactive: "FailedGetExternalMetric" };
  const proposal = Math.max(0, input.metricProposal);
  const stabilized = stabilize(mem, behavior, current, proposal, now);
  const limited = rateLimit(mem, behavior, current, stabilized, min, max, now);
  return { desiredReplicas: limited.replicas, proposal, stabilized, limitReason: limited.reason };
}
