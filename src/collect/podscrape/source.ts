// Over 450 lines: one metrics source that scrapes pods, evaluates every query template and tracks per-pod freshness and failures.
import type { Logger } from "pino";
import { silentLogger } from "../../util/logger.js";
import { ResultCache, DEFAULT_CACHE_TTL_MS } from "../cache.js";
import { httpRequest, mapLimit } from "../http.js";
import { COLLECTOR_QUERIES, QueryName, batchQueryName, VllmMetric } from "../queries.js";
import type { Clock, MetricResult, MetricsSource, MetricValue, PodFailure, QueryParams } from "../types.js";
import { parsePrometheusDuration } from "../../util/prometheus-duration.js";
import { parseExposition, type ExpositionSample } from "./exposition.js";

/** A pod to scrape. */
export interface ScrapeTarget {
  pod: string;
  namespace: string;
  /** Full URL of the metrics endpoint, e.g. http://10.0.0.5:8000/metrics. Empty = the pod has no IP yet. */
  url: string;
  /** Pods that are not Ready are skipped. Default true. */
  ready?: boolean;
}

/** Lists the pods to scrape (the controller lists them from its caches; tests and the playground use a fixed list). */
export interface ScrapeTargetLister {
  listTargets(): Promise<ScrapeTarget[]>;
}

export class StaticTargets implements ScrapeTargetLister {
  constructor(public targets: ScrapeTarget[]) {}
  async listTargets(): Promise<ScrapeTarget[]> {
    return this.targets;
  }
}

export interface PodScrapingSourceOptions {
  targets: ScrapeTargetLister;
  /** Per-pod timeout (default 5 s). */
  timeoutMs?: number;
  /** Scrapes in flight at once (default 10). */
  maxConcurrency?: number;
  /** Sent as `Authorization: Bearer <token>`; a value that already starts with "Bearer " is sent as is. */
  bearerToken?: string;
  cacheTtlMs?: number;
  /**
   * A refresh within this time of the previous scrape reuses it instead of scraping again (default 1 s), so
   * per-model refreshes of many models in one cycle cost one scrape per pod.
   */
  minScrapeIntervalMs?: number;
  /** How long scrape history is kept for windowed queries (default 5 min, at least that). */
  historyMs?: number;
  clock?: Clock;
  logger?: Logger;
}

/** Name of the query that returns every scraped sample (as the endpoint-picker flow uses it). */
export const ALL_METRICS_QUERY = "all_metrics";

interface Scrape {
  t: number;
  samples: ExpositionSample[];
}

interface PodHistory {
  target: ScrapeTarget;
  scrapes: Scrape[];
}

const WINDOW_1M = 60_000;
const WINDOW_5M = 300_000;
/** History kept for request counts is bounded by this window (24 h). */
const MAX_REQUEST_WINDOW_MS = 24 * 3_600_000;

/** Queries with a batch form (`<name>:all_models`): those the collector refreshes per model group. */
const BATCHED = COLLECTOR_QUERIES;

const SUPPORTED = [
  ...BATCHED,
  QueryName.schedulerQueueSize,
  QueryName.schedulerQueueBytes,
  QueryName.modelRequestCount,
];

/**
 * Scrapes every ready pod's `/metrics` directly and answers the same named queries as the Prometheus source
 * (plus `all_metrics`), for places without a Prometheus. Each refresh scrapes once; a short per-pod history
 * gives the windowed queries their meaning: `max_over_time(...[1m])` is the maximum over the scrapes of the
 * last minute, `rate(sum)/rate(count)` over 5 minutes is the ratio of the increases since the oldest scrape
 * in the window (or of the totals while only one scrape exists). Every sample gets the target's `pod` and
 * `namespace` labels, as a Prometheus scrape config with those target labels would give them.
 */
