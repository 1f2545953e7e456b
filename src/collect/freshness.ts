import type { MetricResult } from "./types.js";

export type FreshnessStatus = "fresh" | "stale" | "unavailable";

/** Thresholds of the freshness status: fresh below 1 min, stale below 5 min, unavailable from then on. */
export const FRESH_THRESHOLD_MS = 60_000;
export const STALE_THRESHOLD_MS = 120_000;
export const UNAVAILABLE_THRESHOLD_MS = 300_000;

/** Status of a value of the given age (milliseconds). */
export function freshnessStatus(ageMs: number): FreshnessStatus {
  if (ageMs < FRESH_THRESHOLD_MS) return "fresh";
  if (ageMs < UNAVAILABLE_THRESHOLD_MS) return "stale";
  return "unavailable";
}

/**
 * A result is stale when it has no values, when a value has no timestamp (0), or when its newest value is
 * older than `thresholdMs` at `now`.
 */
export function isStale(result: MetricResult, thresholdMs: number, now: number = Date.now()): boolean {
  if (result.values.length === 0) return true;
  let newest = 0;
  for (const v of result.values) {
    if (!v.timestamp) return true;
    newest = Math.max(newest, v.timestamp);
  }
  return now - newest > thresholdMs;
}

/** Freshness metadata attached to collected replica metrics. */
export interface Freshness {
  collectedAt: number;
  ageMs: number;
  status: FreshnessStatus;
}

/** Freshness of a result at `now`: age of its newest value (or of the collection time when empty). */
export function resultFreshness(result: MetricResult, now: number = Date.now()): Freshness {
  const newest = result.values.reduce((m, v) => Math.max(m, v.timestamp || 0), 0) || result.collectedAt;
  const ageMs = Math.max(0, now - newest);
  return { collectedAt: result.collectedAt, ageMs, status: freshnessStatus(ageMs) };
}
