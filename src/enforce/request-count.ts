import { escapePromQLValue } from "../collect/escape.js";
import type { ScaleToZeroInput } from "../engine/types.js";
import { formatPrometheusDuration } from "../util/prometheus-duration.js";

/** Name of the scale-to-zero query template. */
export const MODEL_REQUEST_COUNT_QUERY = "model_request_count";

/** PromQL of the successful requests of a model in its retention window (wva-core 4.2). */
export function modelRequestCountQuery(namespace: string, modelID: string, retentionMs: number): string {
  const ns = escapePromQLValue(namespace);
  const model = escapePromQLValue(modelID);
  const window = escapePromQLValue(formatPrometheusDuration(retentionMs));
  return `sum(increase(vllm:request_success_total{namespace="${ns}",model_name="${model}"}[${window}]))`;
}

/** What a metrics source returned for the request-count query. */
export interface QueryOutcome {
  values: ReadonlyArray<{ value: number }>;
  error?: string;
}

/**
 * Request count from a query result: the first value; a failed query or a result without values gives
 * count 0 with an error (so the enforcer never scales to zero on uncertainty).
 */
export function requestCountFrom(outcome: QueryOutcome): { count: number; error?: string } {
  if (outcome.error !== undefined && outcome.error !== "") {
    return { count: 0, error: `request count query failed: ${outcome.error}` };
  }
  if (outcome.values.length === 0) return { count: 0, error: "request count query returned no values" };
  return { count: outcome.values[0].value };
}

/** Enforcer input of a model from its resolution and its query result (undefined = not queried). */
export function scaleToZeroInput(
  resolution: { enabled: boolean; retentionMs: number },
  outcome?: QueryOutcome,
): ScaleToZeroInput {
  if (!resolution.enabled) return { enabled: false, requestCount: null, retentionMs: resolution.retentionMs };
  if (outcome === undefined) {
    return { enabled: true, requestCount: null, retentionMs: resolution.retentionMs, error: "not queried" };
  }
  const r = requestCountFrom(outcome);
  return r.error !== undefined
    ? { enabled: true, requestCount: null, retentionMs: resolution.retentionMs, error: r.error }
    : { enabled: true, requestCount: r.count, retentionMs: resolution.retentionMs };
}
