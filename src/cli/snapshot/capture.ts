import { ActuationMetrics } from "../../actuate/metrics.js";
import type { MetricsSourceName } from "../../config/settings.js";
import { gpusPerReplica, replicaState, resolveAccelerator } from "../../controller/accelerator.js";
import { EngineLoop, type GroupVariant } from "../../controller/engine-loop.js";
import { Informers } from "../../controller/informers.js";
import { KubeClient, loadKubeConfig } from "../../controller/kube/client.js";
import { errText } from "../../controller/kube/informer.js";
import {
  configMapInformers,
  createCollector,
  createConfigWatch,
  gpuInventory,
  loadStartupConfig,
} from "../../controller/setup.js";
import { variantCost } from "../../controller/types.js";
import { validateSnapshot, type Snapshot, type SnapshotVariant } from "../decide/snapshot.js";
import { groupByModel } from "../../engine/grouping.js";
import { groupKey, type ReplicaMetric, type SaturationConfig } from "../../engine/types.js";
import type { ReplicaBound } from "../../types/decision.js";
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
  /**
   * The controller's settings as its environment would give them (`POD_NAMESPACE`, `CONFIG_MAP_NAME`,
   * `SATURATION_CONFIG_MAP_NAME`, `CONTROLLER_INSTANCE`, `WATCH_NAMESPACE`, `PROMETHEUS_*`); the main
   * ConfigMap fills in the rest, as for the controller.
   */
  env: Record<string, string | undefined>;
  /** Metrics from Prometheus (`PROMETHEUS_BASE_URL`), or by scraping the serving pods once. */
  metricsSource: MetricsSourceName;
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
 * Captures what the controller would decide on now, through the controller's own setup units: its
 * start-up configuration, informers (list, then stop; nothing is written), ConfigMap resolution (global
 * and namespace-local saturation and scale-to-zero ConfigMaps), active-variant filter and metrics
 * collection. The result is a `wva decide` snapshot. Reads VAs, Deployments, Pods, ReplicaSets,
 * Namespaces, Nodes, HorizontalPodAutoscalers and the controller's ConfigMaps — never a Secret. What a one-shot capture cannot
 * reproduce is listed in docs/design/monitoring-and-snapshot.md.
 */
export async function captureSnapshot(opts: CaptureOptions): Promise<CaptureResult> {
  const log = opts.log ?? silentLogger;
  const client = new KubeClient(loadKubeConfig(opts.kubeconfig));
  const { main, mainData } = await loadStartupConfig(client, {}, opts.env, opts.metricsSource, log);
  const informers = new Informers({
    client,
    systemNamespace: main.systemNamespace,
    watchNamespace: main.watchNamespace,
    instance: main.controllerInstance,
    resyncMs: 0,
    log,
  });
  const vas = informers.create("vas");
  const deployments = informers.create("deployments");
  const pods = informers.create("pods");
  const replicaSets = informers.create("replicaSets");
  const namespaces = main.watchNamespace ? undefined : informers.create("namespaces");
  const nodes = informers.create("nodes");
  const hpas = informers.create("hpas");
  const nsLookup = namespaces && ((name: string) => namespaces.get(undefined, name));
  const config = createConfigWatch(main, mainData, configMapInformers(informers, main), {
    namespaces: nsLookup,
    tracked: (ns) => vas.list().some((va) => va.metadata?.namespace === ns),
    log,
  });
  const { collector, source } = await createCollector({
    options: { metricsSource: opts.metricsSource, prometheusStartupTimeoutMs: 0 },
    main,
    pods,
    replicaSets,
    activeDeployments: () => loop.activeDeployments(),
    log,
  });
  const inventory = gpuInventory(nodes, main.nodeSelector);
  // the engine loop only for its filter of active variants: it never runs a cycle here
  const loop: EngineLoop = new EngineLoop(
    {
      vas,
      deployments,
      hpas,
      collector,
      config: {
        saturationFor: (m, ns) => config.saturationFor(m, ns),
        limiterEnabled: () => config.limiterEnabled(),
        scaleToZeroFor: (m, ns) => config.scaleToZeroFor(m, ns),
        gpuInventory: inventory,
        transitionTimeoutMs: () => main.transitionTimeoutMs,
      },
      metrics: new ActuationMetrics(main.controllerInstance, { processMetrics: false }),
      decisions: new Map(),
      enqueue: () => undefined,
      isolation: { instance: main.controllerInstance, watchNamespace: main.watchNamespace },
      namespaces: nsLookup,
      actuator: "hpa",
      setScale: () => Promise.reject(new Error("wva snapshot never writes to the cluster")),
      log,
    },
    main.globalOptIntervalMs,
  );
  try {
    informers.start();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(informers.all.map((i) => i.waitForSync())),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`listing the cluster's objects took longer than ${opts.timeoutMs / 1000}s`)),
          opts.timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));

    const groups = new Map(
      groupByModel(loop.activeVariants(), (v) => ({
        modelID: v.va.spec.modelID,
        namespace: v.va.metadata!.namespace!,
      })).map((g) => [groupKey(g.modelID, g.namespace), g]),
    );
    const collected = groups.size > 0 ? await collector.collectAll([...groups.values()]) : new Map();

    const base: SaturationConfig = {
      // the global `default` entry (no model has an empty ID, so no override applies)
      ...config.saturationFor("", main.systemNamespace)!,
      enableLimiter: config.limiterEnabled(),
    };
    const doc: SnapshotDocument = { saturation: base, variants: [] };
    const overrides: Array<Record<string, unknown>> = [];
    const scaleToZero: NonNullable<SnapshotDocument["scaleToZero"]> = [];
    const failedGroups: CaptureResult["failedGroups"] = [];
    for (const [key, g] of groups) {
      const got = collected.get(key) ?? { ok: false, error: "no collection result" };
      if (!got.ok) failedGroups.push({ group: key, error: got.error });
      const replicas: ReplicaMetric[] = got.ok ? got.replicas : [];
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
      for (const v of g.variants) doc.variants.push(variantEntry(v, g.modelID, replicas, loop.boundsOf(v)));
    }
    if (overrides.length > 0) doc.saturationOverrides = overrides;
    if (scaleToZero.length > 0) doc.scaleToZero = scaleToZero;
    if (base.enableLimiter) doc.gpuInventory = inventory();
    doc.variants.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    validateSnapshot(doc);
    return { document: doc, failedGroups, source: source?.name ?? opts.metricsSource };
  } finally {
    informers.stop();
    source?.close();
    client.close();
  }
}

/** The bounds a snapshot can state: the VA's annotation and HPAs (the limiter's grant is computed). */
function snapshotBounds(bounds: readonly ReplicaBound[]): NonNullable<SnapshotVariant["bounds"]> {
  const out: NonNullable<SnapshotVariant["bounds"]> = [];
  for (const b of bounds)
    if (b.source !== "limiter") out.push({ source: b.source, maxReplicas: b.maxReplicas });
  return out;
}

function variantEntry(
  v: GroupVariant,
  modelID: string,
  replicas: ReplicaMetric[],
  bounds: readonly ReplicaBound[] | undefined,
): SnapshotVariant {
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
    ...(bounds !== undefined && { bounds: snapshotBounds(bounds) }),
  };
}
