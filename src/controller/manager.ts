import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import { ActuationMetrics } from "../actuate/metrics.js";
import { ReplicaMetricsCollector } from "../collect/collector.js";
import { PodScrapingSource } from "../collect/podscrape/source.js";
import { fromLoadedSettings } from "../collect/prometheus/config.js";
import { PrometheusSource } from "../collect/prometheus/source.js";
import type { MetricsSource } from "../collect/types.js";
import { loadMainConfig, readSetting, type MainConfig } from "../config/main.js";
import { parseManagerArgs } from "../config/manager-flags.js";
import { SCALE_TO_ZERO_CONFIG_MAP } from "../config/scale-to-zero.js";
import { DEFAULT_SETTINGS, type FlagSettings, type MetricsSourceName } from "../config/settings.js";
import type { SaturationConfig } from "../engine/types.js";
import { GpuInventory, type GpuNode } from "../limit/inventory.js";
import { matchesLabels, parseLabelSelector } from "../util/label-selector.js";
import { createLogger, type Logger } from "../util/logger.js";
import { GPU_VENDORS, type Deployment } from "./accelerator.js";
import { InformerClusterLookup } from "./cluster-lookup.js";
import { InformerScrapeTargets, SourceCollector, type PodScrapeOptions } from "./collection.js";
import { ConfigWatch } from "./config-watch.js";
import { EngineLoop, type CycleReport, type GroupCollector } from "./engine-loop.js";
import { Informers } from "./informers.js";
import { isNotFound, KubeClient, loadKubeConfig } from "./kube/client.js";
import { EventRecorder } from "./kube/events.js";
import { errText, type Informer } from "./kube/informer.js";
import { leaseName } from "./kube/leader-election.js";
import type { ConfigMap, Node, Pod, ReplicaSet } from "./kube/objects.js";
import { runWorkers, WorkQueue } from "./kube/workqueue.js";
import { Leadership, type LeaderWork } from "./leadership.js";
import type { IsolationConfig, NamespaceLookup } from "./predicates.js";
import { VAReconciler } from "./reconciler.js";
import {
  KubeMetricsAuthorizer,
  startMetricsServer,
  startProbeServer,
  type MetricsServer,
} from "./servers.js";
import { vaKey, type CachedDecision, type VA } from "./types.js";
import {
  enqueueVa,
  watchConfigMaps,
  watchForReconciler,
  watchNamespaceExclusion,
  watchServiceMonitor,
  type VaTriggers,
} from "./watches.js";

export interface StartManagerOptions {
  /** Path of a kubeconfig file, or a loaded KubeConfig; default: KUBECONFIG / in-cluster. */
  kubeconfig?: string | KubeConfig;
  /** Command-line arguments in upstream's syntax (`--leader-elect`, `--metrics-bind-address=:8443`, …). */
  args?: readonly string[];
  /** Typed flag values; they count as given on the command line (they win over env and ConfigMap). */
  flags?: Partial<FlagSettings>;
  /** Environment (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Where metrics come from: Prometheus (default), scraping the serving pods directly, or a custom collector. */
  metricsSource?: MetricsSourceName | GroupCollector;
  /** Pod scraping settings (with `metricsSource: "pods"`). */
  podScrape?: PodScrapeOptions;
  /** Leader election identity (default `<hostname>_<random>`). */
  identity?: string;
  logger?: Logger;
  /** Called after every engine cycle (on the leader). */
  onCycle?: (report: CycleReport) => void;
  /** Informer resync period (default 10 minutes; 0 = off). */
  resyncMs?: number;
  /** Wait for Prometheus (`up`) at start-up for at most this long (default 5 minutes; 0 = do not check). */
  prometheusStartupTimeoutMs?: number;
  /** Called when leadership is lost (not on stop); the CLI exits there like upstream. */
  onLostLeadership?: () => void;
  /** Tuning of the Prometheus source (attempts and back-off per query, per-query timeout). */
  prometheus?: { maxAttempts?: number; baseBackoffMs?: number; queryTimeoutMs?: number };
  /** Workers of the VA reconciler (default 4). */
  workers?: number;
}

