import type { LoadStep } from "./scenario.js";

/** A load schedule as a function of time: consecutive steps of constant rate. */
export interface Timeline {
  /** Total length of the schedule, ms. */
  readonly durationMs: number;
  /** Requests per second at `tMs` after the start; 0 before the start and after the last step. */
  rateAt(tMs: number): number;
  /** Index of the step active at `tMs`, or -1 outside the schedule. */
  stepAt(tMs: number): number;
  /** Start time of each step, ms. */
  readonly starts: readonly number[];
}

export function timeline(steps: readonly LoadStep[]): Timeline {
  const starts: number[] = [];
  let acc = 0;
  for (const s of steps) {
    starts.push(acc);
    acc += s.durationMs;
  }
  const durationMs = acc;
  const stepAt = (tMs: number): number => {
    if (!(tMs >= 0) || tMs >= durationMs) return -1;
    // binary search for the last start <= t
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= tMs) lo = mid;
      else hi = mid - 1;
    }
    // skip zero-length steps ending exactly here
    while (lo < steps.length - 1 && starts[lo] + steps[lo].durationMs <= tMs) lo++;
    return lo;
  };
  return {
    durationMs,
    starts,
    stepAt,
    rateAt(tMs: number): number {
      const i = stepAt(tMs);
      return i < 0 ? 0 : steps[i].rate;
    },
  };
}
