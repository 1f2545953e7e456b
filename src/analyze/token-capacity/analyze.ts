// Over 450 lines: one algorithm and its private helpers (docs/design/token-capacity-analyzer.md).
/**
 * Token-capacity saturation analysis ("V2") of one model group: how many tokens each replica can hold
 * (memory bound k1, compute bound k2), how many the model needs, and the capacity to add or to remove.
 * The algorithm is described in docs/design/token-capacity-analyzer.md. Pure apart from the capacity
 * store passed in, which it reads and refreshes (no I/O, no clock: `now` is an argument).
 */
import { CapacityStore, historyAverage, outputBucket, type CapacityRecord, type K2History } from "./store.js";
import { effectiveMaxBatchedTokens, type VllmParams } from "./vllm-args.js";
import { lookupBy, sortedSmall } from "../../util/small.js";

import {
  DEFAULT_SCALE_DOWN_BOUNDARY,
  DEFAULT_SCALE_UP_THRESHOLD,
  type ReplicaMetric,
} from "../../types/decision.js";

export { DEFAULT_SCALE_DOWN_BOUNDARY, DEFAULT_SCALE_UP_THRESHOLD };
/** Bytes per token when the scheduler queue reports its size in bytes. */
export const BYTES_PER_TOKEN = 4;

/** The thresholds V2 reads (a subset of the saturation config entry). */
export interface TokenCapacityConfig {
  /** Fraction of the KV cache a replica may fill (memory bound k1). */
  kvCacheThreshold: number;
  /** Waiting requests from which a replica counts as compute-bound (observed k2). */
  queueLengthThreshold: number;
  /** Scale up above this utilisation; <= 0 takes DEFAULT_SCALE_UP_THRESHOLD. */
  scaleUpThreshold: number;
  /** Scale down below this utilisation; <= 0 takes DEFAULT_SCALE_DOWN_BOUNDARY. */
  scaleDownBoundary: number;
}

/**
 * Token metrics of one serving pod: the shared replica metrics V2 reads. A replica without a KV capacity
 * in tokens (`totalKvCapacityTokens` <= 0 or absent) has no capacity to analyse.
 */
export type TokenReplica = Pick<
  ReplicaMetric,
  | "pod"
  | "variant"
  | "queueLength"
  | "tokensInUse"
  | "totalKvCapacityTokens"
  | "numGpuBlocks"
  | "blockSize"
  | "avgInputTokens"
  | "avgOutputTokens"
  | "prefixCacheHitRate"
>;

/** One variant (VA + Deployment) as V2 sees it. */
export interface TokenVariant {
  /** VA name. */
  name: string;
  accelerator: string;
  cost: number;
  /** GPUs per replica (<= 0 counts as 1). */
  gpusPerReplica: number;
  /** Deployment replicas. */
  current: number;
  /** Ready replicas; `current − ready` are pending. */
  ready: number;
  /** vLLM parameters parsed from the Deployment's container, when known. */
  vllmParams?: VllmParams;
}

/** Requests of the model waiting in the endpoint picker's flow-control queue. */
export interface SchedulerQueue {
  /** Number of queued requests. */
  size: number;
  /** Total size of the queued requests in bytes. */
  bytes: number;
}

export interface TokenCapacityInput {
  modelID: string;
  namespace: string;
  variants: readonly TokenVariant[];
  /** Replicas of variants not listed in `variants` are ignored. */
  replicas: readonly TokenReplica[];
  schedulerQueue?: SchedulerQueue;
}

/** Which rule gave a replica's compute bound k2. */
export type K2Rule = "observed" | "historical" | "derived" | "fallback";

export interface ReplicaCapacity {
  pod: string;
  /** Tokens in use plus the input tokens of the waiting requests. */
  demand: number;
  /** Memory bound: KV capacity × kvCacheThreshold. */
  k1: number;
  /** Compute bound. */
  k2: number;
  k2Rule: K2Rule;
  /** min(k1, k2). */
  effectiveCapacity: number;
  saturated: boolean;
}

