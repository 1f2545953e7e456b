import type { Logger } from "pino";
import { DEFAULT_VARIANT_COST, groupKey, type ModelGroup } from "../types/decision.js";
import { silentLogger } from "../util/logger.js";
import type { ClusterLookup } from "./cluster.js";
import { resultFreshness, type Freshness } from "./freshness.js";
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
  metadata: Freshness;
}

export type CollectResult = { ok: true; replicas: ReplicaMetrics[] } | { ok: false; error: string };

export type CollectionMode = "batch" | "per-model";

export interface CollectorOptions {
  source: MetricsSource;
  lookup: ClusterLookup;
  /** `batch` (default): one query per metric for all models; `per-model`: one per metric and model. */
  mode?: CollectionMode;
  clock?: Clock;
  logger?: Logger;
}

type Results = Map<string, MetricResult>;

/**
 * Builds per-replica metrics for model groups (wva-core 4.6): refreshes the KV, queue, cache-config and token
 * queries, maps each pod through ReplicaSet and Deployment to its VariantAutoscaling, and adds accelerator
 * and cost. A failed KV or queue query fails the group (the engine then takes its safety-net path); the
 * other queries are optional.
 */
export class ReplicaMetricsCollector {
  readonly mode: CollectionMode;
  private readonly clock: Clock;
  private readonly log: Logger;
  /** Queries sent in the last collectAll (for benchmarks and diagnostics). */
  lastQueryCount = 0;

  constructor(private readonly opts: CollectorOptions) {
    this.mode = opts.mode ?? "batch";
    this.clock = opts.clock ?? Date.now;
    this.log = opts.logger ?? silentLogger;
  }

  async collect(group: ModelGroup<VariantInfo>): Promise<CollectResult> {
    const all = await this.collectAll([group]);
    return all.get(groupKey(group.modelID, group.namespace)) as CollectResult;
  }

  async collectAll(groups: readonly ModelGroup<VariantInfo>[]): Promise<Map<string, CollectResult>> {
    const out = new Map<string, CollectResult>();
    if (groups.length === 0) {
      this.lastQueryCount = 0;
      return out;
    }
    if (this.mode === "batch") {
      const names = COLLECTOR_QUERIES.map(batchQueryName);
      const batch = await this.opts.source.refresh(names);
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
        const r = await this.opts.source.refresh(COLLECTOR_QUERIES, {
          namespace: g.namespace,
          modelID: g.modelID,
        });
        this.lastQueryCount += COLLECTOR_QUERIES.length;
        out.set(groupKey(g.modelID, g.namespace), await this.build(g, r));
      }),
    );
    return out;
  }

  private async build(g: ModelGroup<VariantInfo>, results: Results): Promise<CollectResult> {
    const kv = results.get(QueryName.kvCacheUsage);
    const queue = results.get(QueryName.queueLength);
    if (!kv || kv.error) return { ok: false, error: `KV cache query failed: ${kv?.error ?? "no result"}` };
    if (!queue || queue.error)
      return { ok: false, error: `queue length query failed: ${queue?.error ?? "no result"}` };

    const kvByPod = byPod(kv.values);
    const queueByPod = byPod(queue.values);
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

    const deployments = new Map<string, VariantInfo>();
    for (const v of g.variants) if (v.namespace === g.namespace) deployments.set(v.deployment, v);

    const now = this.clock();
    const freshness = resultFreshness(kv, now);
    const pods = [...new Set([...kvByPod.keys(), ...queueByPod.keys()])].sort();
    const replicas: ReplicaMetrics[] = [];
    for (const pod of pods) {
      const kvValue = kvByPod.get(pod);
      const qValue = queueByPod.get(pod);
      if (kvValue === undefined || qValue === undefined) {
        this.log.debug(
          { pod, model: g.modelID },
          `pod has no ${kvValue === undefined ? "KV cache" : "queue"} sample; using 0`,
        );
      }
      const variant = await this.variantOf(g.namespace, pod, deployments);
      if (!variant) {
        this.log.debug({ pod, namespace: g.namespace }, "Skipping pod that doesn't match any deployment");
        continue;
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
        metadata: freshness,
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
    return { ok: true, replicas };
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
