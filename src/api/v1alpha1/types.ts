/**
 * The VariantAutoscaling API (`llmd.ai/v1alpha1`): schema nodes and the TypeScript types derived
 * from them. This file is the single source of truth for the CRD's `openAPIV3Schema`.
 */
import {
  DEFAULT_VARIANT_COST,
  MODEL_ID_MAX_LENGTH,
  MODEL_ID_PATTERN,
  VARIANT_COST_PATTERN,
} from "./constants.js";
import {
  array,
  boolean,
  dateTime,
  integer,
  object,
  opaqueObject,
  optional,
  string,
  stringEnum,
  type Static,
} from "./schema-builder.js";

/** The part of metav1.ObjectMeta WVA reads and writes (JSON form). */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: Array<Record<string, unknown>>;
  managedFields?: Array<Record<string, unknown>>;
}

export const CrossVersionObjectReferenceSchema = object(
  {
    apiVersion: optional(string({ description: "apiVersion is the API version of the referent" })),
    kind: string({
      description:
        'kind is the kind of the referent; only "Deployment" is supported (looked up as apps/v1 Deployment)',
    }),
    name: string({
      description: "name is the name of the referent, in the namespace of the VariantAutoscaling",
      minLength: 1,
    }),
  },
  {
    description:
      "scaleTargetRef points to the workload (a Deployment) whose replicas this VariantAutoscaling drives.",
    mapType: "atomic",
  },
);
export type CrossVersionObjectReference = Static<typeof CrossVersionObjectReferenceSchema>;

export const VariantAutoscalingSpecSchema = object(
  {
    scaleTargetRef: CrossVersionObjectReferenceSchema,
    modelID: string({
      description:
        "modelID is the model served by the target, as reported by vLLM in the model_name metric label. " +
        "Variants with the same modelID in a namespace are scaled together. " +
        "It has no whitespace, control characters, quotes or backslashes.",
      minLength: 1,
      maxLength: MODEL_ID_MAX_LENGTH,
      pattern: MODEL_ID_PATTERN,
    }),
    variantCost: optional(
      string({
        description:
          "variantCost is the cost of one replica of this variant (a non-negative decimal, arbitrary units). " +
          "Cheaper variants are scaled up first, more expensive ones scaled down first.",
        pattern: VARIANT_COST_PATTERN,
        default: DEFAULT_VARIANT_COST,
      }),
    ),
  },
  { description: "VariantAutoscalingSpec is the desired state of a VariantAutoscaling." },
);
export type VariantAutoscalingSpec = Static<typeof VariantAutoscalingSpecSchema>;

export const OptimizedAllocSchema = object(
  {
    lastRunTime: optional(dateTime({ description: "lastRunTime is when the latest decision was applied" })),
    accelerator: string({ description: "accelerator is the accelerator type of the decision", minLength: 2 }),
    numReplicas: integer({
      description: "numReplicas is the replica target computed by WVA (the value of wva_desired_replicas)",
      format: "int32",
      minimum: 0,
    }),
  },
  { description: "desiredOptimizedAlloc is the latest replica target computed for this variant." },
);
export type OptimizedAlloc = Static<typeof OptimizedAllocSchema>;

export const ActuationStatusSchema = object(
  {
    applied: boolean({
      description: "applied tells whether the latest target was published to the actuator",
    }),
  },
  { description: "actuation reports whether the latest target was acted on." },
);
export type ActuationStatus = Static<typeof ActuationStatusSchema>;

/** metav1.Condition with the validation rules of the upstream Kubernetes type. */
export const ConditionSchema = object(
  {
    type: string({
      description: "type of condition in CamelCase",
      maxLength: 316,
      pattern:
        "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
    }),
    status: stringEnum(["True", "False", "Unknown"] as const, {
      description: "status of the condition, one of True, False, Unknown",
    }),
    observedGeneration: optional(
      integer({
        description: "observedGeneration is the metadata.generation the condition was set for",
        format: "int64",
        minimum: 0,
      }),
    ),
    lastTransitionTime: dateTime({ description: "lastTransitionTime is the last time the status changed" }),
    reason: string({
      description: "reason is a programmatic CamelCase identifier of the last transition",
      minLength: 1,
      maxLength: 1024,
      pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
    }),
    message: string({ description: "message is a human-readable explanation", maxLength: 32768 }),
  },
  {
    description: "Condition contains details for one aspect of the current state of this VariantAutoscaling.",
  },
);
export type Condition = Static<typeof ConditionSchema>;

export const VariantAutoscalingStatusSchema = object(
  {
    desiredOptimizedAlloc: optional(OptimizedAllocSchema),
    actuation: optional(ActuationStatusSchema),
    conditions: optional(
      array(ConditionSchema, {
        description:
          "conditions of this VariantAutoscaling (TargetResolved, MetricsAvailable, OptimizationReady)",
        listType: "map",
        listMapKeys: ["type"],
      }),
    ),
  },
  { description: "VariantAutoscalingStatus is the observed state of a VariantAutoscaling, written by WVA." },
);
export type VariantAutoscalingStatus = Static<typeof VariantAutoscalingStatusSchema>;

export const VariantAutoscalingSchema = object(
  {
    apiVersion: optional(
      string({
        description:
          "APIVersion defines the versioned schema of this representation of an object. " +
          "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
      }),
    ),
    kind: optional(
      string({
        description:
          "Kind is a string value representing the REST resource this object represents. " +
          "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
      }),
    ),
    metadata: optional(opaqueObject<ObjectMeta>()),
    spec: VariantAutoscalingSpecSchema,
    status: optional(VariantAutoscalingStatusSchema),
  },
  {
    description:
      "VariantAutoscaling asks WVA to autoscale one variant (a Deployment serving a model on one accelerator type).",
  },
);
export type VariantAutoscaling = Static<typeof VariantAutoscalingSchema>;

export interface VariantAutoscalingList {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items: VariantAutoscaling[];
}
