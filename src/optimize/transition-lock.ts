import type { TransitionState } from "../types/decision.js";
import { DEFAULT_TRANSITION_TIMEOUT_MS } from "../types/decision.js";

/** Outcome of the transition lock for one model group in one cycle. */
export interface TransitionLock {
  inTransition: boolean;
  /** In transition for at least the timeout: decide from the current replicas instead of waiting. */
  released: boolean;
  /** When the model was first seen in its current transition (epoch ms), if in transition. */
  since?: number;
  /** Bookkeeping for the next cycle (the input object itself when nothing changed). */
  state: TransitionState;
}

/**
 * The transition lock of one model group (docs/design/target-calculation.md). A transition is identified
 * by its pending decisions (`variant=desired`, ...): the first cycle that sees it records the time, a new
 * decision restarts the clock, and once the model has been in transition for `timeoutMs` (<= 0 = never)
 * the lock is released. Leaving the transition forgets the record. Pure: `state` is never modified.
 */
export function transitionLock(
  key: string,
  transition: { inTransition: boolean; pendingDecisions: readonly string[] },
  opts: { now: number; timeoutMs?: number; state?: TransitionState },
): TransitionLock {
  const timeout = opts.timeoutMs ?? DEFAULT_TRANSITION_TIMEOUT_MS;
  const prevSeen = opts.state?.firstSeen ?? {};
  const prevDecisions = opts.state?.decisions ?? {};
  if (!transition.inTransition) {
    return { inTransition: false, released: false, state: withEntry(opts.state, key, undefined, undefined) };
  }
  const signature = transition.pendingDecisions.join(",");
  const known = prevSeen[key] !== undefined && (prevDecisions[key] ?? signature) === signature;
  const since = known ? prevSeen[key] : opts.now;
  return {
    inTransition: true,
    released: timeout > 0 && opts.now - since >= timeout,
    since,
    state: withEntry(opts.state, key, since, signature),
  };
}

/** Copy-on-write update of one group's entry; returns `state` itself when nothing changes. */
function withEntry(
  state: TransitionState | undefined,
  key: string,
  since: number | undefined,
  signature: string | undefined,
): TransitionState {
  const prevSeen = state?.firstSeen ?? {};
  const prevDecisions = state?.decisions ?? {};
  const seenSame = prevSeen[key] === since && (since !== undefined || !(key in prevSeen));
  const decisionsSame =
    prevDecisions[key] === signature && (signature !== undefined || !(key in prevDecisions));
  if (seenSame && decisionsSame && state !== undefined) return state;
  return {
    firstSeen: seenSame ? prevSeen : replaceKey(prevSeen, key, since),
    decisions: decisionsSame ? prevDecisions : replaceKey(prevDecisions, key, signature),
  };
}

function replaceKey<T>(rec: Record<string, T>, key: string, value: T | undefined): Record<string, T> {
  const copy = { ...rec };
  if (value === undefined) delete copy[key];
  else copy[key] = value;
  return copy;
}
