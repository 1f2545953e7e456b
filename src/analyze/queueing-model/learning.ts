/**
 * Learned performance parameters of many variants: one tuner state per variant, one filter step per
 * busy pod per cycle ({@link tuneCycle}). The controller and the simulator keep a {@link LearnedParameters}
 * between cycles and feed it the pods' observations. Pure code (plain data in and out).
 */
import type { ServiceParams } from "../../types/decision.js";
import { isValidObservation, tuneCycle, type TunerObservation, type TunerState } from "./tuner.js";

/** Tuner states by variant key (`namespace/name`). */
export type LearnedStates = Record<string, TunerState>;

export interface LearnResult {
  /** Variant keys whose state changed this cycle. */
  changed: string[];
  /** Steps rejected this cycle, with the reason, per variant key. */
  rejected: Array<{ variant: string; reason: string }>;
}

export class LearnedParameters {
  private states: LearnedStates;

  constructor(initial: LearnedStates = {}) {
    this.states = { ...initial };
  }

  /** The learned parameters of a variant, if any. */
  params(variant: string): ServiceParams | undefined {
    const s = this.states[variant];
    return s && { ...s.params };
  }

  /** Every state (a copy): what to persist. */
  snapshot(): LearnedStates {
    return structuredClone(this.states);
  }

  /** Sets (or seeds) a variant's state, e.g. from a configured starting point. */
  set(variant: string, state: TunerState): void {
    this.states[variant] = structuredClone(state);
  }

  /** One tuner cycle per variant over its busy pods' observations. */
  learn(observations: ReadonlyMap<string, readonly TunerObservation[]>): LearnResult {
    const out: LearnResult = { changed: [], rejected: [] };
    for (const [variant, obs] of observations) {
      if (!obs.some(isValidObservation)) continue;
      const before = this.states[variant];
      const { state, steps } = tuneCycle(before, obs);
      for (const s of steps) if (!s.accepted) out.rejected.push({ variant, reason: s.reason ?? "rejected" });
      if (before === undefined || steps.some((s) => s.accepted)) {
        this.states[variant] = state;
        out.changed.push(variant);
      }
    }
    return out;
  }
}
