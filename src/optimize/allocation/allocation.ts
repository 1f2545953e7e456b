/**
 * Candidate allocations of one model: led by each of its variants, the replicas needed to serve the
 * model's load within its SLO targets and each variant's maximum (what the lead cannot carry goes to
 * the next cheapest variants), their cost, and the transition penalty from the current allocation (the
 * "value" the solver minimises). Pure code; see docs/design/model-based-optimizer.md.
 *
 * Units: request rates in requests per second (`PerSec`), times in milliseconds (`Ms`).
 */
import { QueueAnalyzer, sizedRatePerSec, type SloTargets } from "../../analyze/queueing-model/analyzer.js";
import type { ServiceParams } from "../../analyze/queueing-model/performance.js";
import { compareNames, tightestBound, type ReplicaBound } from "../../types/decision.js";

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
  /** Maximums of the variant's replicas; the tightest applies (none = unbounded). */
  bounds?: readonly ReplicaBound[];
}

/** The observed load of a model. */
export interface ModelLoad {
  arrivalRatePerSec: number;
  avgInputTokens: number;
  avgOutputTokens: number;
}

/** Replicas of one variant. */
export interface VariantReplicas {
  variant: string;
  replicas: number;
}

/** What the solver needs to know about one model. */
export interface ModelDemand {
  modelID: string;
  namespace: string;
  /** 1 (most important) .. 100 (default); values outside the range count as 100. */
  priority?: number;
  targets: SloTargets;
  load: ModelLoad;
  /** Replicas of the lead variant of every candidate, within that variant's maximum. */
  minReplicas: number;
  /** Only consider the current variants (when there are any). */
  keepVariant?: boolean;
  /** Current replicas per variant; absent, empty or 0 replicas = none. */
  current?: readonly VariantReplicas[];
  variants: VariantProfile[];
}

/** One variant's share of an allocation. */
export interface VariantShare {
  variant: string;
  accelerator: string;
  replicas: number;
  /** Batch size used by the model. */
  batchSize: number;
  cost: number;
  /** Predicted inter-token latency per replica at the share's load. */
  itlMs: number;
  /** Predicted wait + prefill per replica at the share's load. */
  ttftMs: number;
  /** Batch occupancy per replica, 0..1. */
  utilization: number;
  /** Sized capacity of one replica within the targets. */
  maxRatePerReplicaPerSec: number;
  /** Load this share serves. */
  ratePerSec: number;
  /** GPUs the share uses. */
  gpus: number;
  /** The variant's maximum, when it kept this share from taking (more of) the load. */
  cappedBy?: ReplicaBound;
}

/**
 * One candidate (or chosen) allocation of a model: the lead variant's share first, then the shares of
 * the variants that took the load the ones before could not carry within their maximums.
 */
