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
    verbs: ["get", "list", "watch"],
    scope: "watched",
    why: "VariantAutoscaling informer; a fresh read when a status write conflicts",
  },
  {
    apiGroup: "llmd.ai",
    resource: "variantautoscalings/status",
    verbs: ["patch"],
    scope: "watched",
    why: "write desiredOptimizedAlloc, actuation and conditions (JSON merge patch)",
  },
  {
    apiGroup: "",
    resource: "configmaps",
    verbs: ["get", "list", "watch"],
    scope: "watched",
    why: "namespace-local saturation and scale-to-zero ConfigMaps (informers by name)",
  },
  {
    apiGroup: "",
    resource: "configmaps",
    verbs: ["get", "list", "watch"],
    scope: "controller-namespace",
    why: "main, saturation, scale-to-zero and SLO ConfigMaps: read at start-up, then watched for hot reload",
  },
  {
    apiGroup: "",
    resource: "configmaps",
    verbs: ["create", "update"],
    scope: "controller-namespace",
    why: "the queueing-model's learned parameters (wva-model-parameters), written when they change",
  },
  {
    apiGroup: "",
    resource: "pods",
    verbs: ["list", "watch"],
    scope: "watched",
    why: "pod informer: map pods to ReplicaSets and Deployments; pod IPs for pod scraping",
  },
  {
    apiGroup: "autoscaling",
    resource: "horizontalpodautoscalers",
    verbs: ["list", "watch"],
    scope: "watched",
    why: "HPA informer: an HPA's maxReplicas bounds the decision for the Deployment it targets",
  },
  {
    apiGroup: "apps",
    resource: "replicasets",
    verbs: ["list", "watch"],
    scope: "watched",
    why: "ReplicaSet informer: pod → Deployment mapping",
  },
  {
    apiGroup: "apps",
    resource: "deployments",
    verbs: ["list", "watch"],
    scope: "watched",
    why: "Deployment informer: scale targets, replicas, accelerator from node selectors",
  },
  {
    apiGroup: "apps",
    resource: "deployments/scale",
    verbs: ["patch"],
    scope: "watched",
    why: "direct actuator (--actuator=direct) and the scale-from-zero loop (0 → 1)",
  },
  {
    apiGroup: "",
    resource: "services",
    verbs: ["list", "watch"],
    scope: "watched",
    why: "Service informer: the InferencePools' endpoint pickers (pod selector and metrics port)",
  },
  {
    apiGroup: "inference.networking.x-k8s.io",
    resource: "inferencepools",
    verbs: ["list", "watch"],
    scope: "watched",
    why: "InferencePool informer for scale from zero (POOL_GROUP=inference.networking.x-k8s.io, the default)",
  },
  {
    apiGroup: "inference.networking.k8s.io",
    resource: "inferencepools",
    verbs: ["list", "watch"],
    scope: "watched",
    why: "InferencePool informer for scale from zero (POOL_GROUP=inference.networking.k8s.io)",
  },
  {
    apiGroup: "",
    resource: "events",
    verbs: ["create", "patch"],
    scope: "watched",
    why: "events on VariantAutoscalings (InvalidScaleBounds, ScaledFromZero, AmbiguousInferencePool) and namespace-local ConfigMaps",
  },
  {
    apiGroup: "",
    resource: "namespaces",
    verbs: ["list", "watch"],
    scope: "cluster",
    why: "namespace informer: wva.llmd.ai/exclude and wva.llmd.ai/config-enabled (not used with --watch-namespace)",
  },
  {
    apiGroup: "",
    resource: "nodes",
    verbs: ["list", "watch"],
    scope: "cluster",
    why: "node informer: GPU inventory of the limiter",
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
    apiGroup: "monitoring.coreos.com",
    resource: "servicemonitors",
    verbs: ["list", "watch"],
    scope: "controller-namespace",
    why: "warn (ServiceMonitorDeleted) when the controller's ServiceMonitor is deleted",
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
    why: "Warning events on the controller's ConfigMaps and ServiceMonitor",
  },
];

/** Non-resource URLs a metrics scraper needs (granted to scrapers, never to the controller itself). */
export const metricsReaderNonResourceUrls: readonly string[] = ["/metrics"];
