import type {
  ModelAnalysis,
  ReplicaMetric,
  SaturatedReplica,
  SaturationConfig,
  VariantAnalysis,
  VariantState,
} from "../types/decision.js";
import { compareNames, DEFAULT_VARIANT_COST } from "../types/decision.js";

/** Scale-down needs at least this many non-saturated replicas. */
export const MIN_NON_SATURATED_REPLICAS_FOR_SCALE_DOWN = 2;

export interface AnalyzeOptions {
  modelID: string;
  namespace: string;
  /** Time of the analysis (epoch ms); pure code never reads the clock itself. */
  now: number;
  /**
   * Variant states of the group: accelerator and cost of each analysed variant come from here, and
   * when given, metrics of pods whose variant is not listed are ignored.
   */
  variants?: readonly VariantState[];
}

interface VariantAcc {
  variant: string;
  state: VariantState | undefined;
  /** Metrics of a variant that is not in the variant states. */
  ignored: boolean;
  replicaCount: number;
  nonSaturatedCount: number;
  sumSpareKv: number;
  sumSpareQueue: number;
  maxKv: number;
  maxQueue: number;
  saturated: SaturatedReplica[];
}

/**
 * V1 saturation analysis of one model group (docs/design/saturation-analysis.md).
 *
 * A replica is saturated when `kv >= kvCacheThreshold` or `queue >= queueLengthThreshold`; the spare
 * capacity of the non-saturated replicas decides the scale-up signal, and an N/(N-1) projection decides
 * whether removing one replica is safe.
 */
export function analyzeSaturation(
  replicas: readonly ReplicaMetric[],
  config: SaturationConfig,
  opts: AnalyzeOptions,
): ModelAnalysis {
  const states = opts.variants;
  // Linear in the replicas: one Map lookup per pod, skipped while consecutive pods share a variant.
  const accs = new Map<string, VariantAcc>();
  const stateByName = states === undefined ? undefined : new Map(states.map((s) => [s.name, s]));
  let last: VariantAcc | undefined;
  let n = 0;
  let sumKv = 0;
  let sumQueue = 0;
  let total = 0;
  for (const r of replicas) {
    let acc = last !== undefined && last.variant === r.variant ? last : accs.get(r.variant);
    if (acc === undefined) {
      const state = stateByName?.get(r.variant);
      acc = {
        variant: r.variant,
        state,
        ignored: states !== undefined && state === undefined,
        replicaCount: 0,
        nonSaturatedCount: 0,
        sumSpareKv: 0,
        sumSpareQueue: 0,
        maxKv: 0,
        maxQueue: 0,
        saturated: [],
      };
      accs.set(r.variant, acc);
    }
    last = acc;
    if (acc.ignored) continue;
    total++;
    acc.replicaCount++;
    if (r.kvCacheUsage > acc.maxKv) acc.maxKv = r.kvCacheUsage;
    if (r.queueLength > acc.maxQueue) acc.maxQueue = r.queueLength;
    if (r.kvCacheUsage >= config.kvCacheThreshold) {
      acc.saturated.push({ pod: r.pod, reason: "kv" });
    } else if (r.queueLength >= config.queueLengthThreshold) {
      acc.saturated.push({ pod: r.pod, reason: "queue" });
    } else {
      const spareKv = config.kvCacheThreshold - r.kvCacheUsage;
      const spareQueue = config.queueLengthThreshold - r.queueLength;
      acc.nonSaturatedCount++;
      acc.sumSpareKv += spareKv;
      acc.sumSpareQueue += spareQueue;
      n++;
      sumKv += spareKv;
      sumQueue += spareQueue;
    }
  }

  const variants: VariantAnalysis[] = [];
  for (const acc of accs.values()) {
    if (acc.ignored) continue;
    const state = acc.state;
    variants.push({
      variant: acc.variant,
      accelerator: state?.accelerator ?? "",
      cost: state?.cost ?? DEFAULT_VARIANT_COST,
      replicaCount: acc.replicaCount,
      nonSaturatedCount: acc.nonSaturatedCount,
      avgSpareKv: acc.nonSaturatedCount > 0 ? acc.sumSpareKv / acc.nonSaturatedCount : 0,
      avgSpareQueue: acc.nonSaturatedCount > 0 ? acc.sumSpareQueue / acc.nonSaturatedCount : 0,
      maxKvCacheUsage: acc.maxKv,
      maxQueueLength: acc.maxQueue,
      saturatedReplicas: acc.saturated,
    });
  }
  variants.sort((a, b) => compareNames(a.variant, b.variant));

  const avgSpareKv = n > 0 ? sumKv / n : 0;
  const avgSpareQueue = n > 0 ? sumQueue / n : 0;

  let scaleUp = false;
  let scaleUpReason = "no replica metrics";
  if (total > 0) {
    const kvLow = avgSpareKv < config.kvSpareTrigger;
    const queueLow = avgSpareQueue < config.queueSpareTrigger;
    scaleUp = kvLow || queueLow;
    const kvText = `${avgSpareKv.toFixed(3)} < ${config.kvSpareTrigger.toFixed(3)}`;
    const qText = `${avgSpareQueue.toFixed(1)} < ${config.queueSpareTrigger.toFixed(1)}`;
    if (kvLow && queueLow)
      scaleUpReason = `both KV spare (${kvText}) and queue spare (${qText}) Saturation low`;
    else if (kvLow) scaleUpReason = `KV spare Saturation low (${kvText})`;
    else if (queueLow) scaleUpReason = `queue spare Saturation low (${qText})`;
    else
      scaleUpReason =
        `spare capacity sufficient (KV ${avgSpareKv.toFixed(3)} >= ${config.kvSpareTrigger.toFixed(3)}, ` +
        `queue ${avgSpareQueue.toFixed(1)} >= ${config.queueSpareTrigger.toFixed(1)})`;
  }

  const down = scaleDownSafety(n, avgSpareKv, avgSpareQueue, config);

  return {
    modelID: opts.modelID,
    namespace: opts.namespace,
    totalReplicas: total,
    nonSaturatedReplicas: n,
    avgSpareKv,
    avgSpareQueue,
    scaleUp,
    scaleUpReason,
    scaleDownSafe: down.safe,
    scaleDownReason: down.reason,
    variants,
    analyzedAt: opts.now,
  };
}

