// Over 450 lines: the vocabulary every stage shares (plain types and small helpers), one module by design.
/**
 * The shared vocabulary of the decision code: plain-data types and small helpers used by every stage
 * (analyze, optimize, enforce, limit) and by the pipeline that composes them. This module imports
 * nothing, so every stage can depend on it without depending on another stage. See
 * docs/architecture.md for the layering.
 */
/** Saturation thresholds of one model (one resolved entry of the saturation ConfigMap). */
export interface SaturationConfig {
  /** A replica is saturated when its KV-cache usage is >= this (0..1). */
  kvCacheThreshold: number;
  /** A replica is saturated when its waiting queue is >= this (>= 0). */
  queueLengthThreshold: number;
  /** Scale up when the model-average spare KV capacity is < this (0..1, <= kvCacheThreshold). */
  kvSpareTrigger: number;
  /** Scale up when the model-average spare queue capacity is < this (>= 0). */
  queueSpareTrigger: number;
  /** Run the GPU limiter (read from the global `default` entry only). */
  enableLimiter: boolean;
  /** Decision engine of the model, one of {@link ANALYZER_NAMES} ("" and "default" = V1). */
  analyzerName: string;
  /** V2 only: scale up above this utilisation (0 < x <= 1). */
  scaleUpThreshold: number;
  /** V2 only: scale down below this utilisation (0 < x <= 1). */
  scaleDownBoundary: number;
}

/** One variant (a VariantAutoscaling and its target Deployment) as the engine sees it. */
export interface VariantState {
  /** VA name. */
  name: string;
  namespace: string;
  modelID: string;
  /** Accelerator short name (e.g. `H100`); "" or `unknown` when not resolved. */
  accelerator: string;
  /** Cost per replica (VA `spec.variantCost`, 10 when unset). */
  cost: number;
  /** GPUs requested per replica (values <= 0 are treated as 1). */
  gpusPerReplica: number;
  /** Deployment replicas (status.replicas, else spec.replicas). */
  current: number;
  /** Deployment ready replicas; `current - ready` replicas are pending. */
  ready: number;
  /** Previous decision (`status.desiredOptimizedAlloc.numReplicas`); 0 = not set. */
  desired: number;
  /** Upper bounds on the variant's replicas; the tightest applies (none = unbounded). */
  bounds?: readonly ReplicaBound[];
  /** queueing-model: requests one replica serves concurrently (vLLM `--max-num-seqs`). */
  maxBatchSize?: number;
  /** queueing-model: performance parameters of the variant (learned or given). */
  parameters?: ServiceParams;
}

/**
 * Performance parameters of one variant (one model on one accelerator type) in the iteration-time law
 * of the queueing model (docs/design/model-based-optimizer.md).
 */
export interface ServiceParams {
  /** Fixed overhead of one batch iteration, ms. */
  alpha: number;
  /** Compute time per token, ms. */
  beta: number;
  /** KV-cache memory access time per token, ms. */
  gamma: number;
}

/** Who sets a variant's replica maximum. */
export type BoundSource = "annotation" | "limiter" | "hpa";

/** How each bound is named in reason strings. */
export const BOUND_LABELS: Readonly<Record<BoundSource, string>> = Object.freeze({
  annotation: "wva.llmd.ai/max-replicas annotation",
  limiter: "GPU limiter grant",
  hpa: "HPA maxReplicas",
});

/** A maximum number of replicas for one variant and where it comes from. */
export interface ReplicaBound {
  source: BoundSource;
  maxReplicas: number;
}

/** The tightest of a variant's bounds, if any. */
export function tightestBound(bounds: readonly ReplicaBound[] | undefined): ReplicaBound | undefined {
  let best: ReplicaBound | undefined;
  for (const b of bounds ?? []) if (best === undefined || b.maxReplicas < best.maxReplicas) best = b;
  return best;
}

/** "HPA maxReplicas 4": a bound as reason strings name it. */
export function boundLabel(b: ReplicaBound): string {
  return `${BOUND_LABELS[b.source]} ${b.maxReplicas}`;
}

