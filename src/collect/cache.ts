import type { Clock, MetricResult, QueryParams } from "./types.js";

/** Cache key: `queryName:` followed by the sorted `k=v` parameters joined by commas. */
export function cacheKey(queryName: string, params: QueryParams = {}): string {
  const parts = Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`);
  return `${queryName}:${parts.join(",")}`;
}

export const DEFAULT_CACHE_TTL_MS = 30_000;

/**
 * In-process TTL cache of query results (error results included). Expired entries are never returned
 * and are purged every `purgeIntervalMs` (1 s) by an unref'd timer, so it does not keep a process alive.
 */
export class ResultCache {
  private readonly entries = new Map<string, { result: MetricResult; expiresAt: number }>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly ttlMs: number = DEFAULT_CACHE_TTL_MS,
    private readonly now: Clock = Date.now,
    purgeIntervalMs = 1000,
  ) {
    if (!(ttlMs > 0)) throw new Error(`cache ttl must be > 0 ms, got ${ttlMs}`);
    if (purgeIntervalMs > 0) {
      this.timer = setInterval(() => this.purge(), purgeIntervalMs);
      this.timer.unref();
    }
  }

  set(queryName: string, params: QueryParams | undefined, result: MetricResult): void {
    this.entries.set(cacheKey(queryName, params), { result, expiresAt: this.now() + this.ttlMs });
  }

  get(queryName: string, params?: QueryParams): MetricResult | undefined {
    const key = cacheKey(queryName, params);
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.now() >= e.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    return e.result;
  }

  /** Removes expired entries; returns how many were removed. */
  purge(): number {
    const t = this.now();
    let n = 0;
    for (const [k, e] of this.entries) {
      if (t >= e.expiresAt) {
        this.entries.delete(k);
        n++;
      }
    }
    return n;
  }

  get size(): number {
    return this.entries.size;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
