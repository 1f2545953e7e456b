import type { ReplicaMetricsCollector, VariantInfo } from "../collect/collector.js";
import { QueryName } from "../collect/queries.js";
import type { SchedulerQueue } from "../analyze/token-capacity/index.js";
import type { MetricsSource } from "../collect/types.js";
import type { ScrapeTarget, ScrapeTargetLister } from "../collect/podscrape/source.js";
import { formatPrometheusDuration } from "../util/prometheus-duration.js";
import { resolveAccelerator } from "./accelerator.js";
import type { ModelGroup } from "../engine/types.js";
import type { GroupCollection, GroupCollector, GroupVariant } from "./engine-loop.js";
import type { Informer } from "./kube/informer.js";
import type { Pod, ReplicaSet } from "./kube/objects.js";
import { variantCost } from "./types.js";

function toCollectorGroup(g: ModelGroup<GroupVariant>): ModelGroup<VariantInfo> {
  return {
    modelID: g.modelID,
    namespace: g.namespace,
    variants: g.variants.map((v) => ({
      name: v.va.metadata!.name!,
      namespace: g.namespace,
      deployment: v.deployment.metadata!.name!,
      accelerator: resolveAccelerator(v.va, v.deployment),
      cost: variantCost(v.va),
    })),
  };
}

/** The engine loop's collection seam over the per-replica collector and its metrics source. */
export class SourceCollector implements GroupCollector {
  constructor(
    private readonly collector: ReplicaMetricsCollector,
    private readonly source: MetricsSource,
  ) {}

  async collectAll(
    groups: ModelGroup<GroupVariant>[],
    signal?: AbortSignal,
  ): Promise<Map<string, GroupCollection>> {
    const res = await this.collector.collectAll(groups.map(toCollectorGroup), signal);
    const out = new Map<string, GroupCollection>();
    for (const [k, r] of res) {
      out.set(
        k,
        r.ok
          ? {
              ok: true,
              replicas: r.replicas.map((x) => ({
                pod: x.pod,
                variant: x.variant,
                kvCacheUsage: x.kvCacheUsage,
                queueLength: x.queueLength,
                tokensInUse: x.tokensInUse,
                totalKvCapacityTokens: x.totalKvCapacityTokens,
                numGpuBlocks: x.numGpuBlocks,
                blockSize: x.blockSize,
                avgInputTokens: x.avgInputTokens,
                avgOutputTokens: x.avgOutputTokens,
                prefixCacheHitRate: x.prefixCacheHitRate,
                arrivalRatePerSec: x.arrivalRatePerSec,
                ttftMs: x.ttftMs,
                itlMs: x.itlMs,
              })),
              stale: r.stale,
            }
          : { ok: false, error: r.error },
      );
    }
    return out;
  }

  /** `model_request_count` over the retention window; null when the query failed or had no sample. */
  async requestCount(
    group: ModelGroup<GroupVariant>,
    retentionMs: number,
    signal?: AbortSignal,
  ): Promise<{ count: number | null; error?: string }> {
    const name = QueryName.modelRequestCount;
    const res = await this.source.refresh(
      [name],
      {
        namespace: group.namespace,
        modelID: group.modelID,
        retentionPeriod: formatPrometheusDuration(retentionMs),
      },
      signal,
    );
    const r = res.get(name);
    if (!r) return { count: null, error: "no result" };
    if (r.error) return { count: null, error: r.error };
    if (r.values.length === 0) return { count: null, error: "no samples" };
    return { count: r.values.reduce((s, v) => s + v.value, 0) };
  }

  /** The endpoint picker's queue of the model (size and bytes); undefined when it reports none. */
  async schedulerQueue(group: ModelGroup<GroupVariant>): Promise<SchedulerQueue | undefined> {
    const names = [QueryName.schedulerQueueSize, QueryName.schedulerQueueBytes];
    const res = await this.source.refresh(names, { namespace: group.namespace, modelID: group.modelID });
    const [size, bytes] = names.map((n) => {
      const r = res.get(n);
      return r === undefined || r.error || r.values.length === 0
        ? undefined
        : r.values.reduce((s, v) => s + v.value, 0);
    });
    if (size === undefined && bytes === undefined) return undefined;
    return { size: size ?? 0, bytes: bytes ?? 0 };
  }
}

export interface PodScrapeOptions {
  /** Port to scrape; default: the first container port whose name contains `metric`, else `http`, else the first port, else 8000. */
  port?: number;
  path?: string;
  scheme?: "http" | "https";
  /** Clock of the scrape history (windowed queries such as `max_over_time[1m]`); a faster clock compresses time in trials. */
  clock?: () => number;
  /** Per-pod scrape timeout (ms, default 5 s). */
  timeoutMs?: number;
}

/** Scrape targets from the pod cache: running pods owned (through ReplicaSets) by active Deployments. */
export class InformerScrapeTargets implements ScrapeTargetLister {
  constructor(
    private readonly pods: Informer<Pod>,
    private readonly replicaSets: Informer<ReplicaSet>,
    private readonly activeDeployments: () => Set<string>,
    private readonly opts: PodScrapeOptions = {},
  ) {}

  async listTargets(): Promise<ScrapeTarget[]> {
    const active = this.activeDeployments();
    const out: ScrapeTarget[] = [];
    for (const p of this.pods.list()) {
      const ns = p.metadata?.namespace ?? "";
      const rsRef = p.metadata?.ownerReferences?.find((r) => r.controller && r.kind === "ReplicaSet");
      if (!rsRef?.name) continue;
      const rs = this.replicaSets.get(ns, rsRef.name);
      const depRef = rs?.metadata?.ownerReferences?.find((r) => r.controller && r.kind === "Deployment");
      if (!depRef?.name || !active.has(`${ns}/${depRef.name}`)) continue;
      if (p.metadata?.deletionTimestamp || p.status?.phase !== "Running") continue;
      const ready = p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
      const ip = p.status?.podIP ?? "";
      out.push({
        pod: p.metadata?.name ?? "",
        namespace: ns,
        url: ip
          ? `${this.opts.scheme ?? "http"}://${ip.includes(":") ? `[${ip}]` : ip}:${this.portOf(p)}${this.opts.path ?? "/metrics"}`
          : "",
        ready,
      });
    }
    return out;
  }

  private portOf(p: Pod): number {
    if (this.opts.port) return this.opts.port;
    const ports = (p.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
    const named = (s: string) => ports.find((x) => (x.name ?? "").includes(s))?.containerPort;
    return named("metric") ?? named("http") ?? ports[0]?.containerPort ?? 8000;
  }
}
