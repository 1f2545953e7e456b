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

/**
 * Arrival times (ms from the start) for a schedule with a constant or Poisson process in each
 * step. `random` is injectable for deterministic tests.
 */
export function arrivalTimes(
  steps: readonly LoadStep[],
  arrival: "constant" | "poisson",
  random: () => number = Math.random,
): number[] {
  const out: number[] = [];
  let start = 0;
  for (const s of steps) {
    const end = start + s.durationMs;
    if (s.rate > 0) {
      const gap = 1000 / s.rate;
      if (arrival === "constant") {
        for (let t = start; t < end; t += gap) out.push(t);
      } else {
        let t = start - gap * Math.log(1 - random());
        while (t < end) {
          out.push(t);
          t += -gap * Math.log(1 - random());
        }
      }
    }
    start = end;
  }
  return out;
}
