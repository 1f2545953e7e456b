import { resolveSaturationConfig } from "../../config/saturation.js";
import { DEFAULT_SLO_MULTIPLIER } from "../../config/slo.js";
import { groupByModel } from "../../engine/grouping.js";
import { decideCycle, type EngineOptions, type ModelInput } from "../../engine/pipeline.js";
import type { VllmParams } from "../../analyze/token-capacity/index.js";
import type { ModelDecisions, ModelSizing, ReplicaMetric, VariantState } from "../../engine/types.js";
import { groupKey } from "../../engine/types.js";
import type { Snapshot, SnapshotScaleToZero } from "./snapshot.js";
import { snapshotStore } from "./token-capacity.js";

/** Output of `wva decide` (docs/user-guide/wva-decide.md). */
export interface DecideOutput {
  models: Array<{
    modelID: string;
    namespace: string;
    analysis: {
      totalReplicas: number;
      nonSaturatedReplicas: number;
      avgSpareKv: number;
      avgSpareQueue: number;
      scaleUp: boolean;
      scaleDownSafe: boolean;
      inTransition: boolean;
      /** queueing-model only: the load, the targets and the sized rate per replica of every variant. */
      sizing?: {
        /** Requests per second sized for: the replicas' rate plus `backlogRate`. */
        arrivalRate: number;
        /** Waiting requests over the TTFT target, when there are any. */
        backlogRate?: number;
        avgInputTokens: number;
        avgOutputTokens: number;
        targets?: { ttftMs: number; itlMs: number; source: string };
        variants: Array<{ variant: string; ratePerReplica?: number; infeasible?: string }>;
        noDecision?: string;
      };
      /** Token-capacity analyzer only, in tokens. */
      requiredCapacity?: number;
      spareCapacity?: number;
      supply?: number;
      demand?: number;
    };
    decisions: Array<{
      variant: string;
      accelerator: string;
      currentReplicas: number;
      targetReplicas: number;
      action: string;
      reason: string;
      wasLimited: boolean;
      /** Token-capacity analyzer only: tokens one replica holds before it saturates. */
      perReplicaCapacity?: number;
    }>;
  }>;
}

/** Rounds away binary noise (0.04500000000000004 → 0.045) so the output is stable and readable. */
export function roundValue(x: number): number {
  return Math.round(x * 1e6) / 1e6 + 0;
}

function sizingOutput(s: ModelSizing): NonNullable<DecideOutput["models"][number]["analysis"]["sizing"]> {
  return {
    arrivalRate: roundValue(s.arrivalRatePerSec),
    ...(s.backlogRatePerSec !== undefined && { backlogRate: roundValue(s.backlogRatePerSec) }),
    avgInputTokens: roundValue(s.avgInputTokens),
    avgOutputTokens: roundValue(s.avgOutputTokens),
    ...(s.targets && {
      targets: {
        ttftMs: roundValue(s.targets.ttftMs),
        itlMs: roundValue(s.targets.itlMs),
        source: s.targets.source,
      },
    }),
    variants: s.variants.map((v) => ({
      variant: v.variant,
      ...(v.ratePerReplicaPerSec !== undefined && { ratePerReplica: roundValue(v.ratePerReplicaPerSec) }),
      ...(v.infeasible !== undefined && { infeasible: v.infeasible }),
    })),
    ...(s.noDecision !== undefined && { noDecision: s.noDecision }),
  };
}

/** The token figures of a V2 analysis (nothing for V1, so V1 output keeps its shape). */
function capacityFigures(m: ModelDecisions): Partial<DecideOutput["models"][number]["analysis"]> {
  const c = m.analysis.capacity;
  if (c === undefined) return {};
  return {
    requiredCapacity: roundValue(c.requiredCapacity),
    spareCapacity: roundValue(c.spareCapacity),
    supply: roundValue(c.supply),
    demand: roundValue(c.demand),
  };
}

