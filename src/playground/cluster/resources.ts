import type { StatusCause } from "./errors.js";
import type { KObject } from "./util.js";

/** A printer column of a resource's table view (`kubectl get`). */
export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export interface ScaleSpec {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

/** Everything the server needs to know about one served resource (one group/version/resource). */
export interface ResourceType {
  group: string;
  version: string;
  /** Plural, lower-case resource name used in URLs. */
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Has a `/status` subresource: the main endpoint ignores status, `/status` changes only status. */
  status: boolean;
  scale?: ScaleSpec;
  /** Create-only resources such as TokenReview (no storage, only `create`). */
  virtual?: boolean;
  /** Read-only resource metrics computed from the pods or nodes (`metrics.k8s.io`, no storage). */
  metrics?: "pods" | "nodes";
  /** Custom resource (served from a CRD): merge patch only, resourceVersion required on update. */
  custom?: boolean;
  printerColumns?: PrinterColumn[];
  /** Validation after defaulting; returns causes for a 422. */
  validate?: (obj: KObject, strictUnknown: boolean) => { causes: StatusCause[]; unknownFields: string[] };
  /** Applies schema defaults and prunes unknown fields in place. */
  normalize?: (obj: KObject) => string[];
  /** For a resource coming from a CRD: the CRD's name. */
  crdName?: string;
  /** The CRD version schema (served in OpenAPI documents). */
  openAPIV3Schema?: unknown;
}

export const groupVersion = (t: Pick<ResourceType, "group" | "version">): string =>
  t.group ? `${t.group}/${t.version}` : t.version;

/** Key of a resource type in maps: `group/resource` (core group is empty). */
export const typeKey = (group: string, resource: string): string => `${group}/${resource}`;

function builtin(
  group: string,
  version: string,
  kind: string,
  resource: string,
  namespaced: boolean,
  extra: Partial<ResourceType> = {},
): ResourceType {
  return {
    group,
    version,
    kind,
    resource,
    singular: kind.toLowerCase(),
    listKind: `${kind}List`,
    namespaced,
    status: false,
    ...extra,
  };
}

const replicasScale: ScaleSpec = {
  specReplicasPath: ".spec.replicas",
  statusReplicasPath: ".status.replicas",
  labelSelectorPath: ".spec.selector",
};

/** The built-in resources the emulator serves. */
export function builtinResources(): ResourceType[] {
  return [
    builtin("", "v1", "Namespace", "namespaces", false, { shortNames: ["ns"], status: true }),
    builtin("", "v1", "Pod", "pods", true, { shortNames: ["po"], status: true, categories: ["all"] }),
    builtin("", "v1", "Service", "services", true, {
      shortNames: ["svc"],
      status: true,
      categories: ["all"],
    }),
    builtin("", "v1", "ConfigMap", "configmaps", true, { shortNames: ["cm"] }),
    builtin("", "v1", "Secret", "secrets", true),
    builtin("", "v1", "Event", "events", true, { shortNames: ["ev"] }),
    builtin("", "v1", "Node", "nodes", false, { shortNames: ["no"], status: true }),
    builtin("", "v1", "ServiceAccount", "serviceaccounts", true, { shortNames: ["sa"] }),
    builtin("", "v1", "Endpoints", "endpoints", true, { shortNames: ["ep"] }),
    builtin("apps", "v1", "Deployment", "deployments", true, {
      shortNames: ["deploy"],
      status: true,
      scale: replicasScale,
      categories: ["all"],
    }),
    builtin("apps", "v1", "ReplicaSet", "replicasets", true, {
      shortNames: ["rs"],
      status: true,
      scale: replicasScale,
      categories: ["all"],
    }),
    builtin("coordination.k8s.io", "v1", "Lease", "leases", true),
    builtin("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, {
      shortNames: ["hpa"],
      status: true,
      categories: ["all"],
    }),
    builtin("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false, {
      shortNames: ["crd", "crds"],
      status: true,
    }),
    builtin("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", false, { virtual: true }),
    builtin("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", false, {
      virtual: true,
    }),
    builtin("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", false, {
      virtual: true,
    }),
    builtin("metrics.k8s.io", "v1beta1", "PodMetrics", "pods", true, { metrics: "pods" }),
    builtin("metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", false, { metrics: "nodes" }),
    builtin("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
    builtin("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true),
    builtin("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false),
    builtin("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false),
  ];
}