export interface Allocation {
  shares: VariantShare[];
  /** Replicas of all shares. */
  replicas: number;
  cost: number;
  /** Transition penalty from the current allocation; the solver minimises it. */
  value: number;
  /** Load the allocation was sized for. */
  totalRatePerSec: number;
  /** Load left over when every variant is at its maximum (0 = the shares serve it all). */
  unmetRatePerSec: number;
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

/** `wanted` replicas of `v` within its maximum, and the bound when it cut them. */
function withinMaximum(v: VariantProfile, wanted: number): { replicas: number; cappedBy?: ReplicaBound } {
  const bound = tightestBound(v.bounds);
  return bound !== undefined && bound.maxReplicas < wanted
    ? { replicas: Math.max(0, bound.maxReplicas), cappedBy: bound }
    : { replicas: wanted };
}

function allocationOf(shares: VariantShare[], totalRatePerSec: number, unmetRatePerSec: number): Allocation {
  let replicas = 0;
  let cost = 0;
  for (const s of shares) {
    replicas += s.replicas;
    cost += s.cost;
  }
  return { shares, replicas, cost, value: cost, totalRatePerSec, unmetRatePerSec };
}

/** Replicas for the minimum when the model has no load (no rate or no output tokens). */
function zeroLoadShare(d: ModelDemand, v: VariantProfile): VariantShare {
  const { replicas, cappedBy } = withinMaximum(v, d.minReplicas);
  const base = {
    variant: v.name,
    accelerator: v.accelerator,
    replicas,
    cost: v.costPerReplica * replicas,
    utilization: 0,
    ratePerSec: 0,
    gpus: replicas * gpusPerReplica(v),
    ...(cappedBy && { cappedBy }),
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

/** A variant sized for the model's request mix: its queue model and one replica's capacity. */
interface Sized {
  v: VariantProfile;
  analyzer: QueueAnalyzer;
  batchSize: number;
  perReplicaPerSec: number;
}

type SizeResult = { ok: true; sized: Sized } | { ok: false; variant: string; reason: string };

/** Load validity shared by every variant; undefined when valid. */
function invalidLoad(d: ModelDemand): string | undefined {
  const { arrivalRatePerSec, avgInputTokens, avgOutputTokens } = d.load;
  return !(arrivalRatePerSec >= 0) || !(avgInputTokens >= 0) || !(avgOutputTokens >= 0)
    ? "load: rate and token averages must be >= 0"
    : undefined;
}

const idle = (d: ModelDemand): boolean => d.load.arrivalRatePerSec === 0 || d.load.avgOutputTokens === 0;

/** Sizes one replica of `v` within the targets (the model has load). */
function sizeVariant(d: ModelDemand, v: VariantProfile): SizeResult {
  const n = batchSize(v, d.load.avgOutputTokens);
  try {
    const analyzer = new QueueAnalyzer({
      maxBatchSize: n,
      maxQueueSize: n * MAX_QUEUE_TO_BATCH_RATIO,
      params: v.params,
      request: { inputTokens: d.load.avgInputTokens, outputTokens: Math.max(d.load.avgOutputTokens, 1) },
    });
    return {
      ok: true,
      sized: { v, analyzer, batchSize: n, perReplicaPerSec: sizedRatePerSec(analyzer, d.targets) },
    };
  } catch (err) {
    return { ok: false, variant: v.name, reason: (err as Error).message };
  }
}

/** The load to size for: the arrival rate, or TPS / output tokens when a TPS target asks for more. */
function loadToServe(d: ModelDemand): number {
  const tps = d.targets.tps ?? 0;
  const { arrivalRatePerSec: rate, avgOutputTokens: out } = d.load;
  return tps > 0 ? Math.max(rate, tps / out) : rate;
}

/** `replicas` of a sized variant serving `ratePerSec` together. Throws when the queue model does. */
function loadedShare(s: Sized, replicas: number, ratePerSec: number, cappedBy?: ReplicaBound): VariantShare {
  const m = s.analyzer.analyze(ratePerSec / replicas);
  return {
    variant: s.v.name,
    accelerator: s.v.accelerator,
    replicas,
    batchSize: s.batchSize,
    cost: s.v.costPerReplica * replicas,
    itlMs: m.itlMs,
    ttftMs: m.waitMs + m.prefillMs,
    utilization: m.utilization,
    maxRatePerReplicaPerSec: s.perReplicaPerSec,
    ratePerSec,
    gpus: replicas * gpusPerReplica(s.v),
    ...(cappedBy && { cappedBy }),
  };
}

/**
 * The allocation led by `lead`: the lead takes max(ceil(load / capacity), minReplicas) replicas within
 * its maximum; what it cannot carry goes to `next` in order, each within its own maximum. Load left
 * when every variant is at its maximum is reported as unmet.
 */
function fill(d: ModelDemand, lead: Sized, next: readonly Sized[]): Allocation {
  const total = loadToServe(d);
  const shares: VariantShare[] = [];
  let remaining = total;
  for (const s of [lead, ...next]) {
    if (remaining <= 0) break;
    const needed = Math.ceil(remaining / s.perReplicaPerSec);
    const { replicas, cappedBy } = withinMaximum(s.v, s === lead ? Math.max(needed, d.minReplicas) : needed);
    if (replicas === 0) continue;
    const served = Math.min(remaining, replicas * s.perReplicaPerSec);
    shares.push(loadedShare(s, replicas, served, cappedBy));
    remaining = replicas >= needed ? 0 : remaining - served;
  }
  return allocationOf(shares, total, remaining);
}

/** Cheapest capacity first (cost per req/s one replica serves), then by name. */
function byCostPerRate(a: Sized, b: Sized): number {
  const d = a.v.costPerReplica / a.perReplicaPerSec - b.v.costPerReplica / b.perReplicaPerSec;
  return d || compareNames(a.v.name, b.v.name);
}

/**
 * The allocation of `d` led by variant `v`, sized alone: replicas = max(ceil(load / per-replica
 * capacity), minReplicas) within the variant's maximum (load beyond it is unmet). A TPS target is a
 * floor on the load: the model is sized for at least TPS / output tokens req/s. Infeasible (with a
 * reason) when the load is invalid or the targets cannot be met by one replica.
 */
export function createAllocation(d: ModelDemand, v: VariantProfile): CandidateResult {
  const bad = invalidLoad(d);
  if (bad !== undefined) return { ok: false, variant: v.name, reason: bad };
  if (idle(d)) return { ok: true, allocation: allocationOf([zeroLoadShare(d, v)], 0, 0) };
  const r = sizeVariant(d, v);
  if (!r.ok) return r;
  try {
    return { ok: true, allocation: fill(d, r.sized, []) };
  } catch (err) {
    return { ok: false, variant: v.name, reason: (err as Error).message };
  }
}

/**
 * Penalty of moving from `from` to `to` (replicas and cost per variant): the cost difference when
 * both use the same variants (0 when nothing changes); with any other set of variants also 10 % of
 * both costs. Variants with 0 replicas do not count; no replicas at all is a set of its own, cost 0.
 */
export function transitionPenalty(
  from: ReadonlyArray<VariantReplicas & { cost: number }>,
  to: ReadonlyArray<VariantReplicas & { cost: number }>,
): number {
  const a = from.filter((x) => x.replicas > 0);
  const b = to.filter((x) => x.replicas > 0);
  let costA = 0;
  let costB = 0;
  for (const x of a) costA += x.cost;
  for (const x of b) costB += x.cost;
  const same = a.length === b.length && a.every((x) => b.some((y) => y.variant === x.variant));
  return same ? costB - costA : VARIANT_CHANGE_PENALTY * (costA + costB) + (costB - costA);
}

export interface Candidates {
  /** Feasible allocations (distinct mixes) sorted by value, then lead variant name. */
  allocations: Allocation[];
  /** Variants that cannot serve the model, with the reason. */
  infeasible: Array<{ variant: string; reason: string }>;
}

/** The variants and replicas of an allocation, in name order: equal keys are the same mix. */
function mixKey(a: Allocation): string {
  return a.shares
    .map((s) => `${s.variant}=${s.replicas}`)
    .sort()
    .join(",");
}

/**
 * Candidate allocations of a model, one led by each variant that can serve it (identical mixes once),
 * valued by their transition penalty from the current allocation. Load a lead cannot carry within its
 * maximum goes to the other variants, cheapest capacity first. With `keepVariant` and current variants
 * that still exist, only those are candidates.
 */
export function candidateAllocations(d: ModelDemand): Candidates {
  let variants = [...d.variants].sort((a, b) => compareNames(a.name, b.name));
  const cur = (d.current ?? []).filter((c) => c.replicas > 0);
  if (d.keepVariant && cur.length > 0)
    variants = variants.filter((v) => cur.some((c) => c.variant === v.name));
  const from = cur.flatMap((c) => {
    const v = d.variants.find((x) => x.name === c.variant);
    return v ? [{ ...c, cost: c.replicas * v.costPerReplica }] : [];
  });
  const out: Candidates = { allocations: [], infeasible: [] };
  const bad = invalidLoad(d);
  if (bad !== undefined) {
    out.infeasible = variants.map((v) => ({ variant: v.name, reason: bad }));
    return out;
  }
  const found: Allocation[] = [];
  if (idle(d)) {
    for (const v of variants) found.push(allocationOf([zeroLoadShare(d, v)], 0, 0));
  } else {
    const sized: Sized[] = [];
    for (const v of variants) {
      const r = sizeVariant(d, v);
      if (r.ok) sized.push(r.sized);
      else out.infeasible.push({ variant: r.variant, reason: r.reason });
    }
    const byCost = [...sized].sort(byCostPerRate);
    for (const lead of sized) {
      try {
        found.push(
          fill(
            d,
            lead,
            byCost.filter((s) => s !== lead),
          ),
        );
      } catch (err) {
        out.infeasible.push({ variant: lead.v.name, reason: (err as Error).message });
      }
    }
  }
  for (const a of found) a.value = transitionPenalty(from, a.shares);
  const lead = (a: Allocation): string => a.shares[0]?.variant ?? "";
  found.sort((a, b) => a.value - b.value || compareNames(lead(a), lead(b)));
  const seen = new Set<string>();
  for (const a of found) {
    const key = mixKey(a);
    if (seen.has(key)) continue;
    seen.add(key);
    out.allocations.push(a);
  }
  return out;
}
