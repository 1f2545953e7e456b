/**
 * Resolution of a model's TTFT and ITL targets, in order:
 * 1. explicit targets from the SLO ConfigMap (a target of 0 is not set: that metric is not constrained);
 * 2. inferred from the learned parameters of its variants: k times the idle iteration time plus the
 *    per-token work (component-wise maximum over variants), k = sloMultiplier > 1;
 * 3. from the observed latencies with 50 % headroom, capped;
 * otherwise no targets (the model gets no decision from this optimizer this cycle).
 * Times in ms. Pure code.
 */
import type { SloTargets } from "./analyzer.js";
import type { ServiceParams } from "./performance.js";

/** Headroom over observed latencies when nothing better is known. */
export const FALLBACK_HEADROOM = 1.5;
export const MAX_FALLBACK_TTFT_MS = 10_000;
export const MAX_FALLBACK_ITL_MS = 500;

export interface SloResolutionInput {
  explicit?: SloTargets;
  sloMultiplier: number;
  /** Learned parameters of the model's variants (entries without positive parameters are ignored). */
  params: ServiceParams[];
  /** Model-wide average request size. */
  avgInputTokens: number;
  avgOutputTokens: number;
  /** Model-wide observed averages, ms. */
  observed?: { ttftMs: number; itlMs: number };
}

export type ResolvedSlo =
  { ttftMs: number; itlMs: number; source: "explicit" | "inferred" | "observed" } | { error: string };

export function resolveSloTargets(input: SloResolutionInput): ResolvedSlo {
  const { explicit, sloMultiplier: k, avgInputTokens: i, avgOutputTokens: o, observed } = input;
  if (explicit && (explicit.ttftMs > 0 || explicit.itlMs > 0)) {
    return { ttftMs: explicit.ttftMs, itlMs: explicit.itlMs, source: "explicit" };
  }
  const usable = input.params.filter((p) => p.alpha > 0 && p.beta > 0 && p.gamma > 0);
  if (usable.length > 0 && k > 1 && i >= 0 && o > 0) {
    let ttftMs = 0;
    let itlMs = 0;
    for (const p of usable) {
      ttftMs = Math.max(ttftMs, k * p.alpha + (p.beta + p.gamma) * i);
      itlMs = Math.max(itlMs, k * p.alpha + p.beta + p.gamma * (i + (o + 1) / 2));
    }
    return { ttftMs, itlMs, source: "inferred" };
  }
  if (observed && observed.ttftMs > 0 && observed.itlMs > 0) {
    return {
      ttftMs: Math.min(FALLBACK_HEADROOM * observed.ttftMs, MAX_FALLBACK_TTFT_MS),
      itlMs: Math.min(FALLBACK_HEADROOM * observed.itlMs, MAX_FALLBACK_ITL_MS),
      source: "observed",
    };
  }
  return { error: "no SLO targets: none configured, no learned parameters and no observed latencies" };
}
