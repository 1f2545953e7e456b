import type { MetricValue } from "../types.js";

/** Thrown for a response body that is not a Prometheus HTTP API answer. */
export class PrometheusResponseError extends Error {}

/** Converts a sample value; NaN and ±Inf (and anything unparsable) become 0. */
export function sampleValue(raw: unknown): number {
  const v = typeof raw === "number" ? raw : Number(raw);
  return Number.isFinite(v) ? v : 0;
}

type Pair = [number, string];

/**
 * Parses the JSON body of `/api/v1/query`: a vector gives one value per sample with all its labels, a
 * scalar one value without labels, a matrix the last point of each series. Timestamps become milliseconds.
 */
export function parseQueryResponse(body: string): MetricValue[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    throw new PrometheusResponseError(`response is not JSON: ${body.slice(0, 200)}`);
  }
  const d = doc as {
    status?: string;
    error?: string;
    errorType?: string;
    data?: { resultType?: string; result?: unknown };
  };
  if (d.status !== "success") {
    throw new PrometheusResponseError(
      `query failed: ${d.errorType ?? "error"}: ${d.error ?? "unknown error"}`,
    );
  }
  const rt = d.data?.resultType;
  const result = d.data?.result;
  switch (rt) {
    case "vector":
      return (result as Array<{ metric?: Record<string, string>; value: Pair }>).map((s) => ({
        value: sampleValue(s.value[1]),
        timestamp: Math.round(s.value[0] * 1000),
        labels: { ...(s.metric ?? {}) },
      }));
    case "scalar":
    case "string": {
      const p = result as Pair;
      return [{ value: sampleValue(p[1]), timestamp: Math.round(p[0] * 1000), labels: {} }];
    }
    case "matrix": {
      const out: MetricValue[] = [];
      for (const s of result as Array<{ metric?: Record<string, string>; values: Pair[] }>) {
        const last = s.values[s.values.length - 1];
        if (!last) continue;
        out.push({
          value: sampleValue(last[1]),
          timestamp: Math.round(last[0] * 1000),
          labels: { ...(s.metric ?? {}) },
        });
      }
      return out;
    }
    default:
      throw new PrometheusResponseError(`unknown result type "${String(rt)}"`);
  }
}
