import { ActuationMetrics } from "../../actuate/metrics.js";
import { ReplicaMetricsCollector } from "../../collect/collector.js";
import { PodScrapingSource } from "../../collect/podscrape/source.js";
import type { PrometheusConfig } from "../../collect/prometheus/config.js";
import { PrometheusSource } from "../../collect/prometheus/source.js";
import type { MetricsSource } from "../../collect/types.js";
import { loadMainConfig } from "../../config/main.js";
import { SCALE_TO_ZERO_CONFIG_MAP } from "../../config/scale-to-zero.js";
import {
  gpuInventoryOfNodes,
  gpusPerReplica,
  replicaState,
  resolveAccelerator,
  type Deployment,
  type GpuNodeObject,
} from "../../controller/accelerator.js";
import { InformerClusterLookup } from "../../controller/cluster-lookup.js";
import {
  InformerScrapeTargets,
  SourceCollector,
  type PodScrapeOptions,
} from "../../controller/collection.js";
import { ConfigWatch, type ConfigMapObject } from "../../controller/config-watch.js";
import { EngineLoop, type GroupVariant, type ModelGroup } from "../../controller/engine-loop.js";
import { KubeClient, loadKubeConfig } from "../../controller/kube/client.js";
import { errText, Informer, type KubeObject } from "../../controller/kube/informer.js";
import { LABEL_CONTROLLER_INSTANCE } from "../../controller/predicates.js";
import { variantCost, type VA } from "../../controller/types.js";
import { validateSnapshot, type Snapshot, type SnapshotVariant } from "../../engine/snapshot.js";
import type { ReplicaMetric, SaturationConfig } from "../../engine/types.js";
import { parseLabelSelector } from "../../util/label-selector.js";
import { silentLogger, type Logger } from "../../util/logger.js";

/**
 * A `wva decide` snapshot document as written to the file: the validated snapshot's shape, with the
 * overrides as the file spells them (`model_id`, `namespace` and the differing fields).
 */
export type SnapshotDocument = Pick<Snapshot, "saturation" | "variants"> &
  Partial<Pick<Snapshot, "scaleToZero" | "gpuInventory">> & {
    saturationOverrides?: Array<Record<string, unknown>>;
  };

export interface CaptureOptions {
  /** Kubeconfig file (default: KUBECONFIG, then in-cluster). */
  kubeconfig?: string;
  /** Namespace of the controller and its global ConfigMaps. */
  systemNamespace: string;
  /** Names of the controller's main and saturation ConfigMaps (the chart prefixes them with the release). */
  mainConfigMap: string;
  saturationConfigMap: string;
  /** `CONTROLLER_INSTANCE` of the controller to imitate ("" = every VA). */
  instance: string;
  /** The controller's watched namespace ("" = all). */
  watchNamespace: string;
  /** Metrics from this Prometheus; without it the pods are scraped, as the controller's pod source does. */
  prometheus?: PrometheusConfig;
  podScrape?: PodScrapeOptions;
  /** How long to wait for the listings (ms). */
  timeoutMs: number;
  log?: Logger;
}

export interface CaptureResult {
  document: SnapshotDocument;
  /** Model groups (`modelID|namespace`) whose metrics could not be collected, with the error. */
  failedGroups: Array<{ group: string; error: string }>;
  source: string;
}

/**
 * Captures what the controller would decide on now, through the controller's own code: its informers
 * (list only, no write), its active-variant filter, its ConfigMap resolution (global and namespace-local
 * saturation and scale-to-zero ConfigMaps) and its metrics collection (Prometheus or pod scraping). The
 * result is a `wva decide` snapshot. Reads VAs, Deployments, Pods, ReplicaSets, Namespaces, Nodes and
 * the controller's ConfigMaps — never a Secret. What a one-shot capture cannot reproduce is listed in
 * docs/design/monitoring-and-snapshot.md.
 */
