/**
 * Bounded timers. Node's timers hold the delay in a signed 32-bit integer: a delay above 2^31-1 ms
 * (about 24.8 days) is replaced by 1 ms with only a warning, so a long setting would turn into a busy
 * loop. Every timer whose delay comes from a setting, a scenario or a snapshot goes through these
 * helpers, which refuse such delays instead.
 */

/** The largest delay Node's timers honour, in milliseconds (2^31-1, about 24.8 days). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** A delay that is not a finite number in [0, MAX_TIMER_DELAY_MS]; `field` names where it came from. */
export class TimerDelayError extends RangeError {
  constructor(
    readonly field: string,
    readonly delayMs: number,
  ) {
    super(
      `${field}: must be a finite delay between 0 and ${MAX_TIMER_DELAY_MS} ms (about 24.8 days), got ${delayMs}`,
    );
    this.name = "TimerDelayError";
  }
}

/** Returns `delayMs` when a timer can honour it; throws TimerDelayError naming `field` otherwise. */
export function checkTimerDelay(delayMs: number, field: string): number {
  if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > MAX_TIMER_DELAY_MS) {
    throw new TimerDelayError(field, delayMs);
  }
  return delayMs;
}

/** `setTimeout` that refuses a delay Node would not honour. */
export function boundedTimeout(fn: () => void, delayMs: number, field: string): NodeJS.Timeout {
  return setTimeout(fn, checkTimerDelay(delayMs, field));
}

/** `setInterval` that refuses a period Node would not honour. */
export function boundedInterval(fn: () => void, periodMs: number, field: string): NodeJS.Timeout {
  return setInterval(fn, checkTimerDelay(periodMs, field));
}

/** A promise resolved after `delayMs` (refused when Node would not honour it). */
export function sleep(delayMs: number, field = "delay"): Promise<void> {
  return new Promise((resolve) => boundedTimeout(resolve, delayMs, field));
}
