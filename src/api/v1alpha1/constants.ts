/** Identity of the VariantAutoscaling API and the well-known labels, annotations and conditions. */

export const GROUP = "llmd.ai";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "VariantAutoscaling";
export const LIST_KIND = "VariantAutoscalingList";
export const PLURAL = "variantautoscalings";
export const SINGULAR = "variantautoscaling";
export const SHORT_NAMES = ["va"] as const;
export const CRD_NAME = `${PLURAL}.${GROUP}`;

/** Default of `spec.variantCost`, also the engine's fallback when the value cannot be parsed. */
export const DEFAULT_VARIANT_COST = "10.0";
/** Pattern of `spec.variantCost`: a non-negative decimal number. */
export const VARIANT_COST_PATTERN = "^\\d+(\\.\\d+)?$";

/**
 * Pattern of `spec.modelID`: no whitespace (newlines included), control characters, quotes or
 * backslashes, so the ID is one plain label value in every metrics query.
 */
export const MODEL_ID_PATTERN = '^[^\\s"\\\\\\x00-\\x1f\\x7f]*$';
/** Longest accepted `spec.modelID`. */
export const MODEL_ID_MAX_LENGTH = 512;

/** Label on a VA naming its accelerator (e.g. `H100`). */
export const LABEL_ACCELERATOR_NAME = "inference.optimization/acceleratorName";
/** Label on a VA selecting the controller instance that manages it (multi-controller isolation). */
export const LABEL_CONTROLLER_INSTANCE = "wva.llmd.ai/controller-instance";

/** Annotation on a VA: lower bound for the replica target. */
export const ANNOTATION_MIN_REPLICAS = "wva.llmd.ai/min-replicas";
/** Annotation on a VA: upper bound for the replica target. */
export const ANNOTATION_MAX_REPLICAS = "wva.llmd.ai/max-replicas";

/** Condition types written to `status.conditions`. */
export const ConditionType = {
  TargetResolved: "TargetResolved",
  MetricsAvailable: "MetricsAvailable",
  OptimizationReady: "OptimizationReady",
} as const;
export type ConditionTypeName = (typeof ConditionType)[keyof typeof ConditionType];

/** Reasons of the `TargetResolved` condition. */
export const TargetResolvedReason = {
  TargetFound: "TargetFound",
  TargetNotFound: "TargetNotFound",
} as const;

/** Reasons of the `MetricsAvailable` condition (`MetricsFound`, `MetricsMissing`, `MetricsStale`,
 * `PrometheusError` are declared for compatibility and not produced by the V1 engine). */
export const MetricsReason = {
  MetricsAvailable: "MetricsAvailable",
  MetricsUnavailable: "MetricsUnavailable",
  ScaleFromZero: "ScaleFromZero",
  MetricsFound: "MetricsFound",
  MetricsMissing: "MetricsMissing",
  MetricsStale: "MetricsStale",
  PrometheusError: "PrometheusError",
} as const;

/** Reasons of the `OptimizationReady` condition (`OptimizationFailed`, `MetricsUnavailable`,
 * `InvalidConfiguration`, `SkippedProcessing` are declared for compatibility). */
export const OptimizationReason = {
  SaturationOnlyMode: "SaturationOnlyMode",
  SaturationSafetyOverride: "SaturationSafetyOverride",
  OptimizationSucceeded: "OptimizationSucceeded",
  ScaleFromZeroMode: "ScaleFromZeroMode",
  OptimizationFailed: "OptimizationFailed",
  MetricsUnavailable: "MetricsUnavailable",
  InvalidConfiguration: "InvalidConfiguration",
  SkippedProcessing: "SkippedProcessing",
} as const;

/** Condition status values (metav1.ConditionStatus). */
export const ConditionStatus = { True: "True", False: "False", Unknown: "Unknown" } as const;
