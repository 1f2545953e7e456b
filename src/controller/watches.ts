/**
 * Setup units of the manager: each registers the watches of one concern on the informers it needs.
 */
import type { Deployment } from "./accelerator.js";
import type { ConfigWatch } from "./config-watch.js";
import type { EventRecorder } from "./kube/events.js";
import type { Informer } from "./kube/informer.js";
import type { ConfigMap, Namespace, ServiceMonitor } from "./kube/objects.js";
import {
  ANNOTATION_NAMESPACE_EXCLUDE,
  SERVICE_MONITOR_DELETED_MESSAGE,
  serviceMonitorAction,
  vaPredicate,
  type IsolationConfig,
  type NamespaceLookup,
} from "./predicates.js";
import { vaKey, type VA } from "./types.js";

/** How the reconciler's watches hand work on and forget VAs. */
export interface VaTriggers {
  isolation: IsolationConfig;
  namespaces?: NamespaceLookup;
  /** Queues a VA key for the reconciler (ignored when not leading). */
  enqueue: (key: string) => void;
  /** Drops every trace of a deleted VA. */
  forget: (va: VA) => void;
}

/** Queues a VA when it belongs to this controller. */
export function enqueueVa(va: VA, t: VaTriggers): void {
  if (vaPredicate(va, t.isolation, t.namespaces))
    t.enqueue(vaKey(va.metadata!.namespace!, va.metadata!.name!));
}

/**
 * The reconciler's watches: a VA's spec (generation), labels or deletion, and the creation, deletion
 * or deletion start of a Deployment a VA targets.
 */
export function watchForReconciler(
  vas: Informer<VA>,
  deployments: Informer<Deployment>,
  t: VaTriggers,
): void {
  vas.addIndex("target", (va) =>
    va.spec?.scaleTargetRef?.name ? [`${va.metadata?.namespace}/${va.spec.scaleTargetRef.name}`] : [],
  );
  vas.addHandlers({
    add: (va) => enqueueVa(va, t),
    update: (o, n) => {
      if (
        o.metadata?.generation !== n.metadata?.generation ||
        JSON.stringify(o.metadata?.labels ?? {}) !== JSON.stringify(n.metadata?.labels ?? {}) ||
        (!o.metadata?.deletionTimestamp && n.metadata?.deletionTimestamp)
      ) {
        if (n.metadata?.deletionTimestamp) t.forget(n);
        else enqueueVa(n, t);
      }
    },
    delete: t.forget,
  });
  const targeting = (d: Deployment) => vas.byIndex("target", `${d.metadata?.namespace}/${d.metadata?.name}`);
  deployments.addHandlers({
    add: (d) => targeting(d).forEach((va) => enqueueVa(va, t)),
    update: (o, n) => {
      if (!o.metadata?.deletionTimestamp && n.metadata?.deletionTimestamp)
        targeting(n).forEach((va) => enqueueVa(va, t));
    },
    delete: (d) => targeting(d).forEach((va) => enqueueVa(va, t)),
  });
}

/** A namespace whose exclusion annotation changes: its VAs are re-evaluated at once. */
export function watchNamespaceExclusion(
  namespaces: Informer<Namespace>,
  vas: Informer<VA>,
  t: VaTriggers,
): void {
  namespaces.addHandlers({
    update: (o, n) => {
      if (
        o.metadata?.annotations?.[ANNOTATION_NAMESPACE_EXCLUDE] ===
        n.metadata?.annotations?.[ANNOTATION_NAMESPACE_EXCLUDE]
      )
        return;
      for (const va of vas.byIndex("namespace", n.metadata?.name ?? "")) {
        if (vaPredicate(va, t.isolation, t.namespaces)) enqueueVa(va, t);
        else t.forget(va);
      }
    },
  });
}

/** A Warning event when the controller's own ServiceMonitor is deleted. */
export function watchServiceMonitor(
  serviceMonitors: Informer<ServiceMonitor>,
  systemNamespace: string,
  events: EventRecorder,
): void {
  const warn = (sm: ServiceMonitor) => {
    if (serviceMonitorAction(sm, systemNamespace).warn)
      void events.record(sm, "Warning", "ServiceMonitorDeleted", SERVICE_MONITOR_DELETED_MESSAGE);
  };
  serviceMonitors.addHandlers({
    update: (o, n) => {
      if (!o.metadata?.deletionTimestamp && n.metadata?.deletionTimestamp) warn(n);
    },
    delete: (sm) =>
      warn({
        ...sm,
        metadata: {
          ...sm.metadata,
          deletionTimestamp: sm.metadata?.deletionTimestamp ?? new Date().toISOString(),
        },
      }),
  });
}

/** The ConfigMaps the configuration is hot-reloaded from. */
export function watchConfigMaps(configMaps: ReadonlyArray<Informer<ConfigMap>>, config: ConfigWatch): void {
  for (const inf of configMaps) {
    inf.addHandlers({
      add: (cm) => config.onUpsert(cm),
      update: (o, n) => {
        if (o.metadata?.resourceVersion !== n.metadata?.resourceVersion) config.onUpsert(n);
      },
      delete: (cm) => config.onDelete(cm),
    });
  }
}
