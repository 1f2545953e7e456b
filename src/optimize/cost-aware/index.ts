/**
 * Cost-aware optimizer for the token-capacity analysis: turns a model's required or spare capacity (in
 * tokens) into replica targets, cheapest capacity first when adding and most expensive first when
 * removing, within each variant's replica bounds. Pure; described in docs/design/cost-aware-optimizer.md.
 */
import type { TokenCapacityAnalysis } from "../../analyze/token-capacity/index.js";
import {
  BOUND_LABELS,
  tightestBound,
  type Action,
  type BoundSource,
  type ReplicaBound,
} from "../../types/decision.js";

export { BOUND_LABELS, tightestBound, type BoundSource, type ReplicaBound };

export interface CostAwareVariant {
  /** VA name. */
  name: string;
  /** Cost of one replica. */
  cost: number;
  /** Tokens one replica holds before it saturates; <= 0 = unknown (the variant is not scaled). */
  perReplicaCapacity: number;
  /** Replicas now (pending replicas included). */
  current: number;
  /** Upper bounds on the target; the tightest applies. */
  bounds?: readonly ReplicaBound[];
}

export interface CostAwareModel {
  modelID: string;
  namespace: string;
  /** Tokens of capacity to add (> 0 = scale up). */
  requiredCapacity: number;
  /** Tokens of capacity that may go (> 0 = scale down; ignored while requiredCapacity > 0). */
  spareCapacity: number;
  variants: readonly CostAwareVariant[];
}

export interface CostAwareDecision {
  variant: string;
  currentReplicas: number;
  targetReplicas: number;
  action: Action;
  reason: string;
  perReplicaCapacity: number;
  /** The bound that stopped this variant from taking (more of) the required capacity. */
  cappedBy?: ReplicaBound;
}

export interface CostAwareResult {
  modelID: string;
  namespace: string;
  /** Sorted by variant name. */
  decisions: CostAwareDecision[];
  /** Required capacity no variant could take because every candidate was at its maximum. */
  unmetCapacity: number;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function tokens(n: number): string {
  return String(Math.round(n));
}

/** Optimizes one model. */
export function optimizeCostAware(model: CostAwareModel): CostAwareResult {
  const vs = [...model.variants].sort((a, b) => byName(a.name, b.name));
  const target = new Map<string, number>();
  for (const v of vs) target.set(v.name, Math.max(0, v.current));
  const reasons = new Map<string, string>();
  const capped = new Map<string, ReplicaBound>();
  let unmet = 0;

  if (model.requiredCapacity > 0) {
    const head = `V2 scale-up (optimizer: cost-aware, required: ${tokens(model.requiredCapacity)})`;
    const order = vs
      .filter((v) => v.perReplicaCapacity > 0)
      .sort(
        (a, b) => a.cost / a.perReplicaCapacity - b.cost / b.perReplicaCapacity || byName(a.name, b.name),
      );
    let remaining = model.requiredCapacity;
    for (const v of order) {
      if (remaining <= 0) break;
      const t = target.get(v.name) as number;
      const want = Math.ceil(remaining / v.perReplicaCapacity);
      const bound = tightestBound(v.bounds);
      const room = bound === undefined ? want : Math.max(0, bound.maxReplicas - t);
      const add = Math.min(want, room);
      if (add < want && bound !== undefined) {
        capped.set(v.name, bound);
        const label = `${BOUND_LABELS[bound.source]} ${bound.maxReplicas}`;
        reasons.set(
          v.name,
          add > 0
            ? `${head}; capped by ${label}, the rest goes to the next cheapest variant`
            : `V2 steady state (at maximum: ${label}; scale-up goes to the next cheapest variant)`,
        );
      } else {
        reasons.set(v.name, head);
      }
      target.set(v.name, t + add);
      remaining -= add * v.perReplicaCapacity;
    }
    if (remaining > 0) {
      unmet = remaining;
      for (const name of capped.keys()) {
        reasons.set(name, `${reasons.get(name) as string}; unmet: ${tokens(remaining)}`);
      }
    }
  } else if (model.spareCapacity > 0) {
    const head = `V2 scale-down (optimizer: cost-aware, spare: ${tokens(model.spareCapacity)})`;
    let cheapest: CostAwareVariant | undefined;
    for (const v of vs) if (cheapest === undefined || v.cost < cheapest.cost) cheapest = v;
    const order = [...vs].sort((a, b) => b.cost - a.cost || byName(b.name, a.name));
    let remaining = model.spareCapacity;
    for (const v of order) {
      if (remaining <= 0) break;
      if (v.perReplicaCapacity <= 0) continue;
      const t = target.get(v.name) as number;
      let othersHaveReplicas = false;
      for (const [name, n] of target) if (name !== v.name && n > 0) othersHaveReplicas = true;
      const min = v === cheapest && !othersHaveReplicas ? 1 : 0;
      const remove = Math.min(Math.floor(remaining / v.perReplicaCapacity), t - min);
      if (remove <= 0) continue;
      target.set(v.name, t - remove);
      remaining -= remove * v.perReplicaCapacity;
      reasons.set(v.name, head);
    }
  }

  const decisions: CostAwareDecision[] = vs.map((v) => {
    const current = Math.max(0, v.current);
    const t = target.get(v.name) as number;
    const action: Action = t > current ? "scale-up" : t < current ? "scale-down" : "no-change";
    let reason = reasons.get(v.name) ?? "V2 steady state";
    if (action === "no-change" && !reason.startsWith("V2 steady state")) reason = "V2 steady state";
    const d: CostAwareDecision = {
      variant: v.name,
      currentReplicas: current,
      targetReplicas: t,
      action,
      reason,
      perReplicaCapacity: v.perReplicaCapacity,
    };
    const bound = capped.get(v.name);
    if (bound !== undefined) d.cappedBy = bound;
    return d;
  });
  return { modelID: model.modelID, namespace: model.namespace, decisions, unmetCapacity: unmet };
}

/** The optimizer's input for an analysed model; `bounds` maps variant names to their replica bounds. */
export function toCostAwareModel(
  analysis: TokenCapacityAnalysis,
  bounds: Readonly<Record<string, readonly ReplicaBound[]>> = {},
): CostAwareModel {
  return {
    modelID: analysis.modelID,
    namespace: analysis.namespace,
    requiredCapacity: analysis.requiredCapacity,
    spareCapacity: analysis.spareCapacity,
    variants: analysis.variants.map((v) => ({
      name: v.variant,
      cost: v.cost,
      perReplicaCapacity: v.perReplicaCapacity,
      current: v.currentReplicas,
      bounds: bounds[v.variant],
    })),
  };
}

/** Optimizes several models independently. */
export function optimizeCostAwareAll(models: readonly CostAwareModel[]): CostAwareResult[] {
  return models.map(optimizeCostAware);
}
