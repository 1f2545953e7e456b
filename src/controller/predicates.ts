import { LABEL_CONTROLLER_INSTANCE } from "../api/v1alpha1/constants.js";
import type { KubeObject } from "./kube/objects.js";

export { LABEL_CONTROLLER_INSTANCE };
export const ANNOTATION_NAMESPACE_EXCLUDE = "wva.llmd.ai/exclude";
export const LABEL_NAMESPACE_CONFIG_ENABLED = "wva.llmd.ai/config-enabled";

/** What isolation needs to know about the running controller. */
export interface IsolationConfig {
  /** `CONTROLLER_INSTANCE`; "" = handle every VA. */
  instance: string;
  /** `--watch-namespace`; "" = all namespaces. */
  watchNamespace: string;
}

/**
 * Namespace metadata lookup. Returns the namespace, `undefined` when it is not known, or throws when
 * the lookup failed; both of the latter count as "not excluded" (fail-open, like upstream).
 */
export type NamespaceLookup = (name: string) => KubeObject | undefined;

/** True when the namespace carries `wva.llmd.ai/exclude: "true"`. Lookup failures are not exclusion. */
export function namespaceExcluded(lookup: NamespaceLookup | undefined, namespace: string): boolean {
  if (!lookup) return false;
  try {
    return lookup(namespace)?.metadata?.annotations?.[ANNOTATION_NAMESPACE_EXCLUDE] === "true";
  } catch {
    return false;
  }
}

/** True when the VA belongs to this controller instance. */
export function instanceMatches(obj: KubeObject, instance: string): boolean {
  if (!instance) return true;
  return obj.metadata?.labels?.[LABEL_CONTROLLER_INSTANCE] === instance;
}

/**
 * The VA filter (U10), used for events and by the engine alike: the VA must belong to this instance,
 * and its namespace must not be excluded, except that in single-namespace mode the watched namespace
 * is never excluded. `config` undefined behaves as multi-namespace mode without an instance.
 */
export function vaPredicate(
  va: KubeObject,
  config: IsolationConfig | undefined,
  lookup: NamespaceLookup | undefined,
): boolean {
  const cfg = config ?? { instance: "", watchNamespace: "" };
  if (!instanceMatches(va, cfg.instance)) return false;
  const ns = va.metadata?.namespace ?? "";
  if (cfg.watchNamespace && ns === cfg.watchNamespace) return true;
  return !namespaceExcluded(lookup, ns);
}

/**
 * Whether a namespace-local ConfigMap (saturation or scale-to-zero) in `namespace` is honoured (docs/design/configuration-precedence.md):
 * the watched namespace always; an excluded namespace never; otherwise a namespace with VAs of this
 * controller (tracked) or one labelled `wva.llmd.ai/config-enabled: "true"`.
 */
export function namespaceConfigAllowed(
  namespace: string,
  opts: { watchNamespace: string; lookup?: NamespaceLookup; tracked: (ns: string) => boolean },
): boolean {
  if (opts.watchNamespace) return namespace === opts.watchNamespace;
  if (namespaceExcluded(opts.lookup, namespace)) return false;
  if (opts.tracked(namespace)) return true;
  try {
    return opts.lookup?.(namespace)?.metadata?.labels?.[LABEL_NAMESPACE_CONFIG_ENABLED] === "true";
  } catch {
    return false;
  }
}

/** Name suffix of the controller's ServiceMonitor (kustomize `…-controller-manager-metrics-monitor`, Helm `<fullname>-metrics-monitor`). */
export const SERVICE_MONITOR_SUFFIX = "-metrics-monitor";

/**
 * ServiceMonitor event handling (U13): a ServiceMonitor of this controller (in the controller
 * namespace, name ending in `-metrics-monitor`) that is being deleted gets a Warning event
 * `ServiceMonitorDeleted`; nothing is ever enqueued.
 */
export function serviceMonitorAction(
  obj: KubeObject,
  systemNamespace: string,
): { warn: boolean; enqueue: false } {
  const isServiceMonitor =
    obj.kind === "ServiceMonitor" && (obj.apiVersion ?? "").startsWith("monitoring.coreos.com/");
  const ours =
    isServiceMonitor &&
    obj.metadata?.namespace === systemNamespace &&
    (obj.metadata?.name ?? "").endsWith(SERVICE_MONITOR_SUFFIX);
  return { warn: ours && !!obj.metadata?.deletionTimestamp, enqueue: false };
}

export const SERVICE_MONITOR_DELETED_MESSAGE =
  "ServiceMonitor of the controller was deleted: Prometheus will not scrape controller metrics and " +
  "HPA/KEDA will not see wva_desired_replicas. Please recreate the ServiceMonitor.";
