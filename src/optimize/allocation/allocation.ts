/**
 * Candidate allocations of one model: for each of its variants, the replicas needed to serve the
 * model's load within its SLO targets, their cost, and the transition penalty from the current
 * allocation (the "value" the solver minimises). Pure code; see docs/design/model-based-optimizer.md.
 *
 * Units: request rates in requests per second (`PerSec`), times in milliseconds (`Ms`).
 */
import { QueueAnalyzer, sizedRatePerSec, type SloTargets } from "../../analyze/queueing-model/analyzer.js";
import type { ServiceParams } from "../../analyze/queueing-model/performance.js";

/** Requests allowed to wait per batch slot in the sizing model. */
export const MAX_QUEUE_TO_BATCH_RATIO = 10;
/** Share of the old and new cost charged for moving a model to another variant. */
export const VARIANT_CHANGE_PENALTY = 0.1;

/** One variant of a model: the model served on one accelerator type. */
export interface VariantProfile {
  /** Variant (VariantAutoscaling) name. */
  name: string;
  /** Accelerator short name; the key of the GPU inventory. */
  accelerator: string;
  /** Cost of one replica. */
  costPerReplica: number;
  /** GPUs one replica uses (values <= 0 count as 1). */
  gpusPerReplica: number;
  /** Requests served concurrently (vLLM `--max-num-seqs`). */
  maxBatchSize: number;
  /**
   * Output length at which `maxBatchSize` was measured; when set, the batch size is rescaled to the
   * current output length (floor(maxBatchSize · atTokens / outputTokens), at least 1).
   */
  atTokens?: number;
  params: ServiceParams;
}

/** The observed load of a model. */
export interface ModelLoad {
  arrivalRatePerSec: number;
  avgInputTokens: number;
  avgOutputTokens: number;
}

/** What the solver needs to know about one model. */
export interface ModelDemand {
  modelID: string;
  namespace: string;
  /** 1 (most important) .. 100 (default); values outside the range count as 100. */
  priority?: number;
  targets: SloTargets;
  load: ModelLoad;
  minReplicas: number;
  /** Only consider the current variant (when there is one). */
  keepVariant?: boolean;
  /** Current allocation; absent or 0 replicas = none. */
  current?: { variant: string; replicas: number };
  variants: VariantProfile[];
}

/** One candidate (or chosen) allocation of a model. */
export interface Allocation {
  variant: string;
  accelerator: string;
  replicas: number;
  /** Batch size used by the model. */
  batchSize: number;
  cost: number;
  /** Transition penalty from the current allocation; the solver minimises it. */
  value: number;
  /** Predicted inter-token latency per replica at the allocated load. */
  itlMs: number;
  /** Predicted wait + prefill per replica at the allocated load. */
  ttftMs: number;
  /** Batch occupancy per replica, 0..1. */
  utilization: number;
  /** Sized capacity of one replica within the targets. */
  maxRatePerReplicaPerSec: number;
  /** Load the replicas were sized for. */
  totalRatePerSec: number;
  /** GPUs the allocation uses. */
  gpus: number;
}

export type CandidateResult =
  { ok: true; allocation: Allocation } | { ok: false; variant: string; reason: string };

/** Priority clamped to 1..100 (100 when unset or out of range). */
export function effectivePriority(p: number | undefined): number {
  return p !== undefined && Number.isInteger(p) && p >= 1 && p <= 100 ? p : 100;
}

/** GPUs one replica of `v` uses (values <= 0 count as 1). */
function gpusPerReplica(v: VariantProfile): number {
  return v.gpusPerReplica > 0 ? v.gpusPerReplica : 1;
}

/** Replicas for the minimum when the model has no load (no rate or no output tokens). */
function zeroLoadAllocation(d: ModelDemand, v: VariantProfile): Allocation {
  const replicas = d.minReplicas;
  const base = {
    variant: v.name,
    accelerator: v.accelerator,
    replicas,
    cost: v.costPerReplica * replicas,
    value: v.costPerReplica * replicas,
    utilization: 0,
    totalRatePerSec: 0,
    gpus: replicas * gpusPerReplica(v),
  };
  if (replicas === 0) return { ...base, batchSize: 0, itlMs: 0, ttftMs: 0, maxRatePerReplicaPerSec: 0 };
  const { alpha, beta } = v.params;
  const n = v.maxBatchSize;
  return {
    ...base,
    batchSize: n,
    itlMs: alpha + beta,
    ttftMs: alpha + beta,
    // Light-load estimate of the full-batch rate: one prefill-free first iteration plus a full batch.
    maxRatePerReplicaPerSec: (n / (alpha + beta + (alpha + beta * n))) * 1000,
  };
}

/** Batch size the queue model uses for this variant at the current output length. */
function batchSize(v: VariantProfile, outputTokens: number): number {
  if (v.atTokens === undefined || v.atTokens <= 0) return v.maxBatchSize;
  return Math.max(Math.floor((v.maxBatchSize * v.atTokens) / outputTokens), 1);
}

