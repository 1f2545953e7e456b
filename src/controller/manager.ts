import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import { ActuationMetrics } from "../actuate/metrics.js";
import { ReplicaMetricsCollector } from "../collect/collector.js";
import { PodScrapingSource } from "../collect/podscrape/source.js";
import { resolvePrometheusConfig } from "../collect/prometheus/config.js";
import { PrometheusSource } from "../collect/prometheus/source.js";
import type { MetricsSource } from "../collect/types.js";
import {
  DEFAULT_SYSTEM_NAMESPACE,
  MAIN_CONFIG_MAP,
  SATURATION_CONFIG_MAP,
  loadMainConfig,
  type MainConfig,
} from "../config/main.js";
import { MANAGER_FLAGS, parseManagerArgs, type ManagerFlags } from "../config/manager-flags.js";
import { SCALE_TO_ZERO_CONFIG_MAP } from "../config/scale-to-zero.js";
import type { SaturationConfig } from "../engine/types.js";
import { createLogger, type Logger } from "../util/logger.js";
import { gpuInventoryOfNodes, type Deployment, type GpuNodeObject } from "./accelerator.js";
import { InformerClusterLookup } from "./cluster-lookup.js";
import { InformerScrapeTargets, SourceCollector, type PodScrapeOptions } from "./collection.js";
import { ConfigWatch, type ConfigMapObject } from "./config-watch.js";
import { EngineLoop, type CycleReport, type GroupCollector } from "./engine-loop.js";
import { isNotFound, KubeClient, loadKubeConfig } from "./kube/client.js";
import { EventRecorder } from "./kube/events.js";
import { errText, Informer, type KubeObject } from "./kube/informer.js";
import { LeaderElector, leaseName } from "./kube/leader-election.js";
import { runWorkers, WorkQueue } from "./kube/workqueue.js";
import { parseLabelSelector } from "../util/label-selector.js";
import {
  LABEL_CONTROLLER_INSTANCE,
  SERVICE_MONITOR_DELETED_MESSAGE,
  serviceMonitorAction,
  vaPredicate,
  type IsolationConfig,
} from "./predicates.js";
import { VAReconciler } from "./reconciler.js";
import {
  KubeMetricsAuthorizer,
  startMetricsServer,
  startProbeServer,
  type MetricsServer,
} from "./servers.js";
import { vaKey, type CachedDecision, type VA } from "./types.js";

/** Default Lease name (`LEADER_ELECTION_ID`). */
export const DEFAULT_LEADER_ELECTION_ID = "72dd1cf1.llm-d.ai";