/** Saturation metrics of one serving pod. */
export interface ReplicaMetric {
  pod: string;
  /** VA name the pod belongs to. */
  variant: string;
  /** KV-cache usage, 0..1. */
  kvCacheUsage: number;
  /** Requests waiting in the queue. */
  queueLength: number;
  // Token metrics, read by the token-capacity analyzer; absent when the server does not report them.
  /** Tokens held in the KV cache now. */
  tokensInUse?: number;
  /** KV-cache capacity of the pod in tokens (blocks × block size). */
  totalKvCapacityTokens?: number;
  numGpuBlocks?: number;
  blockSize?: number;
  /** Average prompt length of recent requests, tokens. */
  avgInputTokens?: number;
  /** Average generated length of recent requests, tokens. */
  avgOutputTokens?: number;
  /** Prefix-cache hit rate, 0..1. */
  prefixCacheHitRate?: number;
  /** queueing-model: requests completed per second over the metrics window. */
  arrivalRatePerSec?: number;
  /** queueing-model: average time to first token over the window, ms. */
  ttftMs?: number;
  /** queueing-model: average inter-token latency over the window, ms. */
  itlMs?: number;
}

/** Scale-to-zero input of one model, already resolved from the scale-to-zero ConfigMap. */
export interface ScaleToZeroInput {
  enabled: boolean;
  /** Successful requests in the retention window; null = the query failed or returned nothing. */
  requestCount: number | null;
  /** Retention window in milliseconds (for the reason text only). */
  retentionMs?: number;
  /** Why the request count is missing (for the reason text only). */
  error?: string;
}

/** GPUs per accelerator short name (limits of the cluster). */
export type GpuInventory = Record<string, number>;

/** Why one replica is saturated. */
export interface SaturatedReplica {
  pod: string;
  reason: "kv" | "queue";
}

/** Per-variant part of the saturation analysis (docs/design/saturation-analysis.md). */
export interface VariantAnalysis {
  variant: string;
  accelerator: string;
  cost: number;
  replicaCount: number;
  nonSaturatedCount: number;
  avgSpareKv: number;
  avgSpareQueue: number;
  maxKvCacheUsage: number;
  maxQueueLength: number;
  saturatedReplicas: SaturatedReplica[];
  /** Token-capacity analyzer: tokens one replica holds before it saturates. */
  perReplicaCapacity?: number;
}

/** Model-level figures of an analyzer that sizes capacity in tokens (V2), all in tokens. */
export interface CapacityFigures {
  /** Capacity of the ready replicas. */
  supply: number;
  /** Supply once pending replicas are ready. */
  anticipatedSupply: number;
  /** Tokens the model needs now, scheduler-queue demand included. */
  demand: number;
  schedulerQueueDemand: number;
  /** Capacity to add. */
  requiredCapacity: number;
  /** Capacity that may go. */
  spareCapacity: number;
}

/** Saturation analysis of one model group (docs/design/saturation-analysis.md). */
export interface ModelAnalysis {
  modelID: string;
  namespace: string;
  /** Number of replicas with metrics. */
  totalReplicas: number;
  nonSaturatedReplicas: number;
  avgSpareKv: number;
  avgSpareQueue: number;
  scaleUp: boolean;
  scaleUpReason: string;
  scaleDownSafe: boolean;
  scaleDownReason: string;
  /** Variants with at least one replica metric (V2: every variant), sorted by name. */
  variants: VariantAnalysis[];
  /** The `now` the analysis was made at (milliseconds since the epoch). */
  analyzedAt: number;
  /** Name of the analyzer that made this analysis ("" = V1). */
  analyzer?: string;
  /** Token-capacity figures (V2 only). */
  capacity?: CapacityFigures;
  /** queueing-model: the model's load, targets and the sizing of every variant. */
  sizing?: ModelSizing;
}

/** Latency targets of a model, ms; 0 = that metric is not constrained. */
export interface LatencyTargets {
  ttftMs: number;
  itlMs: number;
}

/** queueing-model: a model's SLO settings (SLO ConfigMap, or a snapshot's `slo`). */
export interface ModelSlo {
  /** Explicit targets; absent = inferred from the parameters, else from the observed latencies. */
  targets?: LatencyTargets;
  /** Inferred targets are this multiple of the idle iteration time (> 1). */
  sloMultiplier: number;
}

