/**
 * Plain-JSON shapes of the built-in Kubernetes objects the controller reads: only the fields it uses.
 * The VariantAutoscaling shape comes from the API package (src/api/v1alpha1).
 */

/** An owner reference (`metadata.ownerReferences[]`). */
export interface OwnerReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
}

/** The part of `metadata` the controller reads. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  resourceVersion?: string;
  uid?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  ownerReferences?: OwnerReference[];
}

/** Any object an informer caches. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

export type Namespace = KubeObject;

export type ReplicaSet = KubeObject;

/** A serving pod: container ports, IP, phase and readiness. */
export interface Pod extends KubeObject {
  spec?: { containers?: Array<{ ports?: Array<{ name?: string; containerPort?: number }> }> };
  status?: { podIP?: string; phase?: string; conditions?: Array<{ type?: string; status?: string }> };
}

/** A node: its labels (GPU product) and allocatable resources (GPU count). */
export interface Node extends KubeObject {
  status?: { allocatable?: Record<string, string> };
}

/** A ServiceMonitor of the Prometheus operator (only its metadata is read). */
export type ServiceMonitor = KubeObject;

/** The parts of an autoscaling/v2 HorizontalPodAutoscaler the controller reads. */
export interface HorizontalPodAutoscaler extends KubeObject {
  spec?: { scaleTargetRef?: { kind?: string; name?: string }; maxReplicas?: number };
}

/** A coordination.k8s.io/v1 Lease. */
export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}
