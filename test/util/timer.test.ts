import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  MAX_TIMER_DELAY_MS,
  TimerDelayError,
  boundedInterval,
  boundedTimeout,
  checkTimerDelay,
  sleep,
} from "../../src/util/timer.js";

describe("bounded timers", () => {
  it("refuse delays Node would turn into 1 ms, naming the field", () => {
    for (const bad of [MAX_TIMER_DELAY_MS + 1, 600 * 3_600_000, Infinity, NaN, -1]) {
      assert.throws(
        () => boundedTimeout(() => assert.fail("must not run"), bad, "GLOBAL_OPT_INTERVAL"),
        (e: unknown) =>
          e instanceof TimerDelayError && /^GLOBAL_OPT_INTERVAL: must be a finite delay/.test(e.message),
        String(bad),
      );
      assert.throws(() => boundedInterval(() => undefined, bad, "period"), TimerDelayError);
    }
    assert.equal(checkTimerDelay(MAX_TIMER_DELAY_MS, "x"), MAX_TIMER_DELAY_MS);
  });

  it("run callbacks after an accepted delay", async () => {
    const started = Date.now();
    await sleep(20);
    assert.ok(Date.now() - started >= 15);
    let ticks = 0;
    await new Promise<void>((resolve) => {
      const t = boundedInterval(
        () => {
          if (++ticks === 2) {
            clearInterval(t);
            resolve();
          }
        },
        5,
        "period",
      );
    });
    assert.equal(ticks, 2);
  });
});
