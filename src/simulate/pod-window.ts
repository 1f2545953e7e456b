/**
 * What a simulated pod reported over the metrics window, as the collector derives it from vLLM's
 * counters and histograms: completed requests per second, average prompt and generated tokens, and
 * the average TTFT and ITL of the requests that completed in the window.
 */
import type { ReplicaMetric } from "../types/decision.js";
import type { ServedTotals, SimPod } from "./world.js";

/** The collector's rate window. */
export const RATE_WINDOW_MS = 60_000;

type Window = Pick<
  ReplicaMetric,
  "arrivalRatePerSec" | "avgInputTokens" | "avgOutputTokens" | "ttftMs" | "itlMs"
>;

export class PodWindows {
  private readonly history = new Map<number, Array<{ t: number; served: ServedTotals }>>();

  /** Records every listed pod's totals at `now` and forgets pods that are gone. */
  record(pods: readonly SimPod[], now: number): void {
    const seen = new Set<number>();
    for (const p of pods) {
      seen.add(p.id);
      const h = this.history.get(p.id) ?? [];
      h.push({ t: now, served: { ...p.served } });
      while (h.length > 2 && now - h[1].t >= RATE_WINDOW_MS) h.shift();
      this.history.set(p.id, h);
    }
    for (const id of [...this.history.keys()]) if (!seen.has(id)) this.history.delete(id);
  }

  /** The pod's window figures; undefined until two records exist. Averages are 0 without completions. */
  window(pod: SimPod): Window | undefined {
    const h = this.history.get(pod.id);
    if (!h || h.length < 2) return undefined;
    const a = h[0];
    const b = h[h.length - 1];
    const dt = (b.t - a.t) / 1000;
    const n = b.served.requests - a.served.requests;
    const tokens = b.served.itlCount - a.served.itlCount;
    return {
      arrivalRatePerSec: n / dt,
      avgInputTokens: n > 0 ? (b.served.inputTokens - a.served.inputTokens) / n : 0,
      avgOutputTokens: n > 0 ? (b.served.outputTokens - a.served.outputTokens) / n : 0,
      ttftMs: n > 0 ? (b.served.ttftMs - a.served.ttftMs) / n : 0,
      itlMs: tokens > 0 ? (b.served.itlMs - a.served.itlMs) / tokens : 0,
    };
  }
}