/** The engine inputs of a snapshot, one per model group. */
export function snapshotModels(snapshot: Snapshot): ModelInput[] {
  const map = { default: snapshot.saturation, overrides: snapshot.saturationOverrides };
  const stzByGroup = new Map<string, SnapshotScaleToZero>(
    snapshot.scaleToZero.map((s) => [groupKey(s.modelID, s.namespace), s]),
  );
  const sloByGroup = new Map(snapshot.slo.map((s) => [groupKey(s.modelID, s.namespace), s]));
  return groupByModel(snapshot.variants).map((g) => {
    const variants: VariantState[] = g.variants.map((v) => ({
      name: v.name,
      namespace: v.namespace,
      modelID: v.modelID,
      accelerator: v.accelerator,
      cost: v.cost,
      gpusPerReplica: v.gpusPerReplica,
      current: v.currentReplicas,
      ready: v.readyReplicas,
      desired: v.desiredReplicas,
      bounds: v.bounds,
      maxBatchSize: v.maxBatchSize,
      parameters: v.parameters,
    }));
    const replicas: ReplicaMetric[] = g.variants.flatMap((v) =>
      v.replicas.map(({ arrivalRate, ...r }) => ({ ...r, variant: v.name, arrivalRatePerSec: arrivalRate })),
    );
    const vllmParams: Record<string, VllmParams> = {};
    for (const v of g.variants) if (v.vllmParams !== undefined) vllmParams[v.name] = v.vllmParams;
    const key = groupKey(g.modelID, g.namespace);
    const stz = stzByGroup.get(key);
    const slo = sloByGroup.get(key);
    return {
      modelID: g.modelID,
      namespace: g.namespace,
      variants,
      replicas,
      config: resolveSaturationConfig(map, g.modelID, g.namespace)!,
      scaleToZero: stz === undefined ? undefined : { enabled: stz.enabled, requestCount: stz.requestCount },
      slo: {
        targets: slo && { ttftMs: slo.ttftMs, itlMs: slo.itlMs },
        sloMultiplier: DEFAULT_SLO_MULTIPLIER,
      },
      vllmParams,
      schedulerQueue: snapshot.tokens.schedulerQueues.get(groupKey(g.modelID, g.namespace)),
    };
  });
}

/** Runs the engine on a validated snapshot; the full per-model results with decision records. */
export function decideSnapshotDetailed(snapshot: Snapshot, opts: EngineOptions): ModelDecisions[] {
  return decideCycle(
    {
      models: snapshotModels(snapshot),
      enableLimiter: snapshot.saturation.enableLimiter,
      gpuInventory: snapshot.gpuInventory,
    },
    { ...opts, capacityStore: opts.capacityStore ?? snapshotStore(snapshot.tokens, opts.now) },
  ).models;
}

/**
 * `wva decide`: the engine on a snapshot, in its documented output format. Models are sorted by
 * namespace then modelID, decisions by variant name. A snapshot carries no transition history, so the
 * transition lock is never released here.
 */
export function decide(snapshot: Snapshot, opts: EngineOptions = { now: 0 }): DecideOutput {
  return {
    models: decideSnapshotDetailed(snapshot, opts).map((m) => ({
      modelID: m.modelID,
      namespace: m.namespace,
      analysis: {
        totalReplicas: m.analysis.totalReplicas,
        nonSaturatedReplicas: m.analysis.nonSaturatedReplicas,
        avgSpareKv: roundValue(m.analysis.avgSpareKv),
        avgSpareQueue: roundValue(m.analysis.avgSpareQueue),
        scaleUp: m.analysis.scaleUp,
        scaleDownSafe: m.analysis.scaleDownSafe,
        inTransition: m.inTransition,
        ...(m.analysis.sizing && { sizing: sizingOutput(m.analysis.sizing) }),
        ...capacityFigures(m),
      },
      decisions: m.decisions.map((d) => ({
        variant: d.variantName,
        accelerator: d.acceleratorName,
        currentReplicas: d.currentReplicas,
        targetReplicas: d.targetReplicas,
        action: d.action,
        reason: d.reason,
        wasLimited: d.wasLimited,
        ...(d.perReplicaCapacity === undefined
          ? {}
          : { perReplicaCapacity: roundValue(d.perReplicaCapacity) }),
      })),
    })),
  };
}