export class PodScrapingSource implements MetricsSource {
  readonly name = "pod-scraping";
  private readonly cache: ResultCache;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly history = new Map<string, PodHistory>();
  private lastScrapeAt: number | undefined;
  /** When this source first scraped (the start of what it has observed). */
  private firstScrapeAt: number | undefined;
  /** The longest request-count window asked so far: history is kept at least that long. */
  private requestWindowMs = 0;
  /** Number of pod scrapes attempted; read by tests and benchmarks. */
  scrapeCount = 0;
  /** Pods that failed in the last refresh, with the reason. */
  lastFailures: PodFailure[] = [];

  constructor(private readonly opts: PodScrapingSourceOptions) {
    this.clock = opts.clock ?? Date.now;
    this.cache = new ResultCache(opts.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS, this.clock);
    this.log = opts.logger ?? silentLogger;
  }

  queryNames(): string[] {
    return [...SUPPORTED, ...BATCHED.map(batchQueryName), ALL_METRICS_QUERY];
  }

  podFailures(): readonly PodFailure[] {
    return this.lastFailures;
  }

  async refresh(
    queryNames: readonly string[],
    params: QueryParams = {},
    signal?: AbortSignal,
  ): Promise<Map<string, MetricResult>> {
    const scrapeError = await this.scrapeAll(signal);
    const now = this.clock();
    const out = new Map<string, MetricResult>();
    for (const name of queryNames) {
      let r: MetricResult;
      try {
        if (scrapeError) throw new Error(scrapeError);
        r = { queryName: name, values: this.evaluate(name, params, now), collectedAt: now };
      } catch (e) {
        r = { queryName: name, values: [], collectedAt: now, error: (e as Error).message };
      }
      this.cache.set(name, params, r);
      out.set(name, r);
    }
    return out;
  }

  get(queryName: string, params: QueryParams = {}): MetricResult | undefined {
    return this.cache.get(queryName, params);
  }

  close(): void {
    this.cache.close();
  }

  /** Scrapes all ready targets; returns an error message only when listing the targets failed. */
  private async scrapeAll(signal?: AbortSignal): Promise<string | undefined> {
    const minGap = this.opts.minScrapeIntervalMs ?? 1000;
    if (this.lastScrapeAt !== undefined && this.clock() - this.lastScrapeAt < minGap) return undefined;
    let targets: ScrapeTarget[];
    try {
      targets = await this.opts.targets.listTargets();
    } catch (e) {
      return `listing pods to scrape failed: ${(e as Error).message}`;
    }
    const ready = targets.filter((t) => t.ready !== false);
    const failures: typeof this.lastFailures = [];
    const now = this.clock();
    const keep = Math.max(this.opts.historyMs ?? WINDOW_5M, WINDOW_5M, this.requestWindowMs + WINDOW_5M);
    const seen = new Set<string>();
    await mapLimit(ready, this.opts.maxConcurrency ?? 10, async (t) => {
      const key = `${t.namespace}/${t.pod}`;
      seen.add(key);
      try {
        const samples = await this.scrape(t, signal);
        const h = this.history.get(key) ?? { target: t, scrapes: [] };
        h.target = t;
        h.scrapes.push({ t: now, samples });
        while (h.scrapes.length > 1 && now - h.scrapes[0].t > keep) h.scrapes.shift();
        this.history.set(key, h);
      } catch (e) {
        failures.push({ pod: t.pod, namespace: t.namespace, error: (e as Error).message });
        this.history.delete(key);
        this.log.debug({ pod: key, err: (e as Error).message }, "pod scrape failed");
      }
    });
    for (const key of [...this.history.keys()]) if (!seen.has(key)) this.history.delete(key);
    this.lastFailures = failures;
    this.lastScrapeAt = now;
    this.firstScrapeAt ??= now;
    return undefined;
  }

