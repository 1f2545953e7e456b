import type { Logger } from "pino";
import { DEFAULT_VARIANT_COST, groupKey, type ModelGroup } from "../types/decision.js";
import { silentLogger } from "../util/logger.js";
import type { ClusterLookup } from "./cluster.js";
import { DEFAULT_SCRAPE_INTERVAL_MS, maxSampleAgeMs, staleReason, type StalePod } from "./freshness.js";
import { COLLECTOR_QUERIES, QueryName, batchQueryName } from "./queries.js";
import type { Clock, MetricResult, MetricsSource, MetricValue } from "./types.js";

/** One variant (VariantAutoscaling) of a model group. */
export interface VariantInfo {
  /** VA name. */
  name: string;
  namespace: string;
  /** Name of the target Deployment (scaleTargetRef). */
  deployment: string;
  /** From the VA label `inference.optimization/acceleratorName`; may be empty. */
  accelerator?: string;
  /** Cost per replica; default 10. */
  cost?: number;
}

/** Metrics of one replica (pod), ready for the analyzers. */
export interface ReplicaMetrics {
  pod: string;
  /** VA name. */
  variant: string;
  namespace: string;
  modelID: string;
  accelerator: string;
  kvCacheUsage: number;
  queueLength: number;
  cost: number;
  /** V2 extras: present when the server reports them. */
  numGpuBlocks?: number;
  blockSize?: number;
  totalKvCapacityTokens: number;
  tokensInUse: number;
  avgOutputTokens?: number;
  avgInputTokens?: number;
  prefixCacheHitRate?: number;
  /** queueing-model extras: completed requests per second, average TTFT and ITL (ms) over 1 minute. */
  arrivalRatePerSec?: number;
  ttftMs?: number;
  itlMs?: number;
  /** Epoch ms of the pod's newest sample. */
  sampledAt: number;
}

/**
 * Metrics of a model group: the replicas with fresh data, and the pods whose data is missing or stale
 * (they count as pods without metrics; the controller never scales the model down while there are any).
 */
export type CollectResult =
  { ok: true; replicas: ReplicaMetrics[]; stale: StalePod[] } | { ok: false; error: string };

export type CollectionMode = "batch" | "per-model";

export interface CollectorOptions {
  source: MetricsSource;
  lookup: ClusterLookup;
  /** `batch` (default): one query per metric for all models; `per-model`: one per metric and model. */
  mode?: CollectionMode;
  clock?: Clock;
  logger?: Logger;
  /** How often the pods' metrics are scraped; a pod whose newest sample is 3 intervals old is stale. */
  scrapeIntervalMs?: number;
}

type Results = Map<string, MetricResult>;

/**
 * Builds per-replica metrics for model groups: refreshes the KV, queue, sample-time, cache-config and token
 * queries, maps each pod through ReplicaSet and Deployment to its VariantAutoscaling, and adds accelerator
 * and cost. A failed KV, queue or sample-time query fails the group (the engine then takes its safety-net
 * path); the other queries are optional. A pod whose newest sample is too old, that the source could not
 * read, or that is ready without any sample is reported as stale instead of as a replica.
 */
export class ReplicaMetricsCollector {
  readonly mode: CollectionMode;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly maxAgeMs: number;
  /** Queries sent in the last collectAll (for benchmarks and diagnostics). */
  lastQueryCount = 0;

  constructor(private readonly opts: CollectorOptions) {
    this.mode = opts.mode ?? "batch";
    this.clock = opts.clock ?? Date.now;
    this.log = opts.logger ?? silentLogger;
    this.maxAgeMs = maxSampleAgeMs(opts.scrapeIntervalMs ?? DEFAULT_SCRAPE_INTERVAL_MS);
  }

  async collect(group: ModelGroup<VariantInfo>): Promise<CollectResult> {
    const all = await this.collectAll([group]);
    return all.get(groupKey(group.modelID, group.namespace)) as CollectResult;
  }

