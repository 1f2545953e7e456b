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
import { sortedSmall } from "../../util/small.js";

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
  // per variant, by index in `vs` (a model has a handful of variants: arrays, not maps)
  const vs = sortedSmall(model.variants, (a, b) => byName(a.name, b.name));
  const target = vs.map((v) => Math.max(0, v.current));
  const reasons: Array<string | undefined> = new Array<string | undefined>(vs.length);
  const capped: Array<ReplicaBound | undefined> = new Array<ReplicaBound | undefined>(vs.length);
  let unmet = 0;

  if (model.requiredCapacity > 0) {
    const head = `V2 scale-up (optimizer: cost-aware, required: ${tokens(model.requiredCapacity)})`;
    const order = sortedSmall(
      vs.map((_, i) => i).filter((i) => vs[i].perReplicaCapacity > 0),
      (i, j) => {
        const a = vs[i];
        const b = vs[j];
        return a.cost / a.perReplicaCapacity - b.cost / b.perReplicaCapacity || byName(a.name, b.name);
      },
    );
    let remaining = model.requiredCapacity;
    for (const i of order) {
      if (remaining <= 0) break;
      const v = vs[i];
      const t = target[i];
      const want = Math.ceil(remaining / v.perReplicaCapacity);
      const bound = tightestBound(v.bounds);
      const room = bound === undefined ? want : Math.max(0, bound.maxReplicas - t);
      const add = Math.min(want, room);
      if (add < want && bound !== undefined) {
        capped[i] = bound;
        const label = `${BOUND_LABELS[bound.source]} ${bound.maxReplicas}`;
        reasons[i] =
          add > 0
            ? `${head}; capped by ${label}, the rest goes to the next cheapest variant`
            : `V2 steady state (at maximum: ${label}; scale-up goes to the next cheapest variant)`;
      } else {
        reasons[i] = head;
      }
      target[i] = t + add;
      remaining -= add * v.perReplicaCapacity;
    }
    if (remaining > 0) {
      unmet = remaining;
      for (let i = 0; i < vs.length; i++) {
        if (capped[i] !== undefined) reasons[i] = `${reasons[i] as string}; unmet: ${tokens(remaining)}`;
      }
    }
  } else if (model.spareCapacity > 0) {
    const head = `V2 scale-down (optimizer: cost-aware, spare: ${tokens(model.spareCapacity)})`;
    let cheapest = -1;
    for (let i = 0; i < vs.length; i++) if (cheapest < 0 || vs[i].cost < vs[cheapest].cost) cheapest = i;
    const order = sortedSmall(
      vs.map((_, i) => i),
      (i, j) => vs[j].cost - vs[i].cost || byName(vs[j].name, vs[i].name),
    );
    let remaining = model.spareCapacity;
    for (const i of order) {
      if (remaining <= 0) break;
      const v = vs[i];
      if (v.perReplicaCapacity <= 0) continue;
      const t = target[i];
      const othersHaveReplicas = target.some((n, j) => j !== i && n > 0);
      const min = i === cheapest && !othersHaveReplicas ? 1 : 0;
      const remove = Math.min(Math.floor(remaining / v.perReplicaCapacity), t - min);
      if (remove <= 0) continue;
      target[i] = t - remove;
      remaining -= remove * v.perReplicaCapacity;
      reasons[i] = head;
    }
  }

  const decisions: CostAwareDecision[] = vs.map((v, i) => {
    const current = Math.max(0, v.current);
    const t = target[i];
    const action: Action = t > current ? "scale-up" : t < current ? "scale-down" : "no-change";
    let reason = reasons[i] ?? "V2 steady state";
    if (action === "no-change" && !reason.startsWith("V2 steady state")) reason = "V2 steady state";
    const d: CostAwareDecision = {
      variant: v.name,
      currentReplicas: current,
      targetReplicas: t,
      action,
      reason,
      perReplicaCapacity: v.perReplicaCapacity,
    };
    const bound = capped[i];
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
