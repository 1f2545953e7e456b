/**
 * Performance model of one vLLM replica: the iteration-time law with three parameters (see
 * docs/design/model-based-optimizer.md).
 *
 * Units: every time is in milliseconds; `alpha` is ms per iteration, `beta` and `gamma` are ms per
 * token; service rates are in requests per millisecond.
 */

import type { ServiceParams } from "../../types/decision.js";

export type { ServiceParams };

/** Average size of a request. */
export interface RequestSize {
  /** Prompt tokens, >= 0. */
  inputTokens: number;
  /** Generated tokens, >= 1. */
  outputTokens: number;
}

/** Tokens one request computes per iteration, averaged over its prefill and decode iterations. */
function computeTokens(r: RequestSize): number {
  return (r.inputTokens + r.outputTokens) / (r.outputTokens + 1);
}

/** KV-cache tokens one request reads per iteration, on average over its decode iterations. */
function memoryTokens(r: RequestSize): number {
  return r.inputTokens + r.outputTokens / 2;
}

/** Duration of one batch iteration with `n` (possibly fractional) requests in the batch, ms. */
export function iterationTimeMs(p: ServiceParams, r: RequestSize, n: number): number {
  return p.alpha + n * (p.beta * computeTokens(r) + p.gamma * memoryTokens(r));
}

/** Prefill time of one request at batch size `n`, ms (0 for a request without prompt). */
export function prefillTimeMs(p: ServiceParams, r: RequestSize, n: number): number {
  if (r.inputTokens === 0) return 0;
  return iterationTimeMs(p, r, n) + (p.beta + p.gamma) * r.inputTokens;
}

/** Time to generate one output token at batch size `n`, ms. */
export function decodeTimeMs(p: ServiceParams, r: RequestSize, n: number): number {
  return iterationTimeMs(p, r, n) + p.beta + p.gamma * memoryTokens(r);
}

/**
 * Completion rate of the replica with n = 1..maxBatchSize requests in service, requests per ms
 * (index n-1): n requests each needing one prefill and `outputTokens` decode iterations.
 */
export function serviceRatesPerMs(p: ServiceParams, r: RequestSize, maxBatchSize: number): number[] {
  const rates: number[] = [];
  for (let n = 1; n <= maxBatchSize; n++) {
    rates.push(n / (prefillTimeMs(p, r, n) + r.outputTokens * decodeTimeMs(p, r, n)));
  }
  return rates;
}
