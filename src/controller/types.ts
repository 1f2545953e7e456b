import { GROUP, PLURAL, VERSION } from "../api/v1alpha1/constants.js";
import type { Deployment } from "./accelerator.js";
import type { Condition, VariantAutoscaling } from "../api/v1alpha1/types.js";

export type { Deployment };

/** A VariantAutoscaling as the controller reads it (the API's JSON form). */
export type VA = VariantAutoscaling;

export const VA_GROUP = GROUP;
export const VA_VERSION = VERSION;
export const VA_PLURAL = PLURAL;

export type ConditionState = Pick<Condition, "status" | "reason" | "message">;

/** What the engine hands to the VA reconciler for one VA (the in-process decision cache). */
export interface CachedDecision {
  /** Accelerator of the decision; "" = partial decision, `desiredOptimizedAlloc` is left as it is. */
  accelerator: string;
  targetReplicas: number;
  /** Safety net: hold the previous `desiredOptimizedAlloc` unchanged. */
  keepAlloc: boolean;
  metrics: ConditionState;
  optimization: ConditionState;
  /** `status.actuation.applied`: the target was published (gauges) or applied (direct scale). */
  applied: boolean;
  /** One-line decision reason (for logs and the cycle report). */
  reason: string;
}

/** Cost of a VA (`spec.variantCost`, 10 when empty or unparsable). */
export function variantCost(va: VA): number {
  const raw = va.spec?.variantCost;
  if (raw === undefined || raw === "") return 10;
  const n = Number.parseFloat(raw);
  return Number.isFinite(n) ? n : 10;
}

export const vaKey = (namespace: string, name: string): string => `${namespace}/${name}`;

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf("/");
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export function vaPath(namespace: string, name?: string): string {
  const base = `/apis/${VA_GROUP}/${VA_VERSION}/namespaces/${encodeURIComponent(namespace)}/${VA_PLURAL}`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}
