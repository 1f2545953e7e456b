/**
 * Setup units of the manager that need no shared context: start-up configuration, ConfigMap
 * informers, GPU inventory, metrics collector, reconcile queue and servers.
 */
import type { ActuationMetrics } from "../actuate/metrics.js";
import { ReplicaMetricsCollector } from "../collect/collector.js";
import { PodScrapingSource } from "../collect/podscrape/source.js";
import { fromLoadedSettings } from "../collect/prometheus/config.js";
import { PrometheusSource } from "../collect/prometheus/source.js";
import type { MetricsSource } from "../collect/types.js";
import { loadMainConfig, readSetting, type MainConfig } from "../config/main.js";
import { SCALE_TO_ZERO_CONFIG_MAP } from "../config/scale-to-zero.js";
import { SLO_CONFIG_MAP } from "../config/slo.js";
import type { FlagSettings, MetricsSourceName } from "../config/settings.js";
import { GpuInventory, type GpuNode } from "../limit/inventory.js";
import { matchesLabels, parseLabelSelector } from "../util/label-selector.js";
import type { Logger } from "../util/logger.js";
import { GPU_VENDORS } from "./accelerator.js";
import { InformerClusterLookup } from "./cluster-lookup.js";
import { InformerScrapeTargets, SourceCollector } from "./collection.js";
import { ConfigWatch, type ConfigWatchOptions } from "./config-watch.js";
import type { GroupCollector } from "./engine-loop.js";
import type { Informers } from "./informers.js";
import { isNotFound, type KubeClient } from "./kube/client.js";
import { errText, type Informer } from "./kube/informer.js";
import type { ConfigMap, Node, Pod, ReplicaSet } from "./kube/objects.js";
import { runWorkers, WorkQueue } from "./kube/workqueue.js";
import type { StartManagerOptions } from "./manager.js";
import type { VAReconciler } from "./reconciler.js";
import { watchConfigMaps } from "./watches.js";
import {
  KubeMetricsAuthorizer,
  startMetricsServer,
  startProbeServer,
  type MetricsServer,
} from "./servers.js";