/** Where a variant's per-replica capacity came from. */
export type CapacitySource =
  "replicas" | "live-record" | "deployment-derived" | "deployment-record" | "compatible-record" | "none";

export interface TokenVariantAnalysis {
  variant: string;
  accelerator: string;
  cost: number;
  currentReplicas: number;
  readyReplicas: number;
  pendingReplicas: number;
  /** Replicas with token metrics. */
  replicaCount: number;
  /** Tokens one replica holds before it saturates (median over replicas, else from the store). */
  perReplicaCapacity: number;
  capacitySource: CapacitySource;
  /** Σ replica demand. */
  demand: number;
  /** ready × perReplicaCapacity. */
  totalCapacity: number;
  /** demand / totalCapacity (0 without capacity). */
  utilization: number;
  saturatedReplicas: string[];
  /** Per-replica bounds; filled only when the analysis is asked for detail (empty otherwise). */
  replicas: ReplicaCapacity[];
}

export interface TokenCapacityAnalysis {
  modelID: string;
  namespace: string;
  /** Σ ready × perReplicaCapacity. */
  supply: number;
  /** Σ (ready + pending) × perReplicaCapacity: supply once pending replicas are up. */
  anticipatedSupply: number;
  /** Σ variant demand + schedulerQueueDemand. */
  demand: number;
  schedulerQueueDemand: number;
  /** demand / supply (0 without supply). */
  utilization: number;
  /** Capacity to add: max(0, demand / scaleUpThreshold − anticipatedSupply). */
  requiredCapacity: number;
  /** Capacity that may go: max(0, supply − demand / scaleDownBoundary); 0 when scale-down is blocked. */
  spareCapacity: number;
  /** Why spare capacity was withheld (metrics missing for ready replicas). */
  scaleDownBlocked?: string;
  scaleUpThreshold: number;
  scaleDownBoundary: number;
  /** Sorted by variant name. */
  variants: TokenVariantAnalysis[];
  analyzedAt: number;
}

/**
 * Median of the values; with an even count the integer mean of the two middle values; 0 when empty.
 */
export function medianCapacity(values: readonly number[]): number {
  return medianInPlace([...values]);
}

/** medianCapacity of an array it may reorder (insertion sort: replica lists are short). */
function medianInPlace(s: number[]): number {
  const n = s.length;
  if (n === 0) return 0;
  for (let i = 1; i < n; i++) {
    const x = s[i];
    let j = i - 1;
    while (j >= 0 && s[j] > x) {
      s[j + 1] = s[j];
      j--;
    }
    s[j + 1] = x;
  }
  const mid = n >> 1;
  return n % 2 === 1 ? s[mid] : Math.trunc((s[mid - 1] + s[mid]) / 2);
}

/**
 * Compute bound derived from vLLM parameters and the average request shape: the scheduler runs
 * `N = min(B·O/(I+O), S)` sequences at once (B = batched tokens per step, S = max sequences), each
 * holding on average its input plus half its output, so `k2 = N·(I + O/2)`. 0 when not derivable.
 */
export function estimateK2(params: VllmParams | undefined, avgInput: number, avgOutput: number): number {
  if (params === undefined) return 0;
  const b = effectiveMaxBatchedTokens(params);
  if (b <= 0 || !(avgOutput > 0)) return 0;
  const input = avgInput > 0 ? avgInput : 0;
  const n = Math.min((b * avgOutput) / (input + avgOutput), params.maxNumSeqs);
  const k2 = Math.trunc(n * (input + avgOutput / 2));
  return k2 > 0 ? k2 : 0;
}

function positive(v: number | undefined): number {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : 0;
}

/** Thresholds with the V2 defaults applied. */
export function resolveThresholds(c: TokenCapacityConfig): { scaleUp: number; scaleDown: number } {
  return {
    scaleUp: c.scaleUpThreshold > 0 ? c.scaleUpThreshold : DEFAULT_SCALE_UP_THRESHOLD,
    scaleDown: c.scaleDownBoundary > 0 ? c.scaleDownBoundary : DEFAULT_SCALE_DOWN_BOUNDARY,
  };
}

