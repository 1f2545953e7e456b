import type http from "node:http";
import type https from "node:https";
import type { Logger } from "pino";
import { silentLogger } from "../../util/logger.js";
import { ResultCache, DEFAULT_CACHE_TTL_MS } from "../cache.js";
import { httpRequest, mapLimit, sleep as defaultSleep, type HttpResponse } from "../http.js";
import { defaultQueryRegistry, type QueryRegistry } from "../queries.js";
import type { Clock, MetricResult, MetricsSource, QueryParams, MetricValue } from "../types.js";
import {
  createAgent,
  resolveBearerToken,
  resolvePrometheusConfig,
  validatePrometheusConfig,
  type PrometheusConfig,
  type SettingsMap,
} from "./config.js";
import { parseQueryResponse, PrometheusResponseError } from "./parse.js";

export const QUERY_TIMEOUT_MS = 10_000;
export const MAX_ATTEMPTS = 5;
export const BASE_BACKOFF_MS = 500;
export const JITTER_FRACTION = 0.1;

export interface PrometheusSourceOptions {
  config: PrometheusConfig;
  registry?: QueryRegistry;
  /** Per-query timeout including retries (default 10 s). */
  queryTimeoutMs?: number;
  maxAttempts?: number;
  baseBackoffMs?: number;
  /** Queries in flight at once (default 16), so a large per-model cycle does not flood Prometheus. */
  maxConcurrency?: number;
  cacheTtlMs?: number;
  clock?: Clock;
  /** Injectable for tests: sleeping between attempts and the jitter's random source. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  logger?: Logger;
  /** Skip validation (tests only use this with a loopback URL anyway). */
  skipValidation?: boolean;
}

/** Errors worth another attempt: network failures, timeouts of one attempt, HTTP 429 and 5xx. */
class RetryableError extends Error {}

/** Metrics source backed by the Prometheus HTTP API (`/api/v1/query`, instant queries at "now"). */
export class PrometheusSource implements MetricsSource {
  readonly name = "prometheus";
  readonly registry: QueryRegistry;
  private readonly cache: ResultCache;
  private readonly agent: http.Agent | https.Agent;
  private readonly token: string | undefined;
  private readonly queryURL: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  /** Number of HTTP requests sent (attempts included); read by tests and benchmarks. */
  requestCount = 0;