export interface ManagerHandle {
  /**
   * Graceful stop: finishes the running cycle, drains workers, releases the lease (unless
   * `releaseLease: false`, which leaves it to expire as after a crash), closes servers.
   */
  stop(opts?: { releaseLease?: boolean }): Promise<void>;
  /** `https://host:port/metrics` or `http://…` when the metrics server is enabled. */
  metricsUrl?: string;
  /** Base URL of the probe server (`/healthz`, `/readyz`). */
  probeUrl?: string;
  /** PEM of the metrics serving certificate (HTTPS). */
  metricsCertPem?: string;
  identity: string;
  leaseName: string;
  isLeader(): boolean;
  /** Resolves once this manager leads (at once without leader election). */
  waitForLeadership(): Promise<void>;
  /** Resolves once the informer caches synced. */
  ready(): Promise<void>;
  /** Runs one engine cycle now (leader only; otherwise rejects). */
  runCycle(): Promise<CycleReport>;
  /** Resolves once the reconciler has nothing queued or in progress. */
  reconcileIdle(): Promise<void>;
  /** Waits for the next completed engine cycle. */
  nextCycle(): Promise<CycleReport>;
  /** Current engine period (follows `GLOBAL_OPT_INTERVAL`). */
  engineIntervalMs(): number;
  /** The flag settings in effect (from flags, environment, ConfigMap or defaults). */
  flags: FlagSettings;
  config(): MainConfig;
  /** Saturation / scale-to-zero config in effect for a model (hot-reloaded). */
  saturationFor(modelID: string, namespace: string): SaturationConfig | undefined;
  scaleToZeroFor(modelID: string, namespace: string): { enabled: boolean; retentionMs: number };
  metrics: ActuationMetrics;
  /** API requests made so far. */
  apiRequests(): { total: number; byVerb: Record<string, number> };
  /** The informer caches (read-only use). */
  caches: { vas: Informer<VA>; deployments: Informer<Deployment> };
}

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
async function loadStartupConfig(
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
function configMapInformers(informers: Informers, main: MainConfig): Array<Informer<ConfigMap>> {
  const system = main.systemNamespace;
  const out = [informers.configMap(main.mainConfigMapName, system)];
  const scopes = main.watchNamespace ? [...new Set([system, main.watchNamespace])] : [undefined];
  for (const scope of scopes) {
    for (const name of [main.saturationConfigMapName, SCALE_TO_ZERO_CONFIG_MAP])
      out.push(informers.configMap(name, scope));
  }
  return out;
}

/** GPUs per accelerator of the selected nodes, read from their vendor labels and allocatable counts. */
function gpuInventory(nodes: Informer<Node>, nodeSelector: string): () => Record<string, number> {
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

interface CollectorParts {
  options: StartManagerOptions;
  main: MainConfig;
  pods: Informer<Pod>;
  replicaSets: Informer<ReplicaSet>;
  /** Deployments (`namespace/name`) of the active variants, for pod scraping. */
  activeDeployments: () => Set<string>;
  log: Logger;
}

/** The metrics collector: a custom one, pod scraping, or Prometheus (waited for at start-up). */
async function createCollector(
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
  const collector = new SourceCollector(new ReplicaMetricsCollector({ source, lookup, logger: log }), source);
  return { collector, source };
}

/** The reconcile queue and its workers, running while this manager leads. */
class ReconcileQueue {
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
async function startServers(
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

/**
 * Starts the WVA controller manager in this process against a cluster: informers, probes, the metrics
 * server, leader election and, on the leader, the engine loop and the VA reconciler.
 */
export async function startManager(options: StartManagerOptions = {}): Promise<ManagerHandle> {
  const env = options.env ?? process.env;
  const given: Partial<FlagSettings> = { ...parseManagerArgs(options.args ?? []).given, ...options.flags };
  const log = options.logger ?? createLogger({ v: given.v ?? DEFAULT_SETTINGS.v, name: "manager" });
  const sourceKind =
    typeof options.metricsSource === "object"
      ? "custom"
      : (options.metricsSource ?? readSetting("metricsSource", { env }));
  const timeoutMs = given.restClientTimeoutMs ?? DEFAULT_SETTINGS.restClientTimeoutMs;
  const client = new KubeClient(loadKubeConfig(options.kubeconfig), { timeoutMs });
  const { main, mainData } = await loadStartupConfig(client, given, env, sourceKind, log);
  client.setTimeout(main.restClientTimeoutMs);
  const instance = main.controllerInstance;
  const isolation: IsolationConfig = { instance, watchNamespace: main.watchNamespace };
  const identity = options.identity ?? `${hostname()}_${randomBytes(4).toString("hex")}`;
  const lease = leaseName(main.leaderElectionID, instance);
  const events = new EventRecorder(client, "workload-variant-autoscaler", {
    logger: log,
    instance: identity,
  });
  const metrics = new ActuationMetrics(instance);

  const informers = new Informers({
    client,
    systemNamespace: main.systemNamespace,
    watchNamespace: main.watchNamespace,
    instance,
    resyncMs: options.resyncMs ?? 10 * 60_000,
    log,
  });
  const vas = informers.create("vas");
  const deployments = informers.create("deployments");
  const pods = informers.create("pods");
  const replicaSets = informers.create("replicaSets");
  const namespaces = main.watchNamespace ? undefined : informers.create("namespaces");
  const nodes = informers.create("nodes");
  const configMaps = configMapInformers(informers, main);
  vas.addIndex("namespace", (va) => [va.metadata?.namespace ?? ""]);
  const nsLookup: NamespaceLookup | undefined = namespaces && ((name) => namespaces.get(undefined, name));

  const config = new ConfigWatch(
    main,
    {
      systemNamespace: main.systemNamespace,
      watchNamespace: main.watchNamespace,
      mainName: main.mainConfigMapName,
      saturationName: main.saturationConfigMapName,
      scaleToZeroEnv: main.scaleToZero ? "true" : undefined,
      namespaces: nsLookup,
      tracked: (ns) => vas.byIndex("namespace", ns).length > 0,
      events,
      log,
      onMainConfig: (c) => loop.setInterval(c.globalOptIntervalMs),
    },
    mainData,
  );
  watchConfigMaps(configMaps, config);

  const decisions = new Map<string, CachedDecision>();
  const reconciler = new VAReconciler({
    client,
    vas,
    deployments,
    decisions,
    metrics,
    events,
    isolation,
    namespaces: nsLookup,
    log,
  });
  const queue = new ReconcileQueue(reconciler, options.workers ?? 4);
  const { collector, source } = await createCollector({
    options,
    main,
    pods,
    replicaSets,
    activeDeployments: () =>
      new Set(
        loop
          .activeVariants()
          .map((v) => `${v.deployment.metadata?.namespace}/${v.deployment.metadata?.name}`),
      ),
    log,
  });
  const cycleWaiters: Array<(r: CycleReport) => void> = [];
  const loop: EngineLoop = new EngineLoop(
    {
      vas,
      deployments,
      collector,
      config: {
        saturationFor: (m, ns) => config.saturationFor(m, ns),
        limiterEnabled: () => config.limiterEnabled(),
        scaleToZeroFor: (m, ns) => config.scaleToZeroFor(m, ns),
        gpuInventory: gpuInventory(nodes, main.nodeSelector),
        transitionTimeoutMs: () => config.mainConfig.transitionTimeoutMs,
      },
      metrics,
      decisions,
      enqueue: (key) => queue.add(key),
      isolation,
      namespaces: nsLookup,
      actuator: main.actuator,
      setScale: async (ns, name, replicas) => {
        await client.mergePatch(
          `/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/deployments/${encodeURIComponent(name)}/scale`,
          { spec: { replicas } },
        );
      },
      events,
      log,
      onCycle: (r) => {
        options.onCycle?.(r);
        for (const w of cycleWaiters.splice(0)) w(r);
      },
    },
    main.globalOptIntervalMs,
  );

  const triggers: VaTriggers = {
    isolation,
    namespaces: nsLookup,
    enqueue: (key) => queue.add(key),
    forget: (va) => {
      const ns = va.metadata?.namespace ?? "";
      const name = va.metadata?.name ?? "";
      reconciler.forget(ns, name);
      loop.forget(vaKey(ns, name));
    },
  };
  watchForReconciler(vas, deployments, triggers);
  if (namespaces) watchNamespaceExclusion(namespaces, vas, triggers);
  watchServiceMonitor(informers.create("serviceMonitors"), main.systemNamespace, events);

  informers.start();
  const synced = informers.synced();
  let isReady = false;
  void synced.then(() => (isReady = true));
  const servers = await startServers(main, client, metrics, () => isReady, log).catch((err: unknown) => {
    informers.stop();
    throw err;
  });

  const work: LeaderWork = {
    start: () => {
      metrics.reset();
      queue.start();
      for (const va of vas.list()) enqueueVa(va, triggers);
      loop.start();
    },
    stop: async () => {
      await loop.stop();
      await queue.stop();
      metrics.reset();
    },
  };
  const leadership = new Leadership({
    client,
    elect: main.leaderElect,
    namespace: main.systemNamespace,
    lease,
    identity,
    leaseDurationMs: main.leaderElectionLeaseDurationMs,
    renewDeadlineMs: main.leaderElectionRenewDeadlineMs,
    retryPeriodMs: main.leaderElectionRetryPeriodMs,
    synced,
    work,
    log,
    onLost: options.onLostLeadership,
  });
  leadership.start();
  log.info(
    {
      identity,
      lease,
      leaderElect: main.leaderElect,
      metrics: servers.metricsServer?.url,
      probes: servers.probe?.url,
      source: sourceKind,
      actuator: main.actuator,
      intervalMs: main.globalOptIntervalMs,
    },
    "manager started",
  );
  return managerHandle({
    main,
    identity,
    lease,
    metrics,
    vas,
    deployments,
    leadership,
    loop,
    queue,
    config,
    client,
    informers,
    source,
    servers,
    synced,
    cycleWaiters,
    log,
  });
}

interface HandleParts {
  main: MainConfig;
  identity: string;
  lease: string;
  metrics: ActuationMetrics;
  vas: Informer<VA>;
  deployments: Informer<Deployment>;
  leadership: Leadership;
  loop: EngineLoop;
  queue: ReconcileQueue;
  config: ConfigWatch;
  client: KubeClient;
  informers: Informers;
  source?: MetricsSource;
  servers: { probe?: { url: string; close(): Promise<void> }; metricsServer?: MetricsServer };
  synced: Promise<void>;
  cycleWaiters: Array<(r: CycleReport) => void>;
  log: Logger;
}

function flagSettings(main: MainConfig): FlagSettings {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(DEFAULT_SETTINGS)) if (key in main) out[key] = main[key as keyof MainConfig];
  return out as FlagSettings;
}

function managerHandle(p: HandleParts): ManagerHandle {
  const { metricsServer, probe } = p.servers;
  let stopping = false;
  return {
    metricsUrl: metricsServer ? `${metricsServer.url}/metrics` : undefined,
    probeUrl: probe?.url,
    metricsCertPem: metricsServer?.certPem,
    identity: p.identity,
    leaseName: p.lease,
    flags: flagSettings(p.main),
    metrics: p.metrics,
    caches: { vas: p.vas, deployments: p.deployments },
    isLeader: () => p.leadership.isLeader,
    waitForLeadership: () => p.leadership.waitForLeadership(),
    ready: () => p.synced,
    runCycle: async () => {
      if (!p.leadership.isLeader) throw new Error("not the leader");
      return await p.loop.runOnce();
    },
    nextCycle: () => new Promise<CycleReport>((resolve) => p.cycleWaiters.push(resolve)),
    reconcileIdle: async () => {
      while (!p.queue.idle) await new Promise((r) => setTimeout(r, 5));
    },
    engineIntervalMs: () => p.loop.interval,
    config: () => p.config.mainConfig,
    saturationFor: (m, ns) => p.config.saturationFor(m, ns),
    scaleToZeroFor: (m, ns) => p.config.scaleToZeroFor(m, ns),
    apiRequests: () => p.client.stats.snapshot(),
    stop: async (opts = {}) => {
      if (stopping) return;
      stopping = true;
      // informers stop before the leader work: a leadership start still waiting for the first sync is
      // released; caches stay readable for the last reconciles
      await p.leadership.stop(opts.releaseLease ?? true, () => p.informers.stop());
      p.source?.close();
      await Promise.all([metricsServer?.close(), probe?.close()]);
      p.client.close();
      p.log.info("manager stopped");
    },
  };
}
