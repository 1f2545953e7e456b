/**
 * Freshness of per-pod metrics: a pod's data is fresh while its newest sample is at most a few scrape
 * intervals old. The rule and the queries behind it are described in docs/design/metric-freshness.md.
 */

/** Scrape interval assumed when none is configured (the chart's ServiceMonitor scrapes every 10 s). */
export const DEFAULT_SCRAPE_INTERVAL_MS = 15_000;

/** A pod's newest sample may be this many scrape intervals old before its data counts as stale. */
export const SCRAPE_INTERVALS_BEFORE_STALE = 3;

/** The largest age of a pod's newest sample that still counts as fresh, for a scrape interval. */
export function maxSampleAgeMs(scrapeIntervalMs: number): number {
  return SCRAPE_INTERVALS_BEFORE_STALE * scrapeIntervalMs;
}

/** A pod of a model group whose data is missing or too old, and why; it counts as a pod without metrics. */
export interface StalePod {
  pod: string;
  /** VA name of the pod's variant. */
  variant: string;
  reason: string;
}

/**
 * Why a pod's data is not fresh at `now`, or undefined when its newest sample (epoch ms) is at most
 * `maxAgeMs` old. A sample from the future (clock skew) counts as fresh.
 */
export function staleReason(
  sampledAt: number | undefined,
  now: number,
  maxAgeMs: number,
): string | undefined {
  if (sampledAt === undefined || !Number.isFinite(sampledAt)) return "no current sample";
  const age = now - sampledAt;
  if (age <= maxAgeMs) return undefined;
  return `newest sample ${formatSeconds(age)} old (bound ${formatSeconds(maxAgeMs)})`;
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** One line naming stale pods, e.g. `pod-a (no current sample), pod-b (HTTP 500 from ...)`; at most `max` named. */
export function describeStalePods(stale: readonly StalePod[], max = 5): string {
  const named = stale.slice(0, max).map((s) => `${s.pod} (${s.reason})`);
  if (stale.length > max) named.push(`and ${stale.length - max} more`);
  return named.join(", ");
}