export interface StartManagerOptions {
  /** Path of a kubeconfig file, or a loaded KubeConfig; default: KUBECONFIG / in-cluster. */
  kubeconfig?: string | KubeConfig;
  /** Command-line arguments in upstream's syntax (`--leader-elect`, `--metrics-bind-address=:8443`, …). */
  args?: readonly string[];
  /** Typed flag values; they count as given on the command line (they win over env and ConfigMap). */
  flags?: Partial<ManagerFlags>;
  /** Environment (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Where metrics come from: Prometheus (default), scraping the serving pods directly, or a custom collector. */
  metricsSource?: "prometheus" | "pods" | GroupCollector;
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
  flags: ManagerFlags;
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

function explicitFlagValues(
  flags: ManagerFlags,
  explicit: ReadonlySet<keyof ManagerFlags>,
): Record<string, string | boolean | number> {
  const out: Record<string, string | boolean | number> = {};
  for (const def of MANAGER_FLAGS) if (explicit.has(def.key)) out[def.name] = flags[def.key];
  return out;
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
      const cm = await client.get<ConfigMapObject>(
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

/**
 * Starts the WVA controller manager in this process against a cluster: informers, probes, the metrics
 * server, leader election and, on the leader, the engine loop and the VA reconciler.
 */
export async function startManager(options: StartManagerOptions = {}): Promise<ManagerHandle> {
  const env = options.env ?? process.env;
  const parsed = parseManagerArgs(options.args ?? []);
  const flags: ManagerFlags = { ...parsed.flags, ...(options.flags ?? {}) };
  const explicit = new Set<keyof ManagerFlags>([
    ...parsed.explicit,
    ...(Object.keys(options.flags ?? {}) as Array<keyof ManagerFlags>),
  ]);
  const log = options.logger ?? createLogger({ v: flags.v, name: "manager" });
  const kc = loadKubeConfig(options.kubeconfig);
  const client = new KubeClient(kc, { timeoutMs: flags.restClientTimeout });

  const systemNamespace = env.POD_NAMESPACE || DEFAULT_SYSTEM_NAMESPACE;
  const mainName = env.CONFIG_MAP_NAME || MAIN_CONFIG_MAP;
  const saturationName = env.SATURATION_CONFIG_MAP_NAME || SATURATION_CONFIG_MAP;
  const instance = env.CONTROLLER_INSTANCE ?? "";
  const sourceKind =
    typeof options.metricsSource === "object" ? "custom" : (options.metricsSource ?? "prometheus");

  // start-up configuration: flag > env > main ConfigMap > default
  const mainData = await readConfigMap(client, systemNamespace, mainName, log);
  const sources = { flags: explicitFlagValues(flags, explicit), env, configMap: mainData };
  let main: MainConfig;
  try {
    main = loadMainConfig(sources);
  } catch (err) {
    // the Prometheus URL is required only when Prometheus is the metrics source
    if (sourceKind === "prometheus" || !/PROMETHEUS_BASE_URL/.test(errText(err))) throw err;
    main = loadMainConfig({ ...sources, env: { ...env, PROMETHEUS_BASE_URL: "https://unused.invalid" } });
  }
  for (const w of main.warnings) log.warn(w);
  const infra = main.infra;
  client.setTimeout(infra.restClientTimeoutMs);
  const watchNamespace = infra.watchNamespace;
  const isolation: IsolationConfig = { instance, watchNamespace };
  const identity = options.identity ?? `${hostname()}_${randomBytes(4).toString("hex")}`;
  const lease = leaseName(infra.leaderElectionID || DEFAULT_LEADER_ELECTION_ID, instance);
  const events = new EventRecorder(client, "workload-variant-autoscaler", {
    logger: log,
    instance: identity,
  });
  const metrics = new ActuationMetrics(instance);
  metrics.setLeader(lease, false);
  const resyncMs = options.resyncMs ?? 10 * 60_000;

  // informers
  const nsPath = (group: string, resource: string, ns?: string) =>
    `${group}${ns ? `/namespaces/${encodeURIComponent(ns)}` : ""}/${resource}`;
  const scoped = watchNamespace || undefined;
  const mk = <T extends KubeObject>(
    path: string,
    name: string,
    extra: { labelSelector?: string; fieldSelector?: string; apiVersion?: string; kind?: string } = {},
  ) => new Informer<T>(client, { path, name, resyncMs, logger: log, ...extra });
  const vas = mk<VA>(nsPath("/apis/llmd.ai/v1alpha1", "variantautoscalings", scoped), "variantautoscalings", {
    labelSelector: instance ? `${LABEL_CONTROLLER_INSTANCE}=${instance}` : undefined,
    apiVersion: "llmd.ai/v1alpha1",
    kind: "VariantAutoscaling",
  });
  const deployments = mk<Deployment>(nsPath("/apis/apps/v1", "deployments", scoped), "deployments", {
    apiVersion: "apps/v1",
    kind: "Deployment",
  });
  const pods = mk<KubeObject>(nsPath("/api/v1", "pods", scoped), "pods", { apiVersion: "v1", kind: "Pod" });
  const replicaSets = mk<KubeObject>(nsPath("/apis/apps/v1", "replicasets", scoped), "replicasets", {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
  });
  const namespaces = watchNamespace
    ? undefined
    : mk<KubeObject>("/api/v1/namespaces", "namespaces", { apiVersion: "v1", kind: "Namespace" });
  const nodes = mk<GpuNodeObject>("/api/v1/nodes", "nodes", { apiVersion: "v1", kind: "Node" });
  const serviceMonitors = mk<KubeObject>(
    nsPath("/apis/monitoring.coreos.com/v1", "servicemonitors", systemNamespace),
    "servicemonitors",
    { apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor" },
  );
  const cmNames = [mainName, saturationName, SCALE_TO_ZERO_CONFIG_MAP];
  const cmScopes = watchNamespace ? [...new Set([systemNamespace, watchNamespace])] : [undefined];
  const configMaps: Array<Informer<ConfigMapObject>> = [];
  for (const scope of cmScopes) {
    for (const name of cmNames) {
      if (name === mainName && scope !== undefined && scope !== systemNamespace) continue;
      const ns = name === mainName ? systemNamespace : scope;
      configMaps.push(
        mk<ConfigMapObject>(nsPath("/api/v1", "configmaps", ns), `configmaps/${name}`, {
          fieldSelector: `metadata.name=${name}`,
          apiVersion: "v1",
          kind: "ConfigMap",
        }),
      );
    }
  }

  vas.addIndex("target", (va) =>
    va.spec?.scaleTargetRef?.name ? [`${va.metadata?.namespace}/${va.spec.scaleTargetRef.name}`] : [],
  );
  vas.addIndex("namespace", (va) => [va.metadata?.namespace ?? ""]);
  const nsLookup = namespaces ? (name: string) => namespaces.get(undefined, name) : undefined;

  const decisions = new Map<string, CachedDecision>();
  let queue = new WorkQueue();
  let leading = false;
  const enqueue = (key: string) => {
    if (leading) queue.add(key);
  };

  const config = new ConfigWatch(
    main,
    {
      systemNamespace,
      watchNamespace,
      mainName,
      saturationName,
      scaleToZeroEnv: env.WVA_SCALE_TO_ZERO,
      namespaces: nsLookup,
      tracked: (ns) => vas.byIndex("namespace", ns).length > 0,
      events,
      log,
      onMainConfig: (c) => loop.setInterval(c.globalOptIntervalMs),
    },
    mainData,
  );
  for (const inf of configMaps) {
    inf.addHandlers({
      add: (cm) => config.onUpsert(cm),
      update: (o, n) => {
        if (o.metadata?.resourceVersion !== n.metadata?.resourceVersion) config.onUpsert(n);
      },
      delete: (cm) => config.onDelete(cm),
    });
  }

  // metrics source and collector
  let collector: GroupCollector;
  let source: MetricsSource | undefined;
  const lookup = new InformerClusterLookup(pods, replicaSets);
  if (typeof options.metricsSource === "object") {
    collector = options.metricsSource;
  } else if (sourceKind === "pods") {
    const active = () =>
      new Set(
        loop
          .activeVariants()
          .map((v) => `${v.deployment.metadata?.namespace}/${v.deployment.metadata?.name}`),
      );
    source = new PodScrapingSource({
      targets: new InformerScrapeTargets(pods, replicaSets, active, options.podScrape),
      clock: options.podScrape?.clock,
      timeoutMs: options.podScrape?.timeoutMs,
      logger: log,
      bearerToken: main.eppMetricReaderBearerToken || undefined,
    });
    collector = new SourceCollector(new ReplicaMetricsCollector({ source, lookup, logger: log }), source);
  } else {
    const promCfg = resolvePrometheusConfig(env, mainData);
    const prom = new PrometheusSource({ config: promCfg, logger: log, ...options.prometheus });
    source = prom;
    const timeout = options.prometheusStartupTimeoutMs ?? 5 * 60_000;
    if (timeout > 0) await prom.waitUntilReachable(timeout);
    collector = new SourceCollector(new ReplicaMetricsCollector({ source, lookup, logger: log }), source);
  }

  const nodeSelector = parseLabelSelector(main.nodeSelector);
  const gpuInventory = () => gpuInventoryOfNodes(nodes.list(), nodeSelector);

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
        gpuInventory,
        transitionTimeoutMs: () => config.mainConfig.transitionTimeoutMs,
      },
      metrics,
      decisions,
      enqueue,
      isolation,
      namespaces: nsLookup,
      actuator: flags.actuator,
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
  const forgetVa = (va: VA) => {
    const ns = va.metadata?.namespace ?? "";
    const name = va.metadata?.name ?? "";
    reconciler.forget(ns, name);
    loop.forget(vaKey(ns, name));
  };

  // watches → reconcile triggers
  const vaEnqueue = (va: VA) => {
    if (vaPredicate(va, isolation, nsLookup)) enqueue(vaKey(va.metadata!.namespace!, va.metadata!.name!));
  };
  vas.addHandlers({
    add: vaEnqueue,
    update: (o, n) => {
      if (
        o.metadata?.generation !== n.metadata?.generation ||
        JSON.stringify(o.metadata?.labels ?? {}) !== JSON.stringify(n.metadata?.labels ?? {}) ||
        (!o.metadata?.deletionTimestamp && n.metadata?.deletionTimestamp)
      ) {
        if (n.metadata?.deletionTimestamp) forgetVa(n);
        else vaEnqueue(n);
      }
    },
    delete: forgetVa,
  });
  const deploymentVAs = (d: Deployment) =>
    vas.byIndex("target", `${d.metadata?.namespace}/${d.metadata?.name}`);
  deployments.addHandlers({
    add: (d) => deploymentVAs(d).forEach(vaEnqueue),
    update: (o, n) => {
      if (!o.metadata?.deletionTimestamp && n.metadata?.deletionTimestamp)
        deploymentVAs(n).forEach(vaEnqueue);
    },
    delete: (d) => deploymentVAs(d).forEach(vaEnqueue),
  });
  const onServiceMonitor = (sm: KubeObject) => {
    if (serviceMonitorAction(sm, systemNamespace).warn) {
      void events.record(sm, "Warning", "ServiceMonitorDeleted", SERVICE_MONITOR_DELETED_MESSAGE);
    }
  };
  // a namespace whose exclusion annotation changes: re-evaluate its VAs at once
  namespaces?.addHandlers({
    update: (o, n) => {
      const key = "wva.llmd.ai/exclude";
      if (o.metadata?.annotations?.[key] === n.metadata?.annotations?.[key]) return;
      for (const va of vas.byIndex("namespace", n.metadata?.name ?? "")) {
        if (vaPredicate(va, isolation, nsLookup)) vaEnqueue(va);
        else forgetVa(va);
      }
    },
  });
  serviceMonitors.addHandlers({
    update: (o, n) => {
      if (!o.metadata?.deletionTimestamp && n.metadata?.deletionTimestamp) onServiceMonitor(n);
    },
    delete: (sm) =>
      onServiceMonitor({
        ...sm,
        metadata: {
          ...sm.metadata,
          deletionTimestamp: sm.metadata?.deletionTimestamp ?? new Date().toISOString(),
        },
      }),
  });

  const core: Array<Informer<never>> = [
    vas,
    deployments,
    pods,
    replicaSets,
    ...configMaps,
    ...(namespaces ? [namespaces] : []),
  ] as never;
  const all: Array<Informer<never>> = [...core, nodes, serviceMonitors] as never;
  for (const inf of all) inf.start();
  const synced = Promise.all(core.map((i) => i.waitForSync()));
  let isReady = false;
  void synced.then(() => {
    isReady = true;
  });

  // servers
  const probe = await startProbeServer(infra.healthProbeBindAddress, () => isReady);
  let metricsServer: MetricsServer | undefined;
  try {
    metricsServer = await startMetricsServer({
      bindAddress: infra.metricsBindAddress,
      secure: infra.metricsSecure,
      certPath: infra.metricsCertPath,
      certName: infra.metricsCertName,
      keyName: infra.metricsCertKey,
      enableHttp2: infra.enableHTTP2,
      authorizer: new KubeMetricsAuthorizer(client),
      render: async () => ({ contentType: metrics.registry.contentType, body: await metrics.metrics() }),
      logger: log,
    });
  } catch (err) {
    await probe?.close();
    for (const inf of all) inf.stop();
    throw err;
  }

  // leadership
  let workers: Promise<void> | undefined;
  const leadershipWaiters: Array<() => void> = [];
  const startLeading = async () => {
    await synced;
    if (stopping || leading) return;
    leading = true;
    metrics.reset();
    queue = new WorkQueue();
    workers = runWorkers(
      queue,
      options.workers ?? 4,
      (k) => reconciler.reconcile(k),
      (k, e) => reconciler.onError(k, e),
    );
    for (const va of vas.list()) vaEnqueue(va);
    loop.start();
    metrics.setLeader(lease, true);
    log.info({ identity, lease }, "started leading");
    for (const w of leadershipWaiters.splice(0)) w();
  };
  const stopLeading = async () => {
    leading = false;
    metrics.setLeader(lease, false);
    await loop.stop();
    const w = workers;
    workers = undefined;
    queue.shutdown();
    await w;
    metrics.reset();
  };
  // leadership changes run one after the other (a quick lose / re-acquire must not interleave)
  let transition: Promise<void> = Promise.resolve();
  const inTurn = (fn: () => Promise<void>): Promise<void> =>
    (transition = transition.then(fn).catch((err: unknown) => {
      log.error({ err: errText(err) }, "leadership change failed");
    }));
  let stopping = false;
  let elector: LeaderElector | undefined;
  if (infra.leaderElect) {
    elector = new LeaderElector(client, {
      namespace: systemNamespace,
      name: lease,
      identity,
      leaseDurationMs: infra.leaderElectionLeaseDurationMs,
      renewDeadlineMs: infra.leaderElectionRenewDeadlineMs,
      retryPeriodMs: infra.leaderElectionRetryPeriodMs,
      releaseOnCancel: true,
      logger: log,
    });
    elector.on("started", () => void inTurn(startLeading));
    elector.on("stopped", () => {
      void inTurn(stopLeading);
      if (!stopping) {
        log.error({ identity, lease }, "leader election lost");
        options.onLostLeadership?.();
      }
    });
    elector.start();
  } else {
    void inTurn(startLeading);
  }
  log.info(
    {
      identity,
      lease,
      leaderElect: infra.leaderElect,
      metrics: metricsServer?.url,
      probes: probe?.url,
      source: sourceKind,
      actuator: flags.actuator,
      intervalMs: main.globalOptIntervalMs,
    },
    "manager started",
  );

  return {
    metricsUrl: metricsServer ? `${metricsServer.url}/metrics` : undefined,
    probeUrl: probe?.url,
    metricsCertPem: metricsServer?.certPem,
    identity,
    leaseName: lease,
    flags,
    metrics,
    caches: { vas, deployments },
    isLeader: () => leading,
    waitForLeadership: () =>
      leading ? Promise.resolve() : new Promise<void>((resolve) => leadershipWaiters.push(resolve)),
    ready: async () => {
      await synced;
    },
    runCycle: async () => {
      if (!leading) throw new Error("not the leader");
      return await loop.runOnce();
    },
    nextCycle: () => new Promise<CycleReport>((resolve) => cycleWaiters.push(resolve)),
    reconcileIdle: async () => {
      while (!queue.idle) await new Promise((r) => setTimeout(r, 5));
    },
    engineIntervalMs: () => loop.interval,
    config: () => config.mainConfig,
    saturationFor: (m, ns) => config.saturationFor(m, ns),
    scaleToZeroFor: (m, ns) => config.scaleToZeroFor(m, ns),
    apiRequests: () => client.stats.snapshot(),
    stop: async (opts = {}) => {
      if (stopping) return;
      stopping = true;
      if (elector) await elector.stop({ release: opts.releaseLease ?? true });
      // informers stop first: a leadership start still waiting for the first sync is released
      // (and returns, as stopping is set); caches stay readable for the last reconciles
      for (const inf of all) inf.stop();
      await inTurn(stopLeading);
      source?.close();
      await Promise.all([metricsServer?.close(), probe?.close()]);
      client.close();
      log.info("manager stopped");
    },
  };
}
