import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { arrivalTimes, timeline } from "../../src/playground/runner/timeline.js";

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

  it("constant arrivals: rate x duration requests per step, evenly spaced", () => {
    const a = arrivalTimes(steps, "constant");
    assert.equal(a.length, 2 * 30 + 20 * 60 + 5 * 10);
    assert.equal(a[1] - a[0], 500);
    assert.equal(a[60], 30_000);
    assert.ok(a.every((t, i) => i === 0 || t > a[i - 1]));
  });

  it("Poisson arrivals stay inside their step and average the step's rate", () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const a = arrivalTimes(
      [
        { rate: 50, durationMs: 100_000 },
        { rate: 0, durationMs: 10_000 },
      ],
      "poisson",
      random,
    );
    // 5,000 expected; a Poisson count has standard deviation ~71, so +-5 % is over 3 sigma.
    assert.ok(Math.abs(a.length - 5000) < 250, `count ${a.length}`);
    assert.ok(a.every((t) => t >= 0 && t < 100_000));
  });
});