/** queueing-model: how one variant would serve the model's load. */
export interface VariantSizing {
  variant: string;
  /** Largest rate one replica serves within the targets, req/s (absent when infeasible or idle). */
  ratePerReplicaPerSec?: number;
  /** Why the variant cannot serve the model. */
  infeasible?: string;
}

/** queueing-model: the model's load, its targets and every variant's sizing. */
export interface ModelSizing {
  /**
   * Requests per second the model is sized for: the completed requests per second of all replicas with
   * a rate metric, plus `backlogRatePerSec`.
   */
  arrivalRatePerSec: number;
  /** The requests waiting at the replicas over the TTFT target (req/s), when there are any. */
  backlogRatePerSec?: number;
  /** Rate-weighted averages over the replicas. */
  avgInputTokens: number;
  avgOutputTokens: number;
  /** Targets used and where they came from; absent when none could be resolved. */
  targets?: LatencyTargets & { source: "explicit" | "inferred" | "observed" };
  /** Sorted by variant name. */
  variants: VariantSizing[];
  /** Set when this engine makes no decision for the model (every variant keeps its replicas): why. */
  noDecision?: string;
}

/** One stage's effect on one variant. */
export interface DecisionStep {
  name: string;
  action: Action;
  target: number;
  reason: string;
  /** True when this stage lowered or blocked what the previous stage wanted. */
  wasConstrained: boolean;
}

export type Action = "scale-up" | "scale-down" | "no-change";

/** Decision record of one variant: the final target and what each stage did. */
export interface Decision {
  variantName: string;
  namespace: string;
  modelID: string;
  acceleratorName: string;
  cost: number;
  gpusPerReplica: number;
  action: Action;
  currentReplicas: number;
  readyReplicas: number;
  /** Target after every stage. */
  targetReplicas: number;
  /** Target before the GPU limiter. */
  originalTargetReplicas: number;
  /** Previous decision the engine saw (0 = not set). */
  desiredReplicas: number;
  /** Variant average spare KV (most saturated first for the limiter); 0 without metrics. */
  spareCapacity: number;
  /** True when the variant had replica metrics this cycle. */
  metricsAvailable: boolean;
  /** Token-capacity analyzer: tokens one replica holds before it saturates. */
  perReplicaCapacity?: number;
  wasLimited: boolean;
  limitedBy: string;
  gpusAllocated: number;
  /** One line summarising the steps. */
  reason: string;
  steps: DecisionStep[];
}

/** Result of the engine for one model group. */
export interface ModelDecisions {
  modelID: string;
  namespace: string;
  analysis: ModelAnalysis;
  /** The model was in transition (a previous decision not yet realised). */
  inTransition: boolean;
  /** The transition lock was released because it held longer than the configured bound. */
  transitionReleased: boolean;
  /** Human-readable transition reasons, e.g. `v1: desired(4)!=current(2)`. */
  transitionReasons: string[];
  /** The scale-to-zero enforcer set every target to 0. */
  scaledToZero: boolean;
  /** One decision per variant of the group, sorted by variant name. */
  decisions: Decision[];
}

/**
 * "First seen in transition" per model group (`modelID|namespace` → epoch ms). The caller keeps it
 * between cycles: pass the previous value in, store the returned one.
 */
export interface TransitionState {
  firstSeen: Record<string, number>;
  /**
   * Per model group, the pending decisions (`variant=desired`, …) the transition started with. A new
   * decision (another desired value) starts a new transition, so the bound restarts.
   */
  decisions?: Record<string, string>;
}

export function emptyTransitionState(): TransitionState {
  return { firstSeen: {}, decisions: {} };
}

/** Shipped defaults of the saturation `default` entry. */
export const DEFAULT_SATURATION_CONFIG: Readonly<SaturationConfig> = Object.freeze({
  kvCacheThreshold: 0.8,
  queueLengthThreshold: 5,
  kvSpareTrigger: 0.1,
  queueSpareTrigger: 3,
  enableLimiter: false,
  analyzerName: "",
  scaleUpThreshold: 0,
  scaleDownBoundary: 0,
});

/** Token-capacity analyzer (V2): utilisation above which capacity is added (`scaleUpThreshold` default). */
export const DEFAULT_SCALE_UP_THRESHOLD = 0.85;
/** Token-capacity analyzer (V2): utilisation below which capacity is removed (`scaleDownBoundary` default). */
export const DEFAULT_SCALE_DOWN_BOUNDARY = 0.7;

