/**
 * The token-capacity engine ("V2", `analyzerName: saturation`): the token-capacity analyzer and the
 * cost-aware optimizer behind the engine's analyzer/optimizer interfaces. The algorithms are described
 * in docs/design/token-capacity-analyzer.md and docs/design/cost-aware-optimizer.md; this file only
 * translates between the shared vocabulary and their inputs and outputs.
 */
import {
  analyzeTokenCapacity,
  type CapacityStore,
  type SchedulerQueue,
  type TokenReplica,
  type TokenVariant,
  type VllmParams,
} from "../analyze/token-capacity/index.js";
import { optimizeCostAware } from "../optimize/cost-aware/index.js";
import { lookupBy } from "../util/small.js";
import type {
  AnalyzeInput,
  ModelAnalysis,
  OptimizeOptions,
  OptimizeResult,
  VariantAnalysis,
  VariantState,
} from "../types/decision.js";

/** What the token-capacity analyzer needs besides the shared analyzer input. */
export interface TokenCapacityContext {
  /** Capacity records and k2 history; the caller keeps it between cycles. */
  capacityStore: CapacityStore;
  /** vLLM parameters of the variants' Deployments, by variant name. */
  vllmParams?: Readonly<Record<string, VllmParams>>;
  /** Requests of the model waiting in the endpoint picker's queue, when it reports them. */
  schedulerQueue?: SchedulerQueue;
}

function round(x: number): number {
  return Math.round(x);
}

/** V2 analysis of one model, in the shared vocabulary (the token figures in `capacity`). */
export function analyzeTokens(input: AnalyzeInput, ctx: TokenCapacityContext): ModelAnalysis {
  const params = ctx.vllmParams ?? {};
  const variants: TokenVariant[] = input.variants.map((v) => ({
    name: v.name,
    accelerator: v.accelerator,
    cost: v.cost,
    gpusPerReplica: v.gpusPerReplica,
    current: v.current,
    ready: v.ready,
    vllmParams: Object.hasOwn(params, v.name) ? params[v.name] : undefined,
  }));
  // ReplicaMetric carries the token fields the analyzer reads: no copy per replica
  const replicas: readonly TokenReplica[] = input.replicas;
  const a = analyzeTokenCapacity(
    {
      modelID: input.modelID,
      namespace: input.namespace,
      variants,
      replicas,
      schedulerQueue: ctx.schedulerQueue,
    },
    input.config,
    ctx.capacityStore,
    input.now,
  );

  // peak KV usage and queue per analysed variant (same order as a.variants)
  const position = lookupBy(
    a.variants.map((v, i) => ({ v: v.variant, i })),
    (e) => e.v,
  );
  const indexOf = (name: string) => position(name)?.i ?? -1;
  const peakKv = new Array<number>(a.variants.length).fill(0);
  const peakQueue = new Array<number>(a.variants.length).fill(0);
  let last = 0;
  for (const r of input.replicas) {
    const i = a.variants[last]?.variant === r.variant ? last : indexOf(r.variant);
    if (i < 0) continue;
    last = i;
    if (r.kvCacheUsage > peakKv[i]) peakKv[i] = r.kvCacheUsage;
    if (r.queueLength > peakQueue[i]) peakQueue[i] = r.queueLength;
  }
  let total = 0;
  let saturated = 0;
  const out: VariantAnalysis[] = a.variants.map((v, i) => {
    total += v.replicaCount;
    saturated += v.saturatedReplicas.length;
    return {
      variant: v.variant,
      accelerator: v.accelerator,
      cost: v.cost,
      replicaCount: v.replicaCount,
      nonSaturatedCount: v.replicaCount - v.saturatedReplicas.length,
      avgSpareKv: Math.max(0, 1 - v.utilization),
      avgSpareQueue: 0,
      maxKvCacheUsage: peakKv[i],
      maxQueueLength: peakQueue[i],
      saturatedReplicas: v.saturatedReplicas.map((pod) => ({ pod, reason: "kv" as const })),
      perReplicaCapacity: v.perReplicaCapacity,
    };
  });
  const figures = `demand ${round(a.demand)}, supply ${round(a.supply)} tokens`;
  return {
    modelID: a.modelID,
    namespace: a.namespace,
    totalReplicas: total,
    nonSaturatedReplicas: total - saturated,
    avgSpareKv: Math.max(0, 1 - a.utilization),
    avgSpareQueue: 0,
    scaleUp: a.requiredCapacity > 0,
    scaleUpReason:
      a.requiredCapacity > 0
        ? `required capacity ${round(a.requiredCapacity)} tokens (${figures}, scale-up threshold ${a.scaleUpThreshold})`
        : `no capacity required (${figures})`,
    scaleDownSafe: a.spareCapacity > 0,
    scaleDownReason:
      a.scaleDownBlocked ??
      `spare capacity ${round(a.spareCapacity)} tokens (${figures}, scale-down boundary ${a.scaleDownBoundary})`,
    variants: out,
    analyzedAt: a.analyzedAt,
    analyzer: "saturation",
    capacity: {
      supply: a.supply,
      anticipatedSupply: a.anticipatedSupply,
      demand: a.demand,
      schedulerQueueDemand: a.schedulerQueueDemand,
      requiredCapacity: a.requiredCapacity,
      spareCapacity: a.spareCapacity,
    },
  };
}

/**
 * Cost-aware targets from a V2 analysis: as many replicas as the capacity gap needs, cheapest capacity
 * first, within each variant's bounds. No transition lock: the analysis counts pending replicas in its
 * anticipated supply, so a decision in flight is not repeated.
 */
export function optimizeTokens(
  analysis: ModelAnalysis,
  states: readonly VariantState[],
  _opts: OptimizeOptions,
): OptimizeResult {
  const find = lookupBy(analysis.variants, (v) => v.variant);
  const r = optimizeCostAware({
    modelID: analysis.modelID,
    namespace: analysis.namespace,
    requiredCapacity: analysis.capacity?.requiredCapacity ?? 0,
    spareCapacity: analysis.capacity?.spareCapacity ?? 0,
    variants: states.map((s) => ({
      name: s.name,
      cost: s.cost,
      perReplicaCapacity: find(s.name)?.perReplicaCapacity ?? 0,
      current: s.current,
      bounds: s.bounds,
    })),
  });
  return {
    targets: r.decisions.map((d) => ({
      variant: d.variant,
      target: d.targetReplicas,
      action: d.action,
      reason: d.reason,
      wasConstrained: d.cappedBy !== undefined,
      analysed: (find(d.variant)?.replicaCount ?? 0) > 0,
    })),
    inTransition: false,
    transitionReleased: false,
    transitionReasons: [],
    state: { firstSeen: {}, decisions: {} },
  };
}
