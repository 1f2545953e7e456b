/**
 * Every Kubernetes API call the controller manager makes, in one machine-readable list.
 *
 * The Helm chart (charts/workload-variant-autoscaler/templates/rbac*.yaml) and the kustomize RBAC
 * (config/rbac/) grant exactly these permissions; test/release/rbac.test.ts renders both and fails when a
 * call is not covered or when a grant goes beyond this list. Add a line here whenever the controller starts
 * calling a new resource or verb, then update the two RBAC sources until the test passes.
 */

/** Where a permission must hold. */
export type RbacScope =
  /** Cluster-scoped resources (nodes, namespaces, reviews): always a ClusterRole. */
  | "cluster"
  /**
   * Namespaced resources the controller reads or writes wherever VariantAutoscalings live: cluster-wide by
   * default, only the watched namespace when the controller runs with `--watch-namespace`.
   */
  | "watched"
  /** Namespaced resources used only in the controller's own namespace (leader election). */
  | "controller-namespace";

export interface RbacRequirement {
  /** API group; "" is the core group. */
  apiGroup: string;
  /** Resource, with `/subresource` where one is used. */
  resource: string;
  verbs: readonly string[];
  scope: RbacScope;
  /** What the controller uses it for (shown in docs and test failures). */
  why: string;
}

export const rbacRequirements: readonly RbacRequirement[] = [
  {
    apiGroup: "llmd.ai",
    resource: "variantautoscalings",
    verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
    scope: "watched",
    why: "watch VariantAutoscalings (informer) and manage them",
  },
  {
    apiGroup: "llmd.ai",
    resource: "variantautoscalings/status",
    verbs: ["get", "update", "patch"],
    scope: "watched",
    why: "write desiredOptimizedAlloc, actuation and conditions",
  },
  {
    apiGroup: "llmd.ai",
    resource: "variantautoscalings/finalizers",
    verbs: ["update"],
    scope: "watched",
    why: "owner-reference and finalizer updates on VariantAutoscalings",
  },
  {
    apiGroup: "",
    resource: "configmaps",
    verbs: ["get", "list", "watch", "update"],
    scope: "watched",
    why: "global and namespace-local configuration ConfigMaps",
  },
  {
    apiGroup: "",
    resource: "secrets",
    verbs: ["get"],
    scope: "watched",
    why: "Prometheus and EPP credentials referenced by configuration",
  },
  {
    apiGroup: "",
    resource: "pods",
    verbs: ["get", "list", "watch"],
    scope: "watched",
    why: "map pods to ReplicaSets and Deployments, scrape EPP pods",
  },
  {
    apiGroup: "",
    resource: "services",
    verbs: ["get", "list", "watch"],
    scope: "watched",
    why: "EPP metrics Services of InferencePools",
  },
  {
    apiGroup: "",
    resource: "events",
    verbs: ["create", "patch"],
    scope: "watched",
    why: "Warning and Normal events on VariantAutoscalings and ConfigMaps",
  },
  {
    apiGroup: "apps",
    resource: "deployments",
    verbs: ["get", "list", "watch", "update", "patch"],
    scope: "watched",
    why: "scale targets of VariantAutoscalings",
  },
  {
    apiGroup: "apps",
    resource: "deployments/scale",
    verbs: ["get", "update", "patch"],
    scope: "watched",
    why: "direct actuator and scale-from-zero (scale subresource)",
  },
  {
    apiGroup: "apps",
    resource: "replicasets",
    verbs: ["get", "list", "watch"],
    scope: "watched",
    why: "pod → ReplicaSet → Deployment resolution",
  },
  {
    apiGroup: "monitoring.coreos.com",
    resource: "servicemonitors",
    verbs: ["get", "list", "watch"],
    scope: "watched",
    why: "warn when the controller's own ServiceMonitor is deleted",
  },
  {
    apiGroup: "inference.networking.x-k8s.io",
    resource: "inferencepools",
    verbs: ["get", "list", "watch"],
    scope: "watched",
    why: "InferencePools (v1alpha2) for scale-from-zero",
  },
  {
    apiGroup: "inference.networking.k8s.io",
    resource: "inferencepools",
    verbs: ["get", "list", "watch"],
    scope: "watched",
    why: "InferencePools (v1) for scale-from-zero",
  },
  {
    apiGroup: "",
    resource: "namespaces",
    verbs: ["get", "list", "watch"],
    scope: "cluster",
    why: "namespace exclusion and opt-in labels and annotations",
  },
  {
    apiGroup: "",
    resource: "nodes",
    verbs: ["get", "list", "watch", "update", "patch"],
    scope: "cluster",
    why: "GPU inventory discovery for the limiter",
  },
  {
    apiGroup: "",
    resource: "nodes/status",
    verbs: ["get", "list", "watch", "update", "patch"],
    scope: "cluster",
    why: "GPU capacity and allocatable on nodes",
  },
  {
    apiGroup: "authentication.k8s.io",
    resource: "tokenreviews",
    verbs: ["create"],
    scope: "cluster",
    why: "authenticate scrapers of the secure /metrics endpoint",
  },
  {
    apiGroup: "authorization.k8s.io",
    resource: "subjectaccessreviews",
    verbs: ["create"],
    scope: "cluster",
    why: "authorize scrapers of the secure /metrics endpoint",
  },
  {
    apiGroup: "coordination.k8s.io",
    resource: "leases",
    verbs: ["get", "create", "update"],
    scope: "controller-namespace",
    why: "leader election Lease",
  },
  {
    apiGroup: "",
    resource: "events",
    verbs: ["create", "patch"],
    scope: "controller-namespace",
    why: "leader election events and events on the global ConfigMaps",
  },
  {
    apiGroup: "",
    resource: "configmaps",
    verbs: ["get", "list", "watch"],
    scope: "controller-namespace",
    why: "global configuration ConfigMaps, also when another namespace is watched",
  },
  {
    apiGroup: "monitoring.coreos.com",
    resource: "servicemonitors",
    verbs: ["get", "list", "watch"],
    scope: "controller-namespace",
    why: "the controller's own ServiceMonitor, also when another namespace is watched",
  },
];

/** Non-resource URLs a metrics scraper needs (granted to scrapers, never to the controller itself). */
export const metricsReaderNonResourceUrls: readonly string[] = ["/metrics"];