export async function captureSnapshot(opts: CaptureOptions): Promise<CaptureResult> {
  const log = opts.log ?? silentLogger;
  const client = new KubeClient(loadKubeConfig(opts.kubeconfig));
  const scoped = opts.watchNamespace || undefined;
  const path = (group: string, resource: string, ns?: string) =>
    `${group}${ns ? `/namespaces/${encodeURIComponent(ns)}` : ""}/${resource}`;
  const mk = <T extends KubeObject>(
    p: string,
    name: string,
    extra: Partial<{ labelSelector: string; fieldSelector: string }> = {},
  ) => new Informer<T>(client, { path: p, name, resyncMs: 0, logger: log, ...extra });
  const vas = mk<VA>(path("/apis/llmd.ai/v1alpha1", "variantautoscalings", scoped), "variantautoscalings", {
    labelSelector: opts.instance ? `${LABEL_CONTROLLER_INSTANCE}=${opts.instance}` : undefined,
  });
  const deployments = mk<Deployment>(path("/apis/apps/v1", "deployments", scoped), "deployments");
  const pods = mk<KubeObject>(path("/api/v1", "pods", scoped), "pods");
  const replicaSets = mk<KubeObject>(path("/apis/apps/v1", "replicasets", scoped), "replicasets");
  const namespaces = scoped ? undefined : mk<KubeObject>("/api/v1/namespaces", "namespaces");
  const nodes = mk<GpuNodeObject>("/api/v1/nodes", "nodes");
  const configMaps = [opts.mainConfigMap, opts.saturationConfigMap, SCALE_TO_ZERO_CONFIG_MAP].map((name) =>
    mk<ConfigMapObject>(
      path("/api/v1", "configmaps", name === opts.mainConfigMap ? opts.systemNamespace : scoped),
      `configmaps/${name}`,
      { fieldSelector: `metadata.name=${name}` },
    ),
  );
  const informers: Array<Pick<Informer<KubeObject>, "start" | "stop" | "waitForSync">> = [
    vas,
    deployments,
    pods,
    replicaSets,
    nodes,
    ...configMaps,
    ...(namespaces ? [namespaces] : []),
  ];
  let source: MetricsSource | undefined;
  try {
    for (const inf of informers) inf.start();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(informers.map((i) => i.waitForSync())),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`listing the cluster's objects took longer than ${opts.timeoutMs / 1000}s`)),
          opts.timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));

    const mainData = configMaps[0].list().find((cm) => cm.metadata?.namespace === opts.systemNamespace)?.data;
    const nsLookup = namespaces ? (name: string) => namespaces.get(undefined, name) : undefined;
    // the controller's configuration resolution; its main-config half is not used here
    const config = new ConfigWatch(
      loadMainConfig({ env: { PROMETHEUS_BASE_URL: "https://unused.invalid" } }),
      {
        systemNamespace: opts.systemNamespace,
        watchNamespace: opts.watchNamespace,
        mainName: opts.mainConfigMap,
        saturationName: opts.saturationConfigMap,
        scaleToZeroEnv: mainData?.WVA_SCALE_TO_ZERO,
        namespaces: nsLookup,
        tracked: (ns) => vas.list().some((va) => va.metadata?.namespace === ns),
        log,
      },
    );
    for (const inf of configMaps.slice(1)) for (const cm of inf.list()) config.onUpsert(cm);

    const activeDeployments = () =>
      new Set(
        loop
          .activeVariants()
          .map((v) => `${v.deployment.metadata?.namespace}/${v.deployment.metadata?.name}`),
      );
    source = opts.prometheus
      ? new PrometheusSource({ config: opts.prometheus, logger: log })
      : new PodScrapingSource({
          targets: new InformerScrapeTargets(pods, replicaSets, activeDeployments, opts.podScrape),
          timeoutMs: opts.podScrape?.timeoutMs,
          logger: log,
        });
    const lookup = new InformerClusterLookup(pods, replicaSets);
    const gpuInventory = () =>
      gpuInventoryOfNodes(nodes.list(), parseLabelSelector(mainData?.WVA_NODE_SELECTOR));
    const collector = new SourceCollector(
      new ReplicaMetricsCollector({ source, lookup, logger: log }),
      source,
    );
    // the engine loop only for its active-variant filter: it never runs a cycle here
    const loop: EngineLoop = new EngineLoop(
      {
        vas,
        deployments,
        collector,
        config: {
          saturationFor: (m, ns) => config.saturationFor(m, ns),
          limiterEnabled: () => config.limiterEnabled(),
          scaleToZeroFor: (m, ns) => config.scaleToZeroFor(m, ns),
          gpuInventory,
          transitionTimeoutMs: () => 0,
        },
        metrics: new ActuationMetrics(opts.instance, { processMetrics: false }),
        decisions: new Map(),
        enqueue: () => undefined,
        isolation: { instance: opts.instance, watchNamespace: opts.watchNamespace },
        namespaces: nsLookup,
        actuator: "hpa",
        setScale: () => Promise.reject(new Error("wva snapshot never writes to the cluster")),
        log,
      },
      0,
    );

    const groups = new Map<string, ModelGroup>();
    for (const v of loop.activeVariants()) {
      const ns = v.va.metadata!.namespace!;
      const key = `${v.va.spec.modelID}|${ns}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { modelID: v.va.spec.modelID, namespace: ns, variants: [] }));
      g.variants.push(v);
    }
    const collected = groups.size > 0 ? await collector.collectAll([...groups.values()]) : new Map();

    const base: SaturationConfig = {
      // the global `default` entry (no model has an empty ID, so no override applies)
      ...config.saturationFor("", opts.systemNamespace)!,
      enableLimiter: config.limiterEnabled(),
    };
    const doc: SnapshotDocument = { saturation: base, variants: [] };
    const overrides: Array<Record<string, unknown>> = [];
    const scaleToZero: NonNullable<SnapshotDocument["scaleToZero"]> = [];
    const failedGroups: CaptureResult["failedGroups"] = [];
    for (const [key, g] of groups) {
      const got = collected.get(key) ?? { ok: false, error: "no collection result" };
      if (!got.ok) failedGroups.push({ group: key, error: got.error });
      const replicas = got.ok ? got.replicas : [];
      const sat = config.saturationFor(g.modelID, g.namespace);
      if (sat) {
        const differs = Object.fromEntries(
          Object.entries(sat).filter(
            ([k, v]) => k !== "enableLimiter" && base[k as keyof SaturationConfig] !== v,
          ),
        );
        if (Object.keys(differs).length > 0)
          overrides.push({ model_id: g.modelID, namespace: g.namespace, ...differs });
      }
      const stz = config.scaleToZeroFor(g.modelID, g.namespace);
      if (stz.enabled) {
        const rc = await collector.requestCount(g, stz.retentionMs).catch((e: unknown) => ({
          count: null,
          error: errText(e),
        }));
        scaleToZero.push({
          modelID: g.modelID,
          namespace: g.namespace,
          enabled: true,
          requestCount: rc.count,
        });
      }
      for (const v of g.variants) doc.variants.push(variantEntry(v, g.modelID, replicas));
    }
    if (overrides.length > 0) doc.saturationOverrides = overrides;
    if (scaleToZero.length > 0) doc.scaleToZero = scaleToZero;
    if (base.enableLimiter) doc.gpuInventory = gpuInventory();
    doc.variants.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    validateSnapshot(doc);
    return { document: doc, failedGroups, source: source.name };
  } finally {
    for (const inf of informers) inf.stop();
    source?.close();
    client.close();
  }
}

function variantEntry(v: GroupVariant, modelID: string, replicas: ReplicaMetric[]): SnapshotVariant {
  const name = v.va.metadata!.name!;
  const rs = replicaState(v.deployment);
  return {
    name,
    namespace: v.va.metadata!.namespace!,
    modelID,
    accelerator: resolveAccelerator(v.va, v.deployment),
    cost: variantCost(v.va),
    gpusPerReplica: gpusPerReplica(v.deployment),
    currentReplicas: rs.current,
    readyReplicas: rs.ready,
    desiredReplicas: v.va.status?.desiredOptimizedAlloc?.numReplicas ?? 0,
    replicas: replicas
      .filter((r) => r.variant === name)
      .map((r) => ({ pod: r.pod, kvCacheUsage: r.kvCacheUsage, queueLength: r.queueLength }))
      .sort((a, b) => a.pod.localeCompare(b.pod)),
  };
}