/**
 * Scale-down safety (a permission, never an initiator): with N non-saturated replicas, project the load
 * onto N-1 replicas and require both spare triggers to still hold.
 */
export function scaleDownSafety(
  n: number,
  avgSpareKv: number,
  avgSpareQueue: number,
  config: SaturationConfig,
): { safe: boolean; reason: string } {
  if (n < MIN_NON_SATURATED_REPLICAS_FOR_SCALE_DOWN) {
    return {
      safe: false,
      reason: `fewer than ${MIN_NON_SATURATED_REPLICAS_FOR_SCALE_DOWN} non-saturated replicas (${n})`,
    };
  }
  const loadKv = config.kvCacheThreshold - avgSpareKv;
  const loadQueue = config.queueLengthThreshold - avgSpareQueue;
  const factor = n / (n - 1);
  const spareKvAfter = config.kvCacheThreshold - loadKv * factor;
  const spareQueueAfter = config.queueLengthThreshold - loadQueue * factor;
  const kvOk = spareKvAfter >= config.kvSpareTrigger;
  const queueOk = spareQueueAfter >= config.queueSpareTrigger;
  const text =
    `KV spare after removing one replica ${spareKvAfter.toFixed(3)} ${kvOk ? ">=" : "<"} ` +
    `${config.kvSpareTrigger.toFixed(3)}, queue spare ${spareQueueAfter.toFixed(1)} ${queueOk ? ">=" : "<"} ` +
    `${config.queueSpareTrigger.toFixed(1)}`;
  return { safe: kvOk && queueOk, reason: text };
}
