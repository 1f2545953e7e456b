/**
 * Plain-data types shared by the decision stages (analyze → optimize → enforce → limit).
 * Nothing here depends on Kubernetes or HTTP; the controller and `wva decide` fill them in.
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
  /** "" = V1 saturation analyzer; "saturation" = V2 token-based analyzer. */
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
}

/** Scale-to-zero input of one model, already resolved from the scale-to-zero ConfigMap (8.3). */
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

/** Per-variant part of the saturation analysis (5.3). */
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
}

/** Saturation analysis of one model group (5.3). */
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
  /** Variants with at least one replica metric, sorted by name. */
  variants: VariantAnalysis[];
  /** The `now` the analysis was made at (milliseconds since the epoch). */
  analyzedAt: number;
}

/** One stage's effect on one variant (5.7). */
export interface DecisionStep {
  name: string;
  action: Action;
  target: number;
  reason: string;
  /** True when this stage lowered or blocked what the previous stage wanted. */
  wasConstrained: boolean;
}

export type Action = "scale-up" | "scale-down" | "no-change";

/** Decision record of one variant (5.7). */
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
}

export function emptyTransitionState(): TransitionState {
  return { firstSeen: {} };
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

/** Default bound after which a model stuck "in transition" is released (10 minutes). */
export const DEFAULT_TRANSITION_TIMEOUT_MS = 10 * 60_000;

/** Cost used when a variant has none. */
export const DEFAULT_VARIANT_COST = 10;