  constructor(private readonly opts: PrometheusSourceOptions) {
    if (!opts.skipValidation) validatePrometheusConfig(opts.config);
    this.registry = opts.registry ?? defaultQueryRegistry();
    this.clock = opts.clock ?? Date.now;
    this.cache = new ResultCache(opts.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS, this.clock);
    this.agent = createAgent(opts.config);
    this.token = resolveBearerToken(opts.config);
    this.queryURL = new URL("api/v1/query", opts.config.baseURL.replace(/\/*$/, "/")).toString();
    this.log = opts.logger ?? silentLogger;
    this.sleep = opts.sleep ?? defaultSleep;
    this.random = opts.random ?? Math.random;
  }

  queryNames(): string[] {
    return this.registry.names();
  }

  async refresh(
    queryNames: readonly string[],
    params: QueryParams = {},
    signal?: AbortSignal,
  ): Promise<Map<string, MetricResult>> {
    const results = await mapLimit(queryNames, this.opts.maxConcurrency ?? 16, (name) =>
      this.runNamed(name, params, signal),
    );
    const out = new Map<string, MetricResult>();
    for (const r of results) {
      this.cache.set(r.queryName, params, r);
      out.set(r.queryName, r);
    }
    return out;
  }

  get(queryName: string, params: QueryParams = {}): MetricResult | undefined {
    return this.cache.get(queryName, params);
  }

  private async runNamed(name: string, params: QueryParams, signal?: AbortSignal): Promise<MetricResult> {
    let promql: string;
    try {
      promql = this.registry.build(name, params);
    } catch (e) {
      return { queryName: name, values: [], collectedAt: this.clock(), error: (e as Error).message };
    }
    try {
      const values = await this.query(promql, signal);
      return { queryName: name, values, collectedAt: this.clock() };
    } catch (e) {
      this.log.debug({ query: name, err: (e as Error).message }, "prometheus query failed");
      return { queryName: name, values: [], collectedAt: this.clock(), error: (e as Error).message };
    }
  }

  /**
   * Runs one instant query, retrying with exponential back-off (500 ms × 2^n, +10 % jitter) up to 5 attempts,
   * all within the per-query timeout and until `signal` (the caller's budget) aborts. Throws the last error.
   */
  async query(promql: string, signal?: AbortSignal): Promise<MetricValue[]> {
    const timeoutMs = this.opts.queryTimeoutMs ?? QUERY_TIMEOUT_MS;
    const maxAttempts = this.opts.maxAttempts ?? MAX_ATTEMPTS;
    const base = this.opts.baseBackoffMs ?? BASE_BACKOFF_MS;
    const timeout = AbortSignal.timeout(timeoutMs);
    const deadline = signal ? AbortSignal.any([timeout, signal]) : timeout;
    let lastError: Error = new Error("no attempt made");
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      if (attempt > 0) {
        const delay = base * 2 ** (attempt - 1) * (1 + JITTER_FRACTION * this.random());
        try {
          await this.sleep(delay, deadline);
        } catch {
          break;
        }
      }
      try {
        return await this.attempt(promql, deadline);
      } catch (e) {
        lastError = e as Error;
        if (!(e instanceof RetryableError) || deadline.aborted) break;
      }
    }
    if (signal?.aborted) {
      throw new Error(`${errorText(signal.reason)}; last attempt: ${lastError.message}`);
    }
    if (deadline.aborted) {
      throw new Error(`query timed out after ${timeoutMs} ms: ${lastError.message}`);
    }
    throw lastError;
  }

  private async attempt(promql: string, signal: AbortSignal): Promise<MetricValue[]> {
    this.requestCount++;
    const headers: Record<string, string> = {
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const body = new URLSearchParams({ query: promql, time: String(this.clock() / 1000) }).toString();
    let res: HttpResponse;
    try {
      res = await httpRequest(this.queryURL, { method: "POST", headers, body, signal, agent: this.agent });
    } catch (e) {
      throw new RetryableError(`request to ${this.opts.config.baseURL} failed: ${(e as Error).message}`);
    }
    if (res.status === 429 || res.status >= 500) {
      throw new RetryableError(`Prometheus answered HTTP ${res.status}: ${res.body.slice(0, 200)}`);
    }
    if (res.status === 401 || res.status === 403) {
      throw new Error(
        `Prometheus answered HTTP ${res.status}: check the bearer token and TLS client certificate`,
      );
    }
    if (res.status !== 200 && res.status !== 400 && res.status !== 422) {
      throw new Error(`Prometheus answered HTTP ${res.status}: ${res.body.slice(0, 200)}`);
    }
    try {
      return parseQueryResponse(res.body);
    } catch (e) {
      if (e instanceof PrometheusResponseError) throw new Error(e.message);
      throw e;
    }
  }

  /**
   * Start-up connectivity check: queries `up` until it succeeds or `timeoutMs` passes (default 30 s), then
   * throws one clear error naming the URL and the last failure.
   */
  async waitUntilReachable(timeoutMs = 30_000, intervalMs = 1000): Promise<void> {
    const start = Date.now();
    let last = "";
    for (;;) {
      const remaining = timeoutMs - (Date.now() - start);
      try {
        // one attempt at a time, each bounded by what is left of the wait
        await this.attempt(
          "up",
          AbortSignal.timeout(Math.max(1, Math.min(remaining, this.opts.queryTimeoutMs ?? QUERY_TIMEOUT_MS))),
        );
        return;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() - start + intervalMs > timeoutMs) break;
      await this.sleep(intervalMs);
    }
    throw new Error(
      `Prometheus at ${this.opts.config.baseURL} is not reachable after ${timeoutMs} ms: ${last}`,
    );
  }

  close(): void {
    this.cache.close();
    this.agent.destroy();
  }
}

function errorText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

/**
 * Builds the Prometheus source from the environment (when `PROMETHEUS_BASE_URL` is set there) or the main
 * ConfigMap's keys, validating the settings. Throws PrometheusConfigError with the offending field.
 */
export function prometheusSourceFromSettings(
  env: SettingsMap = process.env,
  configMap?: SettingsMap,
  options: Omit<PrometheusSourceOptions, "config"> = {},
): PrometheusSource {
  return new PrometheusSource({ ...options, config: resolvePrometheusConfig(env, configMap) });
}
