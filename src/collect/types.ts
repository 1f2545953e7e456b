/** One sample of a query result. `timestamp` is milliseconds since the epoch. */
export interface MetricValue {
  value: number;
  timestamp: number;
  labels: Record<string, string>;
}

/** The result of one named query. A failed query carries `error` and no values; it never throws. */
export interface MetricResult {
  queryName: string;
  values: MetricValue[];
  /** Milliseconds since the epoch when the result was collected. */
  collectedAt: number;
  error?: string;
}

/** Parameters of a query, e.g. `{namespace: "ns", modelID: "m"}`. */
export type QueryParams = Record<string, string>;

/**
 * A source of metrics: it owns a registry of named query templates, refreshes a set of them with one set
 * of parameters (concurrently; a failed query yields a result with `error`, refresh itself does not fail)
 * and serves cached results until their TTL expires.
 */
export interface MetricsSource {
  readonly name: string;
  /** Names of the queries this source can answer. */
  queryNames(): string[];
  /**
   * Runs the queries; `signal` ends every attempt still running when it aborts (the results then carry
   * the abort reason as their error).
   */
  refresh(
    queryNames: readonly string[],
    params?: QueryParams,
    signal?: AbortSignal,
  ): Promise<Map<string, MetricResult>>;
  /** Cached result of an earlier refresh with the same parameters, or undefined (never queried, expired). */
  get(queryName: string, params?: QueryParams): MetricResult | undefined;
  /** Stops background timers (cache purge). */
  close(): void;
  /** Pods the last refresh could not read, with what happened (sources that read pods themselves). */
  podFailures?(): readonly PodFailure[];
}

/** A pod a source could not read, e.g. its metrics endpoint answered HTTP 500. */
export interface PodFailure {
  pod: string;
  namespace: string;
  error: string;
}

/** Clock in milliseconds since the epoch; injectable for tests. */
export type Clock = () => number;