  /** Collects every group; `signal` (the cycle's collection budget) ends queries still running. */
  async collectAll(
    groups: readonly ModelGroup<VariantInfo>[],
    signal?: AbortSignal,
  ): Promise<Map<string, CollectResult>> {
    const out = new Map<string, CollectResult>();
    if (groups.length === 0) {
      this.lastQueryCount = 0;
      return out;
    }
    if (this.mode === "batch") {
      const names = COLLECTOR_QUERIES.map(batchQueryName);
      const batch = await this.opts.source.refresh(names, {}, signal);
      this.lastQueryCount = names.length;
      // index each batch result once by model group instead of filtering it per group
      const index = new Map<string, Map<string, MetricValue[]>>();
      for (const q of COLLECTOR_QUERIES) {
        const byGroup = new Map<string, MetricValue[]>();
        for (const v of batch.get(batchQueryName(q))?.values ?? []) {
          const k = groupKey(v.labels.model_name ?? "", v.labels.namespace ?? "");
          const list = byGroup.get(k);
          if (list) list.push(v);
          else byGroup.set(k, [v]);
        }
        index.set(q, byGroup);
      }
      for (const g of groups) {
        const key = groupKey(g.modelID, g.namespace);
        const sliced: Results = new Map();
        for (const q of COLLECTOR_QUERIES) {
          const r = batch.get(batchQueryName(q));
          if (!r) continue;
          sliced.set(q, { ...r, queryName: q, values: index.get(q)?.get(key) ?? [] });
        }
        out.set(key, await this.build(g, sliced));
      }
      return out;
    }
    this.lastQueryCount = 0;
    await Promise.all(
      groups.map(async (g) => {
        const r = await this.opts.source.refresh(
          COLLECTOR_QUERIES,
          { namespace: g.namespace, modelID: g.modelID },
          signal,
        );
        this.lastQueryCount += COLLECTOR_QUERIES.length;
        out.set(groupKey(g.modelID, g.namespace), await this.build(g, r));
      }),
    );
    return out;
  }