/** Default bound after which a model stuck "in transition" is released (10 minutes). */
export const DEFAULT_TRANSITION_TIMEOUT_MS = 10 * 60_000;

/** Cost used when a variant has none. */
export const DEFAULT_VARIANT_COST = 10;

/** Analyzer name of the SLO-driven model-based engine (queueing model, allocation across variants). */
export const QUEUEING_MODEL = "queueing-model";

/**
 * Analyzer names the configuration accepts: "" and "default" select the V1 saturation analyzer with
 * cost-aware ±1 targets; "saturation" is the token-capacity analyzer (V2); "queueing-model" the
 * SLO-driven model-based engine. The engine registry
 * (src/engine/registry.ts) maps each name to its stages.
 */
export const ANALYZER_NAMES = ["", "default", "saturation", QUEUEING_MODEL] as const;

/**
 * A model group: all variants with the same modelID in the same namespace. `V` is what a layer knows of
 * each variant (the controller its VA and Deployment, the collector the names it maps pods to, the
 * engine its variant state).
 */
export interface ModelGroup<V> {
  modelID: string;
  namespace: string;
  variants: V[];
}

/** Key of a model group (`modelID|namespace`). */
export function groupKey(modelID: string, namespace: string): string {
  return `${modelID}|${namespace}`;
}

/** Byte-wise name order (the alphabetical tie-break, independent of locale). */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** scale-up / scale-down / no-change of a target compared with the current replicas. */
export function actionOf(target: number, current: number): Action {
  return target > current ? "scale-up" : target < current ? "scale-down" : "no-change";
}

/** Replicas that exist but are not ready yet. */
export function pendingReplicas(s: Pick<VariantState, "current" | "ready">): number {
  return Math.max(0, s.current - s.ready);
}

/**
 * Why one variant is "in transition" (a previous decision or a replica change is not realised yet):
 * the recorded decision differs from the current replicas, or the number of replicas with metrics
 * differs from it. Returns the reasons (empty = stable) and the pending decision, if any, as
 * `variant=desired`. See docs/design/target-calculation.md.
 */
export function variantTransition(
  s: Pick<VariantState, "name" | "current" | "desired">,
  metricReplicas: number,
): { reasons: string[]; pendingDecision?: string } {
  const reasons: string[] = [];
  let pendingDecision: string | undefined;
  if (s.desired !== 0 && s.desired !== s.current) {
    reasons.push(`${s.name}: desired(${s.desired})!=current(${s.current})`);
    pendingDecision = `${s.name}=${s.desired}`;
  }
  if (metricReplicas !== s.current)
    reasons.push(`${s.name}: metrics(${metricReplicas})!=current(${s.current})`);
  return { reasons, pendingDecision };
}

/** What an analyzer gets for one model group. */
export interface AnalyzeInput {
  modelID: string;
  namespace: string;
  /** Time of the analysis (epoch ms); decision code never reads the clock itself. */
  now: number;
  /** Variant states of the group; metrics of pods whose variant is not listed are ignored. */
  variants: readonly VariantState[];
  replicas: readonly ReplicaMetric[];
  /** Resolved saturation config of the model. */
  config: SaturationConfig;
  /** queueing-model: the model's SLO settings (absent = none configured). */
  slo?: ModelSlo;
}

/** First stage of an engine: turns per-pod metrics into a model analysis. */
export type Analyzer = (input: AnalyzeInput) => ModelAnalysis;

/** Target of one variant after the optimizer. */
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

export interface OptimizeOptions {
  /** Current time (epoch ms). */
  now: number;
  /** After how long a model stuck in transition is released (default 10 minutes; <= 0 = never). */
  transitionTimeoutMs?: number;
  /** Transition bookkeeping from the previous cycle (not modified; the new state is returned). */
  state?: TransitionState;
}

export interface OptimizeResult {
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

/** Second stage of an engine: per-variant targets from the analysis and the variant states. */
export type Optimizer = (
  analysis: ModelAnalysis,
  variants: readonly VariantState[],
  opts: OptimizeOptions,
) => OptimizeResult;
