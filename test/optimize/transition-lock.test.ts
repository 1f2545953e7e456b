import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { transitionLock } from "../../src/optimize/transition-lock.js";
import { emptyTransitionState } from "../../src/types/decision.js";

const KEY = "m|ns";
const T0 = 1_000_000;
const MIN = 60_000;
const pending = (...d: string[]) => ({ inTransition: true, pendingDecisions: d });

describe("transition lock bookkeeping (docs/design/target-calculation.md)", () => {
  it("records the first time, keeps it for the same decision and releases at the timeout", () => {
    const a = transitionLock(KEY, pending("v1=4"), { now: T0, timeoutMs: 10 * MIN });
    assert.deepEqual([a.inTransition, a.released, a.since], [true, false, T0]);
    const b = transitionLock(KEY, pending("v1=4"), {
      now: T0 + 9 * MIN,
      timeoutMs: 10 * MIN,
      state: a.state,
    });
    assert.deepEqual([b.released, b.since], [false, T0]);
    assert.equal(b.state, a.state, "unchanged bookkeeping is returned as is");
    const c = transitionLock(KEY, pending("v1=4"), {
      now: T0 + 10 * MIN,
      timeoutMs: 10 * MIN,
      state: b.state,
    });
    assert.deepEqual([c.released, c.since], [true, T0]);
  });

  it("a new decision restarts the clock; a timeout <= 0 never releases", () => {
    const a = transitionLock(KEY, pending("v1=4"), { now: T0 });
    const b = transitionLock(KEY, pending("v1=5"), { now: T0 + 20 * MIN, state: a.state });
    assert.deepEqual([b.released, b.since], [false, T0 + 20 * MIN]);
    const c = transitionLock(KEY, pending("v1=5"), { now: T0 + 999 * MIN, timeoutMs: 0, state: b.state });
    assert.equal(c.released, false);
  });

  it("leaving the transition forgets the record without touching the input or other groups", () => {
    const start = emptyTransitionState();
    const a = transitionLock(KEY, pending("v1=4"), { now: T0, state: start });
    const other = transitionLock("x|ns", pending("w=2"), { now: T0, state: a.state });
    const done = transitionLock(
      KEY,
      { inTransition: false, pendingDecisions: [] },
      { now: T0 + MIN, state: other.state },
    );
    assert.deepEqual(done.state, { firstSeen: { "x|ns": T0 }, decisions: { "x|ns": "w=2" } });
    assert.deepEqual(start, emptyTransitionState(), "input state not modified");
    assert.deepEqual(a.state.firstSeen, { [KEY]: T0 });
  });
});
