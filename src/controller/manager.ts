// Over 450 lines: the manager's setup units (informers, leadership, servers, loops) and its handle, kept together.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import { ActuationMetrics } from "../actuate/metrics.js";
import { readSetting, type MainConfig } from "../config/main.js";
import { parseManagerArgs } from "../config/manager-flags.js";
import { DEFAULT_SETTINGS, type FlagSettings, type MetricsSourceName } from "../config/settings.js";
import type { SaturationConfig } from "../engine/types.js";
import { createLogger, type Logger } from "../util/logger.js";
import type { InferencePoolGroup } from "../collect/inference-pool.js";
import type { Deployment } from "./accelerator.js";
import type { PodScrapeOptions } from "./collection.js";
import type { ConfigWatch } from "./config-watch.js";
import { ModelParameters } from "./model-parameters.js";
import { EngineLoop, type CycleReport, type GroupCollector } from "./engine-loop.js";
import { Informers } from "./informers.js";
import { KubeClient, loadKubeConfig } from "./kube/client.js";
import { EventRecorder } from "./kube/events.js";
import type { Informer } from "./kube/informer.js";
import { leaseName } from "./kube/leader-election.js";
import type { ConfigMap, HorizontalPodAutoscaler, Namespace, Node, Pod, ReplicaSet } from "./kube/objects.js";
import { Leadership, type LeaderWork } from "./leadership.js";
import type { IsolationConfig, NamespaceLookup } from "./predicates.js";
import { PoolReconciler } from "./inference-pool.js";
import { VAReconciler } from "./reconciler.js";
import { ScaleFromZeroLoop } from "./scale-from-zero.js";
import {
  configMapInformers,
  createCollector,
  createConfigWatch,
  gpuInventory,
  loadStartupConfig,
  ReconcileQueue,
  startServers,
} from "./setup.js";
import { managerHandle } from "./handle.js";
import { vaKey, type CachedDecision, type VA } from "./types.js";
import {
  enqueueVa,
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

/** What every setup unit of the manager shares. */
interface ManagerContext {
  options: StartManagerOptions;
  main: MainConfig;
  mainData?: Record<string, string>;
  sourceKind: MetricsSourceName | "custom";
  client: KubeClient;
  log: Logger;
  identity: string;
  lease: string;
  isolation: IsolationConfig;
  events: EventRecorder;
  metrics: ActuationMetrics;
}

/** Flags, logger, API client, start-up configuration and identity. */
async function createContext(options: StartManagerOptions): Promise<ManagerContext> {
  const env = options.env ?? process.env;
  const given: Partial<FlagSettings> = { ...parseManagerArgs(options.args ?? []).given, ...options.flags };
  const log =
    options.logger ??
    createLogger({
      v: given.v ?? DEFAULT_SETTINGS.v,
      name: "manager",
      format: given.logFormat ?? readSetting("logFormat", { env }),
    });
  const sourceKind =
    typeof options.metricsSource === "object"
      ? "custom"
      : (options.metricsSource ?? readSetting("metricsSource", { env }));
  const timeoutMs = given.restClientTimeoutMs ?? DEFAULT_SETTINGS.restClientTimeoutMs;
  const client = new KubeClient(loadKubeConfig(options.kubeconfig), { timeoutMs });
  const { main, mainData } = await loadStartupConfig(client, given, env, sourceKind, log);
  client.setTimeout(main.restClientTimeoutMs);
  const identity = options.identity ?? `${hostname()}_${randomBytes(4).toString("hex")}`;
  const lease = leaseName(main.leaderElectionID, main.controllerInstance);
  const metrics = new ActuationMetrics(main.controllerInstance);
  metrics.setLeader(lease, false);
  return {
    options,
    main,
    mainData,
    sourceKind,
    client,
    log,
    identity,
    lease,
    isolation: { instance: main.controllerInstance, watchNamespace: main.watchNamespace },
    events: new EventRecorder(client, "workload-variant-autoscaler", { logger: log, instance: identity }),
    metrics,
  };
}

/** The informer caches of the manager. */
interface Caches {
  informers: Informers;
  vas: Informer<VA>;
  deployments: Informer<Deployment>;
  pods: Informer<Pod>;
  replicaSets: Informer<ReplicaSet>;
  namespaces?: Informer<Namespace>;
  nodes: Informer<Node>;
  hpas: Informer<HorizontalPodAutoscaler>;
  configMaps: Array<Informer<ConfigMap>>;
  nsLookup?: NamespaceLookup;
  /** InferencePools of `POOL_GROUP` with their EPP Services: the scale-from-zero datastore. */
  pools: PoolReconciler;
}

function createCaches(ctx: ManagerContext): Caches {
  const { main } = ctx;
  const informers = new Informers({
    client: ctx.client,
    systemNamespace: main.systemNamespace,
    watchNamespace: main.watchNamespace,
    instance: main.controllerInstance,
    resyncMs: ctx.options.resyncMs ?? 10 * 60_000,
    log: ctx.log,
  });
  const vas = informers.create("vas");
  vas.addIndex("namespace", (va) => [va.metadata?.namespace ?? ""]);
  const namespaces = main.watchNamespace ? undefined : informers.create("namespaces");
  const pods = informers.create("pods");
  return {
    informers,
    vas,
    deployments: informers.create("deployments"),
    pods,
    replicaSets: informers.create("replicaSets"),
    namespaces,
    nodes: informers.create("nodes"),
    hpas: informers.create("hpas"),
    configMaps: configMapInformers(informers, main),
    nsLookup: namespaces && ((name) => namespaces.get(undefined, name)),
    pools: new PoolReconciler({
      group: main.poolGroup as InferencePoolGroup,
      pools: informers.inferencePools(main.poolGroup as InferencePoolGroup),
      services: informers.create("services"),
      pods,
      bearerToken: main.eppMetricReaderBearerToken,
      log: ctx.log,
    }),
  };
}

/** The hot-reloaded configuration, fed by the ConfigMap informers. */
function setupConfigWatch(ctx: ManagerContext, c: Caches, onInterval: (ms: number) => void): ConfigWatch {
  return createConfigWatch(ctx.main, ctx.mainData, c.configMaps, {
    namespaces: c.nsLookup,
    tracked: (ns) => c.vas.byIndex("namespace", ns).length > 0,
    events: ctx.events,
    log: ctx.log,
    onMainConfig: (m) => onInterval(m.globalOptIntervalMs),
  });
}

/** Sets a Deployment's replicas through its scale subresource (JSON merge patch). */
function deploymentScaler(client: KubeClient) {
  return async (ns: string, name: string, replicas: number): Promise<void> => {
    await client.mergePatch(
      `/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/deployments/${encodeURIComponent(name)}/scale`,
      { spec: { replicas } },
    );
  };
}

/** The scale-from-zero loop over the engine loop's inactive VAs and the InferencePool datastore. */
function createScaleFromZero(
  ctx: ManagerContext,
  c: Caches,
  parts: { loop: EngineLoop; decisions: Map<string, CachedDecision>; queue: ReconcileQueue },
): ScaleFromZeroLoop {
  return new ScaleFromZeroLoop({
    inactiveVariants: () => parts.loop.inactiveVariants(),
    activeVariants: () => parts.loop.activeVariants(),
    pools: c.pools.datastore,
    queueSize: (pool, modelID) => c.pools.queueSize(pool, modelID),
    maxConcurrency: ctx.main.scaleFromZeroMaxConcurrency,
    gpuInventory: gpuInventory(c.nodes, ctx.main.nodeSelector),
    setScale: deploymentScaler(ctx.client),
    metrics: ctx.metrics,
    decisions: parts.decisions,
    enqueue: (key) => parts.queue.add(key),
    onWake: (v, at) => parts.loop.recordWake(v, at),
    events: ctx.events,
    log: ctx.log,
  });
}

/** The engine loop: reads the caches and the configuration, hands decisions to the reconciler. */
function createEngineLoop(
  ctx: ManagerContext,
  c: Caches,
  parts: {
    collector: GroupCollector;
    config: ConfigWatch;
    decisions: Map<string, CachedDecision>;
    queue: ReconcileQueue;
    onCycle: (r: CycleReport) => void;
  },
): EngineLoop {
  const { config } = parts;
  return new EngineLoop(
    {
      vas: c.vas,
      deployments: c.deployments,
      hpas: c.hpas,
      collector: parts.collector,
      config: {
        saturationFor: (m, ns) => config.saturationFor(m, ns),
        limiterEnabled: () => config.limiterEnabled(),
        scaleToZeroFor: (m, ns) => config.scaleToZeroFor(m, ns),
        gpuInventory: gpuInventory(c.nodes, ctx.main.nodeSelector),
        transitionTimeoutMs: () => config.mainConfig.transitionTimeoutMs,
        sloFor: (m, ns) => config.sloFor(m, ns),
      },
      modelParameters: new ModelParameters({
        client: ctx.client,
        namespace: ctx.main.systemNamespace,
        metrics: ctx.metrics,
        events: ctx.events,
        log: ctx.log,
      }),
      metrics: ctx.metrics,
      decisions: parts.decisions,
      enqueue: (key) => parts.queue.add(key),
      isolation: ctx.isolation,
      namespaces: c.nsLookup,
      actuator: ctx.main.actuator,
      setScale: deploymentScaler(ctx.client),
      events: ctx.events,
      log: ctx.log,
      onCycle: parts.onCycle,
      scaleDownStabilizationMs: ctx.main.scaleDownStabilizationMs,
    },
    ctx.main.globalOptIntervalMs,
  );
}

/** Leadership: on the leader, the reconcile queue (with every VA queued) and the engine loop run. */
function createLeadership(
  ctx: ManagerContext,
  c: Caches,
  parts: {
    loop: EngineLoop;
    fromZero: ScaleFromZeroLoop;
    queue: ReconcileQueue;
    triggers: VaTriggers;
    synced: Promise<void>;
  },
): Leadership {
  const { main, metrics } = ctx;
  const work: LeaderWork = {
    start: () => {
      metrics.reset();
      metrics.setLeader(ctx.lease, true);
      parts.queue.start();
      for (const va of c.vas.list()) enqueueVa(va, parts.triggers);
      parts.loop.start();
      parts.fromZero.start();
    },
    stop: async () => {
      metrics.setLeader(ctx.lease, false);
      await parts.fromZero.stop();
      await parts.loop.stop();
      await parts.queue.stop();
      metrics.reset();
    },
  };
  return new Leadership({
    client: ctx.client,
    elect: main.leaderElect,
    namespace: main.systemNamespace,
    lease: ctx.lease,
    identity: ctx.identity,
    leaseDurationMs: main.leaderElectionLeaseDurationMs,
    renewDeadlineMs: main.leaderElectionRenewDeadlineMs,
    retryPeriodMs: main.leaderElectionRetryPeriodMs,
    synced: parts.synced,
    work,
    log: ctx.log,
    onLost: ctx.options.onLostLeadership,
  });
}

/**
 * Starts the WVA controller manager in this process against a cluster: informers, probes, the metrics
 * server, leader election and, on the leader, the engine loop and the VA reconciler.
 */
export async function startManager(options: StartManagerOptions = {}): Promise<ManagerHandle> {
  const ctx = await createContext(options);
  const { main, log } = ctx;
  const c = createCaches(ctx);
  const config = setupConfigWatch(ctx, c, (ms) => loop.setInterval(ms));
  const decisions = new Map<string, CachedDecision>();
  const reconciler = new VAReconciler({
    client: ctx.client,
    vas: c.vas,
    deployments: c.deployments,
    decisions,
    metrics: ctx.metrics,
    events: ctx.events,
    isolation: ctx.isolation,
    namespaces: c.nsLookup,
    log,
  });
  const queue = new ReconcileQueue(reconciler, options.workers ?? 4);
  const { collector, source } = await createCollector({
    options,
    main,
    pods: c.pods,
    replicaSets: c.replicaSets,
    activeDeployments: () => loop.activeDeployments(),
    log,
  });
  const cycleWaiters: Array<(r: CycleReport) => void> = [];
  const onCycle = (r: CycleReport) => {
    options.onCycle?.(r);
    for (const w of cycleWaiters.splice(0)) w(r);
  };
  const loop = createEngineLoop(ctx, c, { collector, config, decisions, queue, onCycle });

  const triggers: VaTriggers = {
    isolation: ctx.isolation,
    namespaces: c.nsLookup,
    enqueue: (key) => queue.add(key),
    forget: (va) => {
      const ns = va.metadata?.namespace ?? "";
      const name = va.metadata?.name ?? "";
      reconciler.forget(ns, name);
      loop.forget(vaKey(ns, name));
    },
  };
  watchForReconciler(c.vas, c.deployments, triggers);
  if (c.namespaces) watchNamespaceExclusion(c.namespaces, c.vas, triggers);
  watchServiceMonitor(c.informers.create("serviceMonitors"), main.systemNamespace, ctx.events);

  c.informers.start();
  const synced = c.informers.synced();
  let isReady = false;
  void synced.then(() => (isReady = true));
  const servers = await startServers(main, ctx.client, ctx.metrics, () => isReady, log).catch(
    (err: unknown) => {
      c.informers.stop();
      throw err;
    },
  );
  const fromZero = createScaleFromZero(ctx, c, { loop, decisions, queue });
  const leadership = createLeadership(ctx, c, { loop, fromZero, queue, triggers, synced });
  leadership.start();
  log.info(
    {
      identity: ctx.identity,
      lease: ctx.lease,
      leaderElect: main.leaderElect,
      metrics: servers.metricsServer?.url,
      probes: servers.probe?.url,
      source: ctx.sourceKind,
      actuator: main.actuator,
      intervalMs: main.globalOptIntervalMs,
    },
    "manager started",
  );
  return managerHandle({
    ...ctx,
    ...c,
    leadership,
    loop,
    queue,
    config,
    source,
    servers,
    synced,
    cycleWaiters,
  });
}
