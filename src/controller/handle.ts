/** The handle `startManager` returns: queries and the graceful stop of a running manager. */
import type { ActuationMetrics } from "../actuate/metrics.js";
import type { MetricsSource } from "../collect/types.js";
import type { MainConfig } from "../config/main.js";
import { DEFAULT_SETTINGS, type FlagSettings } from "../config/settings.js";
import type { Logger } from "../util/logger.js";
import type { Deployment } from "./accelerator.js";
import type { ConfigWatch } from "./config-watch.js";
import type { CycleReport, EngineLoop } from "./engine-loop.js";
import type { Informers } from "./informers.js";
import type { KubeClient } from "./kube/client.js";
import type { Informer } from "./kube/informer.js";
import type { Leadership } from "./leadership.js";
import type { ManagerHandle } from "./manager.js";
import type { MetricsServer } from "./servers.js";
import type { ReconcileQueue } from "./setup.js";
import type { VA } from "./types.js";

export interface HandleParts {
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
  /** The InferencePool reconciler (its EPP scrape sources are closed on stop). */
  pools: { close(): void };
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

export function managerHandle(p: HandleParts): ManagerHandle {
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
      p.pools.close();
      await Promise.all([metricsServer?.close(), probe?.close()]);
      p.client.close();
      p.log.info("manager stopped");
    },
  };
}
