import {
  applyRuntimeUpdate,
  DEFAULT_SYSTEM_NAMESPACE,
  MAIN_CONFIG_MAP,
  SATURATION_CONFIG_MAP,
  type ImmutableChange,
  type MainConfig,
} from "./main.js";
import { SaturationConfigStore } from "./saturation.js";
import { SCALE_TO_ZERO_CONFIG_MAP, ScaleToZeroConfigStore } from "./scale-to-zero.js";

/** Namespace label that opts a namespace in to namespace-local ConfigMaps. */
export const CONFIG_ENABLED_LABEL = "wva.llmd.ai/config-enabled";
/** Namespace annotation that excludes a namespace from WVA. */
export const EXCLUDE_ANNOTATION = "wva.llmd.ai/exclude";

/** What the reconciler knows about the namespace of a namespace-local ConfigMap. */
export interface NamespaceInfo {
  namespace: string;
  /** `--watch-namespace` ("" = all namespaces). */
  watchNamespace: string;
  /** A VariantAutoscaling of this namespace has been reconciled. */
  tracked: boolean;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * Whether a namespace-local ConfigMap is honoured: the watch namespace always;
 * otherwise not when the namespace is excluded; yes when tracked or opted in with the label.
 */
export function shouldWatchNamespaceLocalConfigMap(ns: NamespaceInfo): boolean {
  if (ns.watchNamespace !== "" && ns.namespace === ns.watchNamespace) return true;
  if (ns.annotations?.[EXCLUDE_ANNOTATION] === "true") return false;
  if (ns.tracked) return true;
  return ns.labels?.[CONFIG_ENABLED_LABEL] === "true";
}

/** The live configuration the controller keeps. */
export interface ConfigState {
  main: MainConfig;
  /** Data of the main ConfigMap the running config came from. */
  mainData?: Record<string, string>;
  saturation: SaturationConfigStore;
  scaleToZero: ScaleToZeroConfigStore;
}

/** Names the reconciler matches ConfigMaps against. */
export interface ConfigMapNames {
  systemNamespace: string;
  main: string;
  saturation: string;
  scaleToZero: string;
}

/** Default names, with the env overrides `POD_NAMESPACE`, `CONFIG_MAP_NAME`, `SATURATION_CONFIG_MAP_NAME`. */
export function configMapNames(env: Record<string, string | undefined> = {}): ConfigMapNames {
  return {
    systemNamespace: env.POD_NAMESPACE || DEFAULT_SYSTEM_NAMESPACE,
    main: env.CONFIG_MAP_NAME || MAIN_CONFIG_MAP,
    saturation: env.SATURATION_CONFIG_MAP_NAME || SATURATION_CONFIG_MAP,
    scaleToZero: SCALE_TO_ZERO_CONFIG_MAP,
  };
}

/** A ConfigMap create/update (data set) or delete (`deleted: true`). */
export interface ConfigMapEvent {
  name: string;
  namespace: string;
  data?: Record<string, string>;
  deleted?: boolean;
  /** Required for namespace-local ConfigMaps (outside the system namespace). */
  namespaceInfo?: NamespaceInfo;
}

/** What a ConfigMap event did. */
export interface ConfigMapOutcome {
  applied: boolean;
  /** Which configuration the event concerned. */
  kind: "main" | "saturation" | "scale-to-zero" | "none";
  scope: "global" | "namespace" | "none";
  /** Immutable main-ConfigMap keys whose change was rejected (emit `ImmutableConfigChangeRejected`). */
  rejected: ImmutableChange[];
  /** Entries dropped or values ignored, for the log. */
  messages: string[];
}

const ignored = (message: string): ConfigMapOutcome => ({
  applied: false,
  kind: "none",
  scope: "none",
  rejected: [],
  messages: [message],
});

/**
 * Applies one ConfigMap event to the live configuration (hot reload). Global ConfigMaps live in the
 * system namespace; saturation and scale-to-zero ConfigMaps elsewhere are namespace-local and need
 * {@link shouldWatchNamespaceLocalConfigMap}. Deleting the global saturation or scale-to-zero
 * ConfigMap keeps the last configuration; deleting a namespace-local one removes that namespace's
 * copy. Throws when there is no configuration to update.
 */
export function reconcileConfigMap(
  state: ConfigState | null | undefined,
  names: ConfigMapNames,
  event: ConfigMapEvent,
): ConfigMapOutcome {
  if (state === null || state === undefined) throw new Error("config is nil");
  const global = event.namespace === names.systemNamespace;
  const kind =
    event.name === names.main
      ? "main"
      : event.name === names.saturation
        ? "saturation"
        : event.name === names.scaleToZero
          ? "scale-to-zero"
          : "none";
  if (kind === "none") return ignored(`ConfigMap ${event.namespace}/${event.name} is not a WVA ConfigMap`);

  if (kind === "main") {
    if (!global)
      return ignored(
        `main ConfigMap ${event.namespace}/${event.name} outside ${names.systemNamespace} is ignored`,
      );
    if (event.deleted)
      return { ...ignored("main ConfigMap deleted; keeping the running configuration"), kind };
    const u = applyRuntimeUpdate(state.main, event.data, state.mainData);
    state.main = u.config;
    state.mainData = { ...(event.data ?? {}) };
    return { applied: true, kind, scope: "global", rejected: u.rejected, messages: u.warnings };
  }

  if (global) {
    if (event.deleted)
      return { ...ignored(`global ${kind} ConfigMap deleted; keeping the last configuration`), kind };
    const parsed =
      kind === "saturation"
        ? state.saturation.setGlobal(event.data)
        : state.scaleToZero.setGlobal(event.data);
    return {
      applied: true,
      kind,
      scope: "global",
      rejected: [],
      messages: parsed.errors.map((e) => e.message),
    };
  }

  if (event.deleted) {
    if (kind === "saturation") state.saturation.deleteNamespace(event.namespace);
    else state.scaleToZero.deleteNamespace(event.namespace);
    return { applied: true, kind, scope: "namespace", rejected: [], messages: [] };
  }
  if (event.namespaceInfo === undefined || !shouldWatchNamespaceLocalConfigMap(event.namespaceInfo)) {
    return { ...ignored(`namespace ${event.namespace} is not watched for namespace-local ConfigMaps`), kind };
  }
  const parsed =
    kind === "saturation"
      ? state.saturation.setNamespace(event.namespace, event.data)
      : state.scaleToZero.setNamespace(event.namespace, event.data);
  return {
    applied: true,
    kind,
    scope: "namespace",
    rejected: [],
    messages: parsed.errors.map((e) => e.message),
  };
}