  private async scrape(t: ScrapeTarget, signal?: AbortSignal): Promise<ExpositionSample[]> {
    if (!t.url) throw new Error(`pod ${t.namespace}/${t.pod} has no IP`);
    this.scrapeCount++;
    const headers: Record<string, string> = { accept: "text/plain;version=0.0.4" };
    const token = this.opts.bearerToken;
    if (token) headers.authorization = /^bearer /i.test(token) ? token : `Bearer ${token}`;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 5000);
    const res = await httpRequest(t.url, {
      headers,
      signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
    });
    if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${t.url}`);
    const samples = parseExposition(res.body);
    for (const s of samples) {
      s.labels.pod = t.pod;
      s.labels.namespace = t.namespace;
    }
    return samples;
  }

  private evaluate(name: string, params: QueryParams, now: number): MetricValue[] {
    const batch = name.endsWith(":all_models");
    const base = batch ? name.slice(0, -":all_models".length) : name;
    if (name === ALL_METRICS_QUERY) return this.allMetrics(now);
    const need = (keys: string[]) => {
      const missing = batch ? [] : keys.filter((k) => params[k] === undefined);
      if (missing.length > 0) {
        throw new Error(
          `query "${name}": missing required parameter ${missing.map((m) => `"${m}"`).join(", ")}`,
        );
      }
    };
    const match = (l: Record<string, string>) =>
      batch
        ? l.model_name !== undefined && l.model_name !== ""
        : l.namespace === params.namespace && l.model_name === params.modelID;
    const by = batch ? ["namespace", "model_name", "pod"] : ["pod"];
    switch (base) {
      case QueryName.kvCacheUsage:
        need(["namespace", "modelID"]);
        return this.maxOverTime(VllmMetric.kvCacheUsage, match, by, WINDOW_1M, now);
      case QueryName.queueLength:
        need(["namespace", "modelID"]);
        return this.maxOverTime(VllmMetric.numRequestsWaiting, match, by, WINDOW_1M, now);
      case QueryName.cacheConfigInfo:
        need(["namespace", "modelID"]);
        return this.maxOverTime(
          VllmMetric.cacheConfigInfo,
          match,
          [...by, "num_gpu_blocks", "block_size"],
          0,
          now,
        );
      case QueryName.avgOutputTokens:
        need(["namespace", "modelID"]);
        return this.ratioOfIncreases(
          `${VllmMetric.generationTokens}_sum`,
          `${VllmMetric.generationTokens}_count`,
          match,
          by,
          now,
        );
      case QueryName.avgInputTokens:
        need(["namespace", "modelID"]);
        return this.ratioOfIncreases(
          `${VllmMetric.promptTokens}_sum`,
          `${VllmMetric.promptTokens}_count`,
          match,
          by,
          now,
        );
      case QueryName.prefixCacheHitRate:
        need(["namespace", "modelID"]);
        return this.ratioOfIncreases(
          VllmMetric.prefixCacheHits,
          VllmMetric.prefixCacheQueries,
          match,
          by,
          now,
        );
      case QueryName.sampleTime:
        need(["namespace", "modelID"]);
        return this.sampleTimes(match, by);
      case QueryName.requestRate:
        need(["namespace", "modelID"]);
        return this.rateOf(VllmMetric.requestSuccessTotal, match, by, now);
      case QueryName.avgTtft:
        need(["namespace", "modelID"]);
        return this.histogramMean(VllmMetric.timeToFirstToken, match, by, now);
      case QueryName.avgItl: {
        need(["namespace", "modelID"]);
        // vLLM V1 names the histogram inter_token_latency; older servers time_per_output_token
        const newer = this.histogramMean(VllmMetric.interTokenLatency, match, by, now);
        return newer.length > 0 ? newer : this.histogramMean(VllmMetric.timePerOutputToken, match, by, now);
      }
      case QueryName.schedulerQueueSize:
      case QueryName.schedulerQueueBytes: {
        need(["modelID"]);
        const metric =
          base === QueryName.schedulerQueueSize
            ? VllmMetric.schedulerQueueSize
            : VllmMetric.schedulerQueueBytes;
        const latest = this.latestSamples(metric);
        let hits = latest.filter((s) => s.labels.target_model_name === params.modelID);
        if (hits.length === 0) {
          hits = latest.filter(
            (s) => s.labels.model_name === params.modelID && (s.labels.target_model_name ?? "") === "",
          );
        }
        if (hits.length === 0) return [];
        return [{ value: finite(hits.reduce((a, s) => a + s.value, 0)), timestamp: now, labels: {} }];
      }
      case QueryName.modelRequestCount: {
        need(["namespace", "modelID", "retentionPeriod"]);
        // increase over the retention window: from the last scrape at or before its start; a pod whose
        // history starts within the window counts every request it has served (never fewer than happened).
        // Before this source has watched one whole window the count is unknown (no sample).
        const windowMs = parsePrometheusDuration(String(params.retentionPeriod)) ?? Infinity;
        if (Number.isFinite(windowMs)) {
          this.requestWindowMs = Math.max(this.requestWindowMs, Math.min(windowMs, MAX_REQUEST_WINDOW_MS));
          if (this.firstScrapeAt === undefined || now - this.firstScrapeAt < windowMs) return [];
        }
        let total = 0;
        let any = false;
        for (const h of this.history.values()) {
          const last = sumOf(h.scrapes[h.scrapes.length - 1].samples, VllmMetric.requestSuccessTotal, match);
          if (last === undefined) continue;
          any = true;
          let base: Scrape | undefined;
          for (const sc of h.scrapes) if (now - sc.t >= windowMs) base = sc;
          const first = base ? sumOf(base.samples, VllmMetric.requestSuccessTotal, match) : undefined;
          total += Math.max(0, last - (first ?? 0));
        }
        return any ? [{ value: finite(total), timestamp: now, labels: {} }] : [];
      }
      default:
        throw new Error(`unknown query "${name}"`);
    }
  }

  /** Per pod: the time of its newest successful scrape in seconds, as Prometheus's `timestamp()` answers. */
  private sampleTimes(match: (l: Record<string, string>) => boolean, by: string[]): MetricValue[] {
    const out = new Map<string, MetricValue>();
    for (const h of this.history.values()) {
      const last = h.scrapes[h.scrapes.length - 1];
      for (const s of last.samples) {
        if (s.name !== VllmMetric.numRequestsWaiting || !match(s.labels)) continue;
        const labels = pick(s.labels, by);
        out.set(JSON.stringify(labels), { value: last.t / 1000, timestamp: last.t, labels });
      }
    }
    return [...out.values()];
  }

  private latestSamples(metric: string): ExpositionSample[] {
    const out: ExpositionSample[] = [];
    for (const h of this.history.values()) {
      const last = h.scrapes[h.scrapes.length - 1];
      for (const s of last.samples) if (s.name === metric) out.push(s);
    }
    return out;
  }

  private maxOverTime(
    metric: string,
    match: (l: Record<string, string>) => boolean,
    by: string[],
    windowMs: number,
    now: number,
  ): MetricValue[] {
    const groups = new Map<string, MetricValue>();
    for (const h of this.history.values()) {
      const last = h.scrapes[h.scrapes.length - 1];
      const scrapes = windowMs > 0 ? h.scrapes.filter((s) => now - s.t <= windowMs) : [last];
      for (const sc of scrapes) {
        for (const s of sc.samples) {
          if (s.name !== metric || !match(s.labels)) continue;
          const labels = pick(s.labels, by);
          const key = JSON.stringify(labels);
          const v = finite(s.value);
          const g = groups.get(key);
          if (!g || v > g.value) groups.set(key, { value: v, timestamp: last.t, labels });
        }
      }
    }
    return [...groups.values()];
  }

  /** `rate(h_sum[1m]) / rate(h_count[1m])` of a histogram: the mean of its observations over 1 minute. */
  private histogramMean(
    histogram: string,
    match: (l: Record<string, string>) => boolean,
    by: string[],
    now: number,
  ): MetricValue[] {
    return this.ratioOfIncreases(`${histogram}_sum`, `${histogram}_count`, match, by, now, WINDOW_1M).filter(
      (v) => v.value > 0,
    );
  }

  /** `sum by (...) (rate(counter[1m]))`: the increase per second between the oldest and latest scrape of the minute. */
  private rateOf(
    counter: string,
    match: (l: Record<string, string>) => boolean,
    by: string[],
    now: number,
  ): MetricValue[] {
    const groups = new Map<string, MetricValue>();
    for (const h of this.history.values()) {
      const inWindow = h.scrapes.filter((s) => now - s.t <= WINDOW_1M);
      if (inWindow.length < 2) continue;
      const first = inWindow[0];
      const last = inWindow[inWindow.length - 1];
      const keys = new Set<string>();
      for (const s of last.samples)
        if (s.name === counter && match(s.labels)) keys.add(JSON.stringify(pick(s.labels, by)));
      for (const key of keys) {
        const sel = (l: Record<string, string>) => match(l) && JSON.stringify(pick(l, by)) === key;
        const increase = Math.max(
          0,
          (sumOf(last.samples, counter, sel) ?? 0) - (sumOf(first.samples, counter, sel) ?? 0),
        );
        const value = finite(increase / ((last.t - first.t) / 1000));
        const prev = groups.get(key);
        groups.set(key, { value: (prev?.value ?? 0) + value, timestamp: last.t, labels: JSON.parse(key) });
      }
    }
    return [...groups.values()];
  }

  private ratioOfIncreases(
    num: string,
    den: string,
    match: (l: Record<string, string>) => boolean,
    by: string[],
    now: number,
    windowMs = WINDOW_5M,
  ): MetricValue[] {
    const groups = new Map<string, MetricValue>();
    for (const h of this.history.values()) {
      const inWindow = h.scrapes.filter((s) => now - s.t <= windowMs);
      if (inWindow.length === 0) continue;
      const first = inWindow[0];
      const last = inWindow[inWindow.length - 1];
      const keys = new Set<string>();
      for (const s of last.samples)
        if (s.name === num && match(s.labels)) keys.add(JSON.stringify(pick(s.labels, by)));
      for (const key of keys) {
        const sel = (l: Record<string, string>) => match(l) && JSON.stringify(pick(l, by)) === key;
        const n1 = sumOf(last.samples, num, sel) ?? 0;
        const d1 = sumOf(last.samples, den, sel) ?? 0;
        const n0 = inWindow.length > 1 ? (sumOf(first.samples, num, sel) ?? 0) : 0;
        const d0 = inWindow.length > 1 ? (sumOf(first.samples, den, sel) ?? 0) : 0;
        const value = finite((n1 - n0) / (d1 - d0));
        const prev = groups.get(key);
        if (!prev || value > prev.value)
          groups.set(key, { value, timestamp: last.t, labels: JSON.parse(key) });
      }
    }
    return [...groups.values()];
  }

  private allMetrics(now: number): MetricValue[] {
    const out: MetricValue[] = [];
    for (const h of this.history.values()) {
      const last = h.scrapes[h.scrapes.length - 1];
      for (const s of last.samples) {
        const isHist = s.type === "histogram" || s.type === "summary";
        if (isHist && !s.name.endsWith("_count")) continue;
        out.push({ value: finite(s.value), timestamp: now, labels: { ...s.labels, __name__: s.family } });
      }
    }
    return out;
  }
}

function pick(labels: Record<string, string>, keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) out[k] = labels[k] ?? (k === "pod" ? (labels.pod_name ?? "") : "");
  return out;
}

function sumOf(
  samples: ExpositionSample[],
  metric: string,
  match: (l: Record<string, string>) => boolean,
): number | undefined {
  let total: number | undefined;
  for (const s of samples) {
    if (s.name === metric && match(s.labels)) total = (total ?? 0) + s.value;
  }
  return total;
}

function finite(v: number): number {
  return Number.isFinite(v) ? v : 0;
}
