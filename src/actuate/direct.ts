import { ANNOTATION_MAX_REPLICAS, ANNOTATION_MIN_REPLICAS } from "../api/v1alpha1/constants.js";

/**
 * Direct actuator: sets a target Deployment's replicas through its `scale` subresource, bounded by
 * the VA annotations `wva.llmd.ai/min-replicas` / `wva.llmd.ai/max-replicas`. For clusters without
 * prometheus-adapter or KEDA.
 */

/** The calls the actuator makes (implemented by the controller's Kubernetes layer). */
export interface ScaleClient {
  /** Sets `spec.replicas` of `apps/v1` Deployment `namespace/name` through `/scale`. */
  setDeploymentScale(namespace: string, name: string, replicas: number): Promise<void>;
}

export interface ScaleBounds {
  min?: number;
  max?: number;
  /** Annotation problems (non-integer, negative, min > max); the bad bound is ignored. */
  errors: string[];
}

export const ANNOTATION_MIN = ANNOTATION_MIN_REPLICAS;
export const ANNOTATION_MAX = ANNOTATION_MAX_REPLICAS;

/** Reads the bounds from VA annotations. */
export function scaleBounds(annotations: Record<string, string> | undefined): ScaleBounds {
  const errors: string[] = [];
  const read = (key: string): number | undefined => {
    const raw = annotations?.[key];
    if (raw === undefined) return undefined;
    const t = raw.trim();
    if (!/^\d+$/.test(t)) {
      errors.push(`annotation ${key}="${raw}" must be a non-negative integer`);
      return undefined;
    }
    return Number(t);
  };
  let min = read(ANNOTATION_MIN);
  let max = read(ANNOTATION_MAX);
  if (min !== undefined && max !== undefined && min > max) {
    errors.push(`annotation ${ANNOTATION_MIN}=${min} must not exceed ${ANNOTATION_MAX}=${max}`);
    min = undefined;
    max = undefined;
  }
  return { min, max, errors };
}

/** Clamps a target into the bounds. */
export function clampReplicas(target: number, bounds: Pick<ScaleBounds, "min" | "max">): number {
  let t = target;
  if (bounds.min !== undefined && t < bounds.min) t = bounds.min;
  if (bounds.max !== undefined && t > bounds.max) t = bounds.max;
  return t;
}

export interface DirectActuation {
  /** Replicas requested from the scale subresource (after clamping). */
  replicas: number;
  /** True when a scale write was sent. */
  changed: boolean;
}

/**
 * Scales the Deployment to `target` (clamped) unless its `spec.replicas` is already there.
 * `specReplicas` is the Deployment's current `spec.replicas` as cached by the controller.
 */
export async function actuateDirect(
  client: ScaleClient,
  namespace: string,
  deployment: string,
  specReplicas: number,
  target: number,
  bounds: Pick<ScaleBounds, "min" | "max">,
): Promise<DirectActuation> {
  const replicas = clampReplicas(target, bounds);
  if (replicas === specReplicas) return { replicas, changed: false };
  await client.setDeploymentScale(namespace, deployment, replicas);
  return { replicas, changed: true };
}
