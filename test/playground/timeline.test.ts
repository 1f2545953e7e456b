import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { timeline } from "../../src/playground/runner/timeline.js";

const steps = [
  { rate: 2, durationMs: 30_000 },
  { rate: 20, durationMs: 60_000 },
  { rate: 5, durationMs: 10_000 },
];

describe("load schedule timeline", () => {
  it("gives the rate of the step active at t, 0 outside the schedule", () => {
    const tl = timeline(steps);
    assert.equal(tl.durationMs, 100_000);
    assert.deepEqual(tl.starts, [0, 30_000, 90_000]);
    assert.equal(tl.rateAt(-1), 0);
    assert.equal(tl.rateAt(0), 2);
    assert.equal(tl.rateAt(29_999), 2);
    assert.equal(tl.rateAt(30_000), 20, "a step starts at its start time");
    assert.equal(tl.rateAt(89_999.5), 20);
    assert.equal(tl.rateAt(90_000), 5);
    assert.equal(tl.rateAt(100_000), 0, "the schedule ends after the last step");
    assert.equal(tl.stepAt(45_000), 1);
    assert.equal(tl.stepAt(100_001), -1);
  });

  it("an empty schedule has rate 0 everywhere", () => {
    const tl = timeline([]);
    assert.equal(tl.durationMs, 0);
    assert.equal(tl.rateAt(0), 0);
  });
});