async function readConfigMap(
  client: KubeClient,
  namespace: string,
  name: string,
  log: Logger,
): Promise<Record<string, string> | undefined> {
  // retrying GET: 100 ms × 2^n, 5 attempts, 10 % jitter; NotFound is not retried
  for (let attempt = 0; ; attempt++) {
    try {
      const cm = await client.get<ConfigMap>(
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(name)}`,
      );
      return cm.data ?? {};
    } catch (err) {
      if (isNotFound(err)) return undefined;
      if (attempt >= 4) {
        log.warn(
          { configMap: `${namespace}/${name}`, err: errText(err) },
          "reading ConfigMap failed; ignored",
        );
        return undefined;
      }
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt * (0.9 + Math.random() * 0.2)));
    }
  }
}

/** Start-up configuration: flag > env > main ConfigMap > default. */
export async function loadStartupConfig(
  client: KubeClient,
  given: Partial<FlagSettings>,
  env: Record<string, string | undefined>,
  sourceKind: MetricsSourceName | "custom",
  log: Logger,
): Promise<{ main: MainConfig; mainData?: Record<string, string> }> {
  const namespace = readSetting("systemNamespace", { env });
  const mainData = await readConfigMap(client, namespace, readSetting("mainConfigMapName", { env }), log);
  // the Prometheus URL is required only when Prometheus is the metrics source
  const main = loadMainConfig(
    { flags: given, env, configMap: mainData },
    { requirePrometheus: sourceKind === "prometheus" },
  );
  for (const w of main.warnings) log.warn(w);
  return { main, mainData };
}

/** Informers of the main, saturation and scale-to-zero ConfigMaps in the namespaces they are read from. */
export function configMapInformers(informers: Informers, main: MainConfig): Array<Informer<ConfigMap>> {
  const system = main.systemNamespace;
  const out = [
    informers.configMap(main.mainConfigMapName, system),
    informers.configMap(SLO_CONFIG_MAP, system),
  ];
  const scopes = main.watchNamespace ? [...new Set([system, main.watchNamespace])] : [undefined];
  for (const scope of scopes) {
    for (const name of [main.saturationConfigMapName, SCALE_TO_ZERO_CONFIG_MAP])
      out.push(informers.configMap(name, scope));
  }
  return out;
}

/**
 * The hot-reloaded configuration in effect for a main configuration (its ConfigMap names, watch
 * namespace and scale-to-zero default), fed by the ConfigMap informers.
 */
export function createConfigWatch(
  main: MainConfig,
  mainData: Record<string, string> | undefined,
  configMaps: ReadonlyArray<Informer<ConfigMap>>,
  o: Pick<ConfigWatchOptions, "namespaces" | "tracked" | "events" | "log" | "onMainConfig">,
): ConfigWatch {
  const config = new ConfigWatch(
    main,
    {
      systemNamespace: main.systemNamespace,
      watchNamespace: main.watchNamespace,
      mainName: main.mainConfigMapName,
      saturationName: main.saturationConfigMapName,
      scaleToZeroEnv: main.scaleToZero ? "true" : undefined,
      ...o,
    },
    mainData,
  );
  watchConfigMaps(configMaps, config);
  return config;
}

/** GPUs per accelerator of the selected nodes, read from their vendor labels and allocatable counts. */
export function gpuInventory(nodes: Informer<Node>, nodeSelector: string): () => Record<string, number> {
  const selector = parseLabelSelector(nodeSelector);
  return () => {
    const gpuNodes: GpuNode[] = [];
    for (const n of nodes.list()) {
      if (!matchesLabels(selector, n.metadata?.labels)) continue;
      const gpus: Record<string, number> = {};
      for (const vendor of GPU_VENDORS) {
        const product = n.metadata?.labels?.[`${vendor}/gpu.product`];
        const count = Number.parseInt(n.status?.allocatable?.[`${vendor}/gpu`] ?? "0", 10) || 0;
        if (product) gpus[product] = (gpus[product] ?? 0) + count;
      }
      gpuNodes.push({ name: n.metadata?.name ?? "", gpus });
    }
    const inventory = GpuInventory.fromNodes(gpuNodes);
    return Object.fromEntries(inventory.types().map((t) => [t, inventory.limit(t)]));
  };
}

export interface CollectorParts {
  options: StartManagerOptions;
  main: MainConfig;
  pods: Informer<Pod>;
  replicaSets: Informer<ReplicaSet>;
  /** Deployments (`namespace/name`) of the active variants, for pod scraping. */
  activeDeployments: () => Set<string>;
  log: Logger;
}

/** The metrics collector: a custom one, pod scraping, or Prometheus (waited for at start-up). */
export async function createCollector(
  p: CollectorParts,
): Promise<{ collector: GroupCollector; source?: MetricsSource }> {
  const { options, main, log } = p;
  if (typeof options.metricsSource === "object") return { collector: options.metricsSource };
  const lookup = new InformerClusterLookup(p.pods, p.replicaSets);
  let source: MetricsSource;
  if ((options.metricsSource ?? main.metricsSource) === "pods") {
    source = new PodScrapingSource({
      targets: new InformerScrapeTargets(p.pods, p.replicaSets, p.activeDeployments, options.podScrape),
      clock: options.podScrape?.clock,
      timeoutMs: options.podScrape?.timeoutMs,
      logger: log,
      bearerToken: main.eppMetricReaderBearerToken || undefined,
    });
  } else {
    const config = fromLoadedSettings(main.prometheus!, main.prometheusAllowHttp);
    const prom = new PrometheusSource({ config, logger: log, ...options.prometheus });
    const timeout = options.prometheusStartupTimeoutMs ?? 5 * 60_000;
    if (timeout > 0) await prom.waitUntilReachable(timeout);
    source = prom;
  }
  const replicas = new ReplicaMetricsCollector({
    source,
    lookup,
    logger: log,
    scrapeIntervalMs: main.metricsScrapeIntervalMs,
    // sample times of pod scraping come from the scrape history's clock
    clock: options.podScrape?.clock,
  });
  const collector = new SourceCollector(replicas, source);
  return { collector, source };
}

/** The reconcile queue and its workers, running while this manager leads. */
export class ReconcileQueue {
  private queue = new WorkQueue();
  private workers?: Promise<void>;
  private active = false;

  constructor(
    private readonly reconciler: VAReconciler,
    private readonly count: number,
  ) {}

  /** Queues a VA key; ignored while not leading. */
  add(key: string): void {
    if (this.active) this.queue.add(key);
  }

  start(): void {
    this.active = true;
    this.queue = new WorkQueue();
    this.workers = runWorkers(
      this.queue,
      this.count,
      (k) => this.reconciler.reconcile(k),
      (k, e) => this.reconciler.onError(k, e),
    );
  }

  async stop(): Promise<void> {
    this.active = false;
    const w = this.workers;
    this.workers = undefined;
    this.queue.shutdown();
    await w;
  }

  get idle(): boolean {
    return this.queue.idle;
  }
}

/** The probe server and the metrics server (closed again when the second cannot start). */
export async function startServers(
  main: MainConfig,
  client: KubeClient,
  metrics: ActuationMetrics,
  isReady: () => boolean,
  log: Logger,
): Promise<{ probe?: Awaited<ReturnType<typeof startProbeServer>>; metricsServer?: MetricsServer }> {
  const probe = await startProbeServer(main.healthProbeBindAddress, isReady);
  try {
    const metricsServer = await startMetricsServer({
      bindAddress: main.metricsBindAddress,
      secure: main.metricsSecure,
      certPath: main.metricsCertPath,
      certName: main.metricsCertName,
      keyName: main.metricsCertKey,
      enableHttp2: main.enableHttp2,
      authorizer: new KubeMetricsAuthorizer(client),
      render: async () => ({ contentType: metrics.registry.contentType, body: await metrics.metrics() }),
      logger: log,
    });
    return { probe, metricsServer };
  } catch (err) {
    await probe?.close();
    throw err;
  }
}
