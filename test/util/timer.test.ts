import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  MAX_TIMER_DELAY_MS,
  PeriodicTask,
  type PeriodicTaskOptions,
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

describe("periodic task", () => {
  /** Lets the promise callbacks of a finished run settle. */
  const settle = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  const periodic = (run: () => Promise<void>, over: Partial<PeriodicTaskOptions> = {}) =>
    new PeriodicTask({
      field: "test interval",
      intervalMs: 1000,
      retryMs: 100,
      maxRetryMs: 100,
      run,
      onError: () => undefined,
      ...over,
    });

  it("waits the interval after each run, backs off after failures and resets after a success", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const outcomes = [false, false, false, true, true];
    const starts: number[] = [];
    const retries: number[] = [];
    let now = 0;
    const task = periodic(
      async () => {
        starts.push(now);
        if (!(outcomes.shift() ?? true)) throw new Error("boom");
      },
      { maxRetryMs: 300, onError: (_err, retryIn) => retries.push(retryIn) },
    );
    const tick = async (ms: number) => {
      now += ms;
      t.mock.timers.tick(ms);
      await settle();
    };
    task.start();
    await tick(0);
    await tick(100);
    await tick(200);
    await tick(300); // capped at maxRetryMs
    await tick(999);
    assert.deepEqual(starts, [0, 100, 300, 600], "the success resets the delay to the interval");
    await tick(1);
    assert.deepEqual(starts, [0, 100, 300, 600, 1600]);
    assert.deepEqual(retries, [100, 200, 300]);
    await task.stop();
    await tick(5000);
    assert.equal(starts.length, 5, "no run after stop()");
  });

  it("stop() waits for the run in progress; setInterval restarts the wait", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    let release: () => void = () => undefined;
    let runs = 0;
    const task = periodic(() => {
      runs++;
      return new Promise<void>((r) => (release = r));
    });
    task.start();
    t.mock.timers.tick(0);
    assert.equal(runs, 1);
    let stopped = false;
    const stopping = task.stop().then(() => (stopped = true));
    await settle();
    assert.equal(stopped, false, "stop() waits for the run");
    release();
    await stopping;
    assert.equal(stopped, true);

    const again = periodic(async () => {
      runs++;
    });
    again.start();
    t.mock.timers.tick(0);
    await settle();
    assert.equal(runs, 2);
    again.setInterval(50);
    assert.equal(again.interval, 50);
    t.mock.timers.tick(50);
    await settle();
    assert.equal(runs, 3, "the new interval applies to the wait in progress");
    assert.throws(() => again.setInterval(2 ** 31), /test interval: must be a finite delay/);
    await again.stop();
  });
});