/**
 * The allocation of `d` on variant `v`: replicas = max(ceil(load / per-replica capacity), minReplicas).
 * A TPS target is a floor on the load: the model is sized for at least TPS / output tokens req/s.
 * Infeasible (with a reason) when the load is invalid or the targets cannot be met by one replica.
 */
export function createAllocation(d: ModelDemand, v: VariantProfile): CandidateResult {
  const fail = (reason: string): CandidateResult => ({ ok: false, variant: v.name, reason });
  const { arrivalRatePerSec, avgInputTokens, avgOutputTokens } = d.load;
  if (!(arrivalRatePerSec >= 0) || !(avgInputTokens >= 0) || !(avgOutputTokens >= 0)) {
    return fail("load: rate and token averages must be >= 0");
  }
  if (arrivalRatePerSec === 0 || avgOutputTokens === 0) {
    return { ok: true, allocation: zeroLoadAllocation(d, v) };
  }
  const n = batchSize(v, avgOutputTokens);
  let analyzer: QueueAnalyzer;
  let perReplica: number;
  try {
    analyzer = new QueueAnalyzer({
      maxBatchSize: n,
      maxQueueSize: n * MAX_QUEUE_TO_BATCH_RATIO,
      params: v.params,
      request: { inputTokens: avgInputTokens, outputTokens: Math.max(avgOutputTokens, 1) },
    });
    perReplica = sizedRatePerSec(analyzer, d.targets);
  } catch (err) {
    return fail((err as Error).message);
  }
  const tps = d.targets.tps ?? 0;
  const totalRatePerSec = tps > 0 ? Math.max(arrivalRatePerSec, tps / avgOutputTokens) : arrivalRatePerSec;
  const replicas = Math.max(Math.ceil(totalRatePerSec / perReplica), d.minReplicas);
  let m;
  try {
    m = analyzer.analyze(totalRatePerSec / replicas);
  } catch (err) {
    return fail((err as Error).message);
  }
  const cost = v.costPerReplica * replicas;
  return {
    ok: true,
    allocation: {
      variant: v.name,
      accelerator: v.accelerator,
      replicas,
      batchSize: n,
      cost,
      value: cost,
      itlMs: m.itlMs,
      ttftMs: m.waitMs + m.prefillMs,
      utilization: m.utilization,
      maxRatePerReplicaPerSec: perReplica,
      totalRatePerSec,
      gpus: replicas * gpusPerReplica(v),
    },
  };
}

/**
 * Penalty of moving from `from` to `to`: 0 when nothing changes; the cost difference on the same
 * variant; on another variant also 10 % of both costs. No allocation (or 0 replicas) counts as its own
 * "variant" with cost 0.
 */
export function transitionPenalty(
  from: { variant: string; replicas: number; cost: number } | undefined,
  to: { variant: string; replicas: number; cost: number },
): number {
  const a = from && from.replicas > 0 ? from : { variant: "", replicas: 0, cost: 0 };
  const bVariant = to.replicas > 0 ? to.variant : "";
  if (a.variant === bVariant) return a.replicas === to.replicas ? 0 : to.cost - a.cost;
  return VARIANT_CHANGE_PENALTY * (a.cost + to.cost) + (to.cost - a.cost);
}

export interface Candidates {
  /** Feasible allocations sorted by value, then variant name. */
  allocations: Allocation[];
  /** Variants that cannot serve the model, with the reason. */
  infeasible: Array<{ variant: string; reason: string }>;
}

/**
 * Candidate allocations of a model, valued by their transition penalty from the current allocation.
 * With `keepVariant` and a current variant that still exists, only that variant is a candidate.
 */
export function candidateAllocations(d: ModelDemand): Candidates {
  let variants = [...d.variants].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const cur = d.current && d.current.replicas > 0 ? d.current : undefined;
  const curVariant = cur ? d.variants.find((v) => v.name === cur.variant) : undefined;
  if (d.keepVariant && cur) variants = variants.filter((v) => v.name === cur.variant);
  const from =
    cur && curVariant
      ? { variant: cur.variant, replicas: cur.replicas, cost: cur.replicas * curVariant.costPerReplica }
      : undefined;
  const out: Candidates = { allocations: [], infeasible: [] };
  for (const v of variants) {
    const r = createAllocation(d, v);
    if (!r.ok) {
      out.infeasible.push({ variant: r.variant, reason: r.reason });
      continue;
    }
    r.allocation.value = transitionPenalty(from, r.allocation);
    out.allocations.push(r.allocation);
  }
  out.allocations.sort(
    (a, b) => a.value - b.value || (a.variant < b.variant ? -1 : a.variant > b.variant ? 1 : 0),
  );
  return out;
}
