/**
 * Every condition the controller writes on a VariantAutoscaling, built from the API's reason
 * constants. The engine loop and the reconciler only pick one of these.
 */
import {
  ConditionStatus,
  MetricsReason,
  OptimizationReason,
  TargetResolvedReason,
} from "../api/v1alpha1/constants.js";
import type { ConditionState } from "./types.js";
import { QUEUEING_MODEL } from "../engine/types.js";

/**
 * Reason of `OptimizationReady` when the transition lock was released after its bound (the engine
 * decides from the current replicas again).
 */
export const TRANSITION_RELEASED_REASON = "TransitionReleased";

const NO_METRICS_MESSAGE =
  "No saturation metrics available - pods may not be ready or metrics not yet scraped";

// --- TargetResolved

export const targetFound = (target: string): ConditionState => ({
  status: ConditionStatus.True,
  reason: TargetResolvedReason.TargetFound,
  message: `Scale target Deployment ${target} found`,
});

export const targetNotFound = (target: string): ConditionState => ({
  status: ConditionStatus.False,
  reason: TargetResolvedReason.TargetNotFound,
  message: `Scale target Deployment ${target} not found`,
});

// --- MetricsAvailable

export const metricsAvailable = (): ConditionState => ({
  status: ConditionStatus.True,
  reason: MetricsReason.MetricsAvailable,
  message: "Saturation metrics data is available for scaling decisions",
});

export const metricsUnavailable = (): ConditionState => ({
  status: ConditionStatus.False,
  reason: MetricsReason.MetricsUnavailable,
  message: NO_METRICS_MESSAGE,
});

/** Metrics available, with failed optional queries named (the scale-to-zero request count). */
export const metricsAvailableWithErrors = (errors: readonly string[]): ConditionState => ({
  status: ConditionStatus.True,
  reason: MetricsReason.MetricsAvailable,
  message: `Saturation metrics data is available for scaling decisions; ${errors.join("; ")}`,
});

/** Some pods have no fresh data (`why` names them): no target of the model goes down. */
export const metricsStale = (why: string): ConditionState => ({
  status: ConditionStatus.False,
  reason: MetricsReason.MetricsStale,
  message: `${why}; scale-down blocked until their metrics are fresh again`,
});

/** The metrics query failed (`why` says how and for how many cycles). */
export const metricsQueryFailed = (why: string): ConditionState => ({
  status: ConditionStatus.False,
  reason: MetricsReason.PrometheusError,
  message: `Metrics query failed: ${why}`,
});

/** No saturation config applies, so no metrics are read for the model. */
export const metricsConfigMissing = (why: string): ConditionState => ({
  status: ConditionStatus.False,
  reason: MetricsReason.MetricsUnavailable,
  message: `Saturation config missing: ${why}`,
});

/** A variant woken from zero by requests queued at its endpoint picker. */
export const scaledFromZeroMetrics = (): ConditionState => ({
  status: ConditionStatus.True,
  reason: MetricsReason.ScaleFromZero,
  message: "Scaled from zero due to pending requests",
});

// --- OptimizationReady

/** Scaled from 0 to 1 replica by the scale-from-zero loop. */
export const scaledFromZero = (reason: string): ConditionState => ({
  status: ConditionStatus.True,
  reason: OptimizationReason.ScaleFromZeroMode,
  message: `${reason} (target: 1 replica)`,
});

/**
 * A target decided by the engine; `analyzer` names the engine that decided it. The reason is
 * `OptimizationSucceeded` for the model-based (queueing-model) engine, `SaturationOnlyMode` otherwise.
 */
export const optimized = (reason: string, target: number, analyzer: string): ConditionState => ({
  status: ConditionStatus.True,
  reason:
    analyzer === QUEUEING_MODEL
      ? OptimizationReason.OptimizationSucceeded
      : OptimizationReason.SaturationOnlyMode,
  message: `${reason} (target: ${target} replicas; analyzer: ${analyzer})`,
});

/** A target decided after the transition lock of the model was released. */
export const optimizedAfterRelease = (
  stuck: readonly string[],
  reason: string,
  target: number,
): ConditionState => ({
  status: ConditionStatus.True,
  reason: TRANSITION_RELEASED_REASON,
  message: `Transition lock released after the bound: ${stuck.join(", ")} did not converge (an external bound such as HPA maxReplicas may block it); ${reason} (target: ${target} replicas)`,
});

/** Safety net: the previous target is held because data is missing. */
export const safetyHold = (desired: number, source: string): ConditionState => ({
  status: ConditionStatus.True,
  reason: OptimizationReason.SaturationSafetyOverride,
  message: `Safety net: holding ${desired} replicas (${source}); never scaling down on missing data`,
});

/** No saturation config: the previous target is held. */
export const invalidConfiguration = (why: string, desired: number, source: string): ConditionState => ({
  status: ConditionStatus.False,
  reason: OptimizationReason.InvalidConfiguration,
  message: `${why}; holding ${desired} replicas (${source})`,
});

export const skippedNoTarget = (target: string): ConditionState => ({
  status: ConditionStatus.False,
  reason: OptimizationReason.SkippedProcessing,
  message: `No decisions while the scale target Deployment ${target} does not exist`,
});

export const skippedZeroReplicas = (target: string): ConditionState => ({
  status: ConditionStatus.False,
  reason: OptimizationReason.SkippedProcessing,
  message: `Scale target Deployment ${target} has 0 replicas; the saturation engine skips it`,
});
