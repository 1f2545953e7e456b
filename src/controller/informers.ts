import { API_VERSION, KIND, LABEL_CONTROLLER_INSTANCE, PLURAL } from "../api/v1alpha1/constants.js";
import { poolApiVersion, type InferencePoolGroup } from "../collect/inference-pool.js";
import type { Logger } from "../util/logger.js";
import type { InferencePoolObject, Service } from "./inference-pool.js";
import type { Deployment } from "./accelerator.js";
import type { KubeClient } from "./kube/client.js";
import { Informer } from "./kube/informer.js";
import type {
  ConfigMap,
  HorizontalPodAutoscaler,
  Namespace,
  Node,
  Pod,
  ReplicaSet,
  ServiceMonitor,
} from "./kube/objects.js";
import type { VA } from "./types.js";

/** What each informer caches. */
interface Shapes {
  vas: VA;
  deployments: Deployment;
  pods: Pod;
  replicaSets: ReplicaSet;
  namespaces: Namespace;
  nodes: Node;
  serviceMonitors: ServiceMonitor;
  services: Service;
  hpas: HorizontalPodAutoscaler;
}

/**
 * Where an informer lists from: `watched` = the watch namespace (all namespaces when unset);
 * `cluster` = cluster-scoped; `system` = the controller namespace. `ready` informers must sync
 * before the manager is ready.
 */
interface InformerSpec {
  apiVersion: string;
  kind: string;
  resource: string;
  scope: "watched" | "cluster" | "system";
  ready: boolean;
}

const INFORMERS: { [K in keyof Shapes]: InformerSpec } = {
  vas: { apiVersion: API_VERSION, kind: KIND, resource: PLURAL, scope: "watched", ready: true },
  deployments: {
    apiVersion: "apps/v1",
    kind: "Deployment",
    resource: "deployments",
    scope: "watched",
    ready: true,
  },
  pods: { apiVersion: "v1", kind: "Pod", resource: "pods", scope: "watched", ready: true },
  replicaSets: {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    resource: "replicasets",
    scope: "watched",
    ready: true,
  },
  namespaces: { apiVersion: "v1", kind: "Namespace", resource: "namespaces", scope: "cluster", ready: true },
  nodes: { apiVersion: "v1", kind: "Node", resource: "nodes", scope: "cluster", ready: false },
  services: { apiVersion: "v1", kind: "Service", resource: "services", scope: "watched", ready: false },
  serviceMonitors: {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    resource: "servicemonitors",
    scope: "system",
    ready: false,
  },
  // optional: an HPA's maxReplicas bounds the decision for its Deployment when the controller can see it
  hpas: {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    resource: "horizontalpodautoscalers",
    scope: "watched",
    ready: false,
  },
};

/** An informer as the manager starts, stops and waits for it, whatever it caches. */
export interface Runnable {
  start(): void;
  stop(): void;
  waitForSync(): Promise<void>;
}

export interface InformerScope {
  client: KubeClient;
  systemNamespace: string;
  /** "" = all namespaces. */
  watchNamespace: string;
  /** Multi-controller isolation: only VAs with this instance label ("" = all). */
  instance: string;
  resyncMs: number;
  log: Logger;
}

function collectionPath(apiVersion: string, resource: string, namespace?: string): string {
  const prefix = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return `${prefix}${namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ""}/${resource}`;
}

/**
 * The manager's informers, created from the table above. With a watch namespace there is no
 * namespace informer (exclusion annotations are not read then).
 */
export class Informers {
  readonly all: Runnable[] = [];
  /** Informers that must sync before the manager reports ready. */
  readonly readiness: Runnable[] = [];

  constructor(private readonly scope: InformerScope) {}

  /** Creates (and registers) the informer of one table entry. */
  create<K extends keyof Shapes>(name: K): Informer<Shapes[K]> {
    const spec = INFORMERS[name];
    const s = this.scope;
    const ns =
      spec.scope === "system" ? s.systemNamespace : spec.scope === "watched" ? s.watchNamespace : undefined;
    const informer = new Informer<Shapes[K]>(s.client, {
      path: collectionPath(spec.apiVersion, spec.resource, ns || undefined),
      name: spec.resource,
      resyncMs: s.resyncMs,
      logger: s.log,
      apiVersion: spec.apiVersion,
      kind: spec.kind,
      labelSelector: name === "vas" && s.instance ? `${LABEL_CONTROLLER_INSTANCE}=${s.instance}` : undefined,
    });
    this.register(informer, spec.ready);
    return informer;
  }

  /**
   * The InferencePools of one API group in the watched namespaces. Optional: while the CRD is not
   * installed the informer retries quietly and the manager is ready without it.
   */
  inferencePools(group: InferencePoolGroup): Informer<InferencePoolObject> {
    const apiVersion = poolApiVersion(group);
    const informer = new Informer<InferencePoolObject>(this.scope.client, {
      path: collectionPath(apiVersion, "inferencepools", this.scope.watchNamespace || undefined),
      name: "inferencepools",
      resyncMs: this.scope.resyncMs,
      logger: this.scope.log,
      apiVersion,
      kind: "InferencePool",
    });
    this.register(informer, false);
    return informer;
  }

  /** An informer of one ConfigMap by name, in a namespace or in all namespaces. */
  configMap(name: string, namespace: string | undefined): Informer<ConfigMap> {
    const informer = new Informer<ConfigMap>(this.scope.client, {
      path: collectionPath("v1", "configmaps", namespace),
      name: `configmaps/${name}`,
      fieldSelector: `metadata.name=${name}`,
      resyncMs: this.scope.resyncMs,
      logger: this.scope.log,
      apiVersion: "v1",
      kind: "ConfigMap",
    });
    this.register(informer, true);
    return informer;
  }

  private register(informer: Runnable, ready: boolean): void {
    this.all.push(informer);
    if (ready) this.readiness.push(informer);
  }

  start(): void {
    for (const i of this.all) i.start();
  }

  stop(): void {
    for (const i of this.all) i.stop();
  }

  /** Resolves once every readiness informer has synced. */
  synced(): Promise<void> {
    return Promise.all(this.readiness.map((i) => i.waitForSync())).then(() => undefined);
  }
}