interface ModelAverages {
  input: number;
  output: number;
  hitRate: number;
}

/** Reused for the replica capacities of one variant at a time (the analysis is synchronous). */
const scratch: number[] = [];

export interface TokenCapacityOptions {
  /** Keep each replica's bounds in `variants[].replicas` (explanations, tests); off in the engine. */
  detail?: boolean;
}

/**
 * Analyses one model group. The store is refreshed in place: `deployment` records for variants with
 * vLLM parameters, a `live` record for every variant with replica metrics, and k2 history for replicas
 * whose compute bound was observed. Call `store.evict(now)` once per cycle.
 */
export function analyzeTokenCapacity(
  input: TokenCapacityInput,
  config: TokenCapacityConfig,
  store: CapacityStore,
  now: number,
  opts: TokenCapacityOptions = {},
): TokenCapacityAnalysis {
  const { modelID, namespace } = input;
  const detail = opts.detail === true;
  const { scaleUp, scaleDown } = resolveThresholds(config);
  const queueThreshold = Math.trunc(config.queueLengthThreshold);

  const variants = sortedSmall(input.variants, (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const v of variants) {
    if (v.vllmParams === undefined) continue;
    const gpuCount = gpus(v);
    store.loadFromDeployment(
      { namespace, modelID, variant: v.name, accelerator: v.accelerator, gpuCount, vllmParams: v.vllmParams },
      now,
    );
  }

  // Replicas per variant (replicas usually come grouped by variant: a last-hit shortcut first), and the
  // model's average request shape.
  const position = lookupBy(
    variants.map((v, i) => ({ name: v.name, i })),
    (e) => e.name,
  );
  const lists: TokenReplica[][] = variants.map(() => []);
  let last = -1;
  let inSum = 0;
  let outSum = 0;
  let hitSum = 0;
  let shaped = 0;
  for (const r of input.replicas) {
    let i = last >= 0 && variants[last].name === r.variant ? last : -1;
    if (i < 0) i = position(r.variant)?.i ?? -1;
    if (i < 0) continue;
    last = i;
    // A replica without KV capacity has no capacity to analyse, but its request lengths still count.
    if ((r.totalKvCapacityTokens ?? 0) > 0) lists[i].push(r);
    const inTokens = positive(r.avgInputTokens);
    const outTokens = positive(r.avgOutputTokens);
    if (inTokens > 0 || outTokens > 0) {
      inSum += inTokens;
      outSum += outTokens;
      hitSum += positive(r.prefixCacheHitRate);
      shaped++;
    }
  }
  const avg: ModelAverages =
    shaped > 0
      ? { input: inSum / shaped, output: outSum / shaped, hitRate: hitSum / shaped }
      : { input: 0, output: 0, hitRate: 0 };

  const out = new Array<TokenVariantAnalysis>(variants.length);
  // Variants with replica metrics first: their live records bound the estimates of the others.
  for (let i = 0; i < variants.length; i++) {
    const reps = lists[i];
    if (reps.length === 0) continue;
    const v = variants[i];
    const params = v.vllmParams ?? store.get(namespace, modelID, v.name)?.vllmParams;
    const bounds = replicaBounds(reps, v, params, config, queueThreshold, modelID, store, now, detail);
    const capacity = medianInPlace(bounds.effective);
    const first = reps[0];
    store.updateLive(
      {
        namespace,
        modelID,
        variant: v.name,
        accelerator: v.accelerator,
        gpuCount: gpus(v),
        numGpuBlocks: first.numGpuBlocks ?? 0,
        blockSize: first.blockSize ?? 0,
        totalKvCapacityTokens: first.totalKvCapacityTokens ?? 0,
        effectiveCapacity: capacity,
      },
      now,
    );
    out[i] = variantAnalysis(v, reps.length, bounds, capacity, "replicas");
  }
  for (let i = 0; i < variants.length; i++) {
    if (lists[i].length > 0) continue;
    const { capacity, source } = storedCapacity(variants[i], namespace, modelID, config, avg, store);
    out[i] = variantAnalysis(variants[i], 0, noBounds(), capacity, source);
  }

  let supply = 0;
  let anticipated = 0;
  let demand = 0;
  let missing = 0;
  const missingIn: string[] = [];
  for (const a of out) {
    supply += a.totalCapacity;
    anticipated += (a.readyReplicas + a.pendingReplicas) * a.perReplicaCapacity;
    demand += a.demand;
    const gap = a.readyReplicas - a.replicaCount;
    if (gap > 0) {
      missing += gap;
      missingIn.push(a.variant);
    }
  }
  const schedulerQueueDemand = queueDemand(input.schedulerQueue, avg);
  demand += schedulerQueueDemand;
  const required = Math.max(0, demand / scaleUp - anticipated);
  let spare = Math.max(0, supply - demand / scaleDown);
  let scaleDownBlocked: string | undefined;
  if (missing > 0) {
    scaleDownBlocked = `token metrics missing for ${missing} ready replica(s) of ${missingIn.join(", ")}`;
    spare = 0;
  }
  const result: TokenCapacityAnalysis = {
    modelID,
    namespace,
    supply,
    anticipatedSupply: anticipated,
    demand,
    schedulerQueueDemand,
    utilization: supply > 0 ? demand / supply : 0,
    requiredCapacity: required,
    spareCapacity: spare,
    scaleUpThreshold: scaleUp,
    scaleDownBoundary: scaleDown,
    variants: out,
    analyzedAt: now,
  };
  if (scaleDownBlocked !== undefined) result.scaleDownBlocked = scaleDownBlocked;
  return result;
}

function gpus(v: TokenVariant): number {
  return v.gpusPerReplica > 0 ? v.gpusPerReplica : 1;
}

/** What the replicas of one variant say about their bounds. */
interface VariantBounds {
  /** Effective capacity per replica, in `scratch` (valid until the next variant). */
  effective: number[];
  /** Σ replica demand. */
  demand: number;
  saturated: string[];
  detail: ReplicaCapacity[];
}

const noBounds = (): VariantBounds => ({ effective: [], demand: 0, saturated: [], detail: [] });

/**
 * Demand, memory bound k1 and compute bound k2 of each replica of one variant (the four k2 rules in
 * docs/design/token-capacity-analyzer.md). An observed k2 joins the history at once, so a later replica
 * of the same variant and bucket already reads it as historical.
 */
function replicaBounds(
  reps: readonly TokenReplica[],
  v: TokenVariant,
  params: VllmParams | undefined,
  config: TokenCapacityConfig,
  queueThreshold: number,
  modelID: string,
  store: CapacityStore,
  now: number,
  detail: boolean,
): VariantBounds {
  const effective = scratch;
  effective.length = reps.length;
  const saturated: string[] = [];
  const replicas: ReplicaCapacity[] = [];
  let history: K2History | undefined = store.k2History(modelID, v.accelerator);
  let demand = 0;
  for (let j = 0; j < reps.length; j++) {
    const r = reps[j];
    const tokens = positive(r.tokensInUse);
    const queue = positive(r.queueLength);
    const avgIn = Math.trunc(positive(r.avgInputTokens));
    const avgOut = positive(r.avgOutputTokens);
    const need = tokens + (avgIn > 0 ? queue * avgIn : 0);
    const k1 = Math.trunc((r.totalKvCapacityTokens ?? 0) * config.kvCacheThreshold);
    const bucket = outputBucket(avgOut);
    let k2: number;
    let rule: K2Rule;
    if (queue >= queueThreshold && tokens > 0) {
      k2 = tokens;
      rule = "observed";
      store.addK2(modelID, v.accelerator, bucket, tokens, now);
      history ??= store.k2History(modelID, v.accelerator);
    } else {
      const hist = historyAverage(history, bucket);
      const derived = hist > 0 ? 0 : estimateK2(params, avgIn, avgOut);
      if (hist > 0) {
        k2 = Math.trunc(hist);
        rule = "historical";
      } else if (derived > 0) {
        k2 = derived;
        rule = "derived";
      } else {
        k2 = k1;
        rule = "fallback";
      }
    }
    const cap = Math.min(k1, k2);
    effective[j] = cap;
    demand += need;
    if (need >= cap) saturated.push(r.pod);
    if (detail) {
      replicas.push({
        pod: r.pod,
        demand: need,
        k1,
        k2,
        k2Rule: rule,
        effectiveCapacity: cap,
        saturated: need >= cap,
      });
    }
  }
  return { effective, demand, saturated, detail: replicas };
}

function variantAnalysis(
  v: TokenVariant,
  replicaCount: number,
  bounds: VariantBounds,
  capacity: number,
  source: CapacitySource,
): TokenVariantAnalysis {
  const current = Math.max(0, v.current);
  const pending = Math.max(0, current - Math.max(0, v.ready));
  const ready = current - pending;
  const total = ready * capacity;
  return {
    variant: v.name,
    accelerator: v.accelerator,
    cost: v.cost,
    currentReplicas: current,
    readyReplicas: ready,
    pendingReplicas: pending,
    replicaCount,
    perReplicaCapacity: capacity,
    capacitySource: source,
    demand: bounds.demand,
    totalCapacity: total,
    utilization: total > 0 ? bounds.demand / total : 0,
    saturatedReplicas: bounds.saturated,
    replicas: bounds.detail,
  };
}

/** Capacity of a variant without replica metrics (e.g. at zero replicas), from what the store knows. */
function storedCapacity(
  v: TokenVariant,
  namespace: string,
  modelID: string,
  config: TokenCapacityConfig,
  avg: ModelAverages,
  store: CapacityStore,
): { capacity: number; source: CapacitySource } {
  const rec = store.get(namespace, modelID, v.name);
  if (rec !== undefined && rec.effectiveCapacity > 0) return estimateStored(rec, config, avg, store);
  const params = v.vllmParams ?? rec?.vllmParams;
  const other = store.findCompatible(modelID, v.accelerator, gpus(v), params);
  if (other !== undefined && other.effectiveCapacity > 0) {
    return { capacity: other.effectiveCapacity, source: "compatible-record" };
  }
  return { capacity: 0, source: "none" };
}

function estimateStored(
  rec: CapacityRecord,
  config: TokenCapacityConfig,
  avg: ModelAverages,
  store: CapacityStore,
): { capacity: number; source: CapacitySource } {
  if (rec.learnedFrom === "live") return { capacity: rec.effectiveCapacity, source: "live-record" };
  const live = store.findCompatible(rec.modelID, rec.accelerator, rec.gpuCount, rec.vllmParams, {
    liveOnly: true,
    exclude: rec,
  });
  const liveCapacity = live !== undefined && live.effectiveCapacity > 0 ? live.effectiveCapacity : 0;
  let derived = avg.output > 0 ? estimateK2(rec.vllmParams, avg.input, avg.output) : 0;
  if (derived <= 0) {
    // A measurement on identical hardware and parameters beats the Deployment's batch size.
    return liveCapacity > 0
      ? { capacity: liveCapacity, source: "compatible-record" }
      : { capacity: rec.effectiveCapacity, source: "deployment-record" };
  }
  if (rec.totalKvCapacityTokens > 0) {
    derived = Math.min(derived, Math.trunc(rec.totalKvCapacityTokens * config.kvCacheThreshold));
  }
  if (liveCapacity > 0) derived = Math.min(derived, liveCapacity);
  return { capacity: derived, source: "deployment-derived" };
}

/**
 * Tokens the requests waiting in the endpoint picker will bring: their input (at least bytes / 4, less
 * what the prefix cache already holds) plus their output.
 */
function queueDemand(q: SchedulerQueue | undefined, avg: ModelAverages): number {
  if (q === undefined) return 0;
  const size = positive(q.size);
  const bytes = positive(q.bytes);
  if (size === 0 && bytes === 0) return 0;
  const input = Math.max(bytes / BYTES_PER_TOKEN, size * avg.input) * (1 - avg.hitRate);
  return input + size * avg.output;
}