  private async build(g: ModelGroup<VariantInfo>, results: Results): Promise<CollectResult> {
    const required = (name: string, what: string): MetricResult | string => {
      const r = results.get(name);
      return !r || r.error ? `${what} query failed: ${r?.error ?? "no result"}` : r;
    };
    const kv = required(QueryName.kvCacheUsage, "KV cache");
    if (typeof kv === "string") return { ok: false, error: kv };
    const queue = required(QueryName.queueLength, "queue length");
    if (typeof queue === "string") return { ok: false, error: queue };
    const times = required(QueryName.sampleTime, "sample time");
    if (typeof times === "string") return { ok: false, error: times };

    const kvByPod = byPod(kv.values);
    const queueByPod = byPod(queue.values);
    const sampledAt = new Map([...byPod(times.values)].map(([pod, sec]) => [pod, sec * 1000]));
    const optional = (name: string) => {
      const r = results.get(name);
      return r && !r.error ? r.values : [];
    };
    const cacheCfg = new Map<string, { blocks: number; blockSize: number }>();
    for (const v of optional(QueryName.cacheConfigInfo)) {
      const pod = podOf(v);
      const blocks = parseInt(v.labels.num_gpu_blocks ?? "", 10);
      const blockSize = parseInt(v.labels.block_size ?? "", 10);
      if (pod && blocks > 0 && blockSize > 0) cacheCfg.set(pod, { blocks, blockSize });
    }
    const avgOut = byPod(optional(QueryName.avgOutputTokens));
    const avgIn = byPod(optional(QueryName.avgInputTokens));
    const prefix = byPod(optional(QueryName.prefixCacheHitRate));
    const rate = byPod(optional(QueryName.requestRate));
    const ttft = byPod(optional(QueryName.avgTtft));
    const itl = byPod(optional(QueryName.avgItl));
    const failed = new Map<string, string>();
    for (const f of this.opts.source.podFailures?.() ?? []) {
      if (f.namespace === g.namespace) failed.set(f.pod, f.error);
    }

    const deployments = new Map<string, VariantInfo>();
    for (const v of g.variants) if (v.namespace === g.namespace) deployments.set(v.deployment, v);
    // ready pods of the group's Deployments: one of them without fresh data is stale, not absent
    const readyVariant = new Map<string, VariantInfo>();
    if (this.opts.lookup.readyPods) {
      for (const v of deployments.values()) {
        for (const pod of await this.opts.lookup.readyPods(g.namespace, v.deployment))
          readyVariant.set(pod, v);
      }
    }

    const now = this.clock();
    const pods = [
      ...new Set([...kvByPod.keys(), ...queueByPod.keys(), ...failed.keys(), ...readyVariant.keys()]),
    ].sort();
    const replicas: ReplicaMetrics[] = [];
    const stale: StalePod[] = [];
    for (const pod of pods) {
      const variant = readyVariant.get(pod) ?? (await this.variantOf(g.namespace, pod, deployments));
      if (!variant) {
        this.log.debug({ pod, namespace: g.namespace }, "Skipping pod that doesn't match any deployment");
        continue;
      }
      const at = sampledAt.get(pod);
      const why = failed.get(pod) ?? staleReason(at, now, this.maxAgeMs);
      if (why !== undefined || at === undefined) {
        stale.push({ pod, variant: variant.name, reason: why ?? "no current sample" });
        continue;
      }
      const kvValue = kvByPod.get(pod);
      const qValue = queueByPod.get(pod);
      if (kvValue === undefined || qValue === undefined) {
        this.log.debug(
          { pod, model: g.modelID },
          `pod has no ${kvValue === undefined ? "KV cache" : "queue"} sample; using 0`,
        );
      }
      const cfg = cacheCfg.get(pod);
      const kvUsage = kvValue ?? 0;
      const total = cfg ? Math.min(cfg.blocks * cfg.blockSize, Number.MAX_SAFE_INTEGER) : 0;
      const r: ReplicaMetrics = {
        pod,
        variant: variant.name,
        namespace: g.namespace,
        modelID: g.modelID,
        accelerator: variant.accelerator ?? "",
        kvCacheUsage: kvUsage,
        queueLength: Math.trunc(qValue ?? 0),
        cost: variant.cost ?? DEFAULT_VARIANT_COST,
        totalKvCapacityTokens: total,
        tokensInUse: total > 0 ? Math.min(total, Math.max(0, Math.round(kvUsage * total))) : 0,
        sampledAt: at,
      };
      if (cfg) {
        r.numGpuBlocks = cfg.blocks;
        r.blockSize = cfg.blockSize;
      }
      const o = avgOut.get(pod);
      if (o !== undefined && Number.isFinite(o)) r.avgOutputTokens = o;
      const i = avgIn.get(pod);
      if (i !== undefined && Number.isFinite(i)) r.avgInputTokens = i;
      const p = prefix.get(pod);
      if (p !== undefined && Number.isFinite(p) && p >= 0 && p <= 1) r.prefixCacheHitRate = p;
      const rps = rate.get(pod);
      if (rps !== undefined && Number.isFinite(rps) && rps >= 0) r.arrivalRatePerSec = rps;
      const t = ttft.get(pod);
      if (t !== undefined && Number.isFinite(t) && t > 0) r.ttftMs = t * 1000;
      const l = itl.get(pod);
      if (l !== undefined && Number.isFinite(l) && l > 0) r.itlMs = l * 1000;
      replicas.push(r);
    }
    if (stale.length > 0) {
      this.log.debug({ model: g.modelID, namespace: g.namespace, stale }, "pods without fresh metrics");
    }
    return { ok: true, replicas, stale };
  }

  /** Pod → controller ReplicaSet → controller Deployment (one of the group's) → VA. */
  private async variantOf(
    namespace: string,
    pod: string,
    deployments: Map<string, VariantInfo>,
  ): Promise<VariantInfo | undefined> {
    try {
      const rs = await this.opts.lookup.controllerOf("Pod", namespace, pod);
      if (!rs || rs.kind !== "ReplicaSet") return undefined;
      const dep = await this.opts.lookup.controllerOf("ReplicaSet", namespace, rs.name);
      if (!dep || dep.kind !== "Deployment") return undefined;
      return deployments.get(dep.name);
    } catch (e) {
      this.log.debug({ pod, err: (e as Error).message }, "pod lookup failed");
      return undefined;
    }
  }
}

function podOf(v: MetricValue): string | undefined {
  return v.labels.pod || v.labels.pod_name || undefined;
}

/** Value per pod (label `pod`, else `pod_name`); samples without a pod are dropped; the maximum wins. */
function byPod(values: readonly MetricValue[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) {
    const pod = podOf(v);
    if (!pod) continue;
    const prev = m.get(pod);
    if (prev === undefined || v.value > prev) m.set(pod, v.value);
  }
  return m;
}
