import { DDSketch } from "@datadog/sketches-js";

/** p50 / p95 / p99 in milliseconds (0 when nothing was observed). */
export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

/**
 * Streaming latency percentiles in constant memory: a DDSketch with 1 % relative accuracy, so a run of
 * millions of requests never keeps one value per request. Deterministic (no random sampling).
 */
export class LatencySketch {
  private sketch = new DDSketch({ relativeAccuracy: 0.01 });

  add(ms: number): void {
    this.sketch.accept(Math.max(0, ms));
  }

  /** Adds every value observed by `other`. */
  merge(other: LatencySketch): void {
    if (other.sketch.count > 0) this.sketch.merge(other.sketch);
  }

  get count(): number {
    return this.sketch.count;
  }

  percentiles(): Percentiles {
    if (this.sketch.count === 0) return { p50: 0, p95: 0, p99: 0 };
    const q = (p: number) => Math.round(this.sketch.getValueAtQuantile(p) * 100) / 100;
    return { p50: q(0.5), p95: q(0.95), p99: q(0.99) };
  }
}
