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

export interface PeriodicTaskOptions {
  /** Names the delay in TimerDelayError. */
  field: string;
  /** Delay between the end of one successful run and the start of the next, ms. */
  intervalMs: number;
  /** Delay after a failed run, ms; it doubles with each further failure up to `maxRetryMs`. */
  retryMs: number;
  maxRetryMs: number;
  run(): Promise<void>;
  /** Told about a failed run and when the next one starts. */
  onError(err: unknown, retryInMs: number): void;
}

/**
 * A task run again and again: the next run starts `intervalMs` after the previous one ended (runs never
 * overlap), sooner after a failure with a doubling back-off. `stop()` waits for a run in progress.
 */
export class PeriodicTask {
  private timer?: NodeJS.Timeout;
  private running = false;
  private current?: Promise<void>;
  private intervalMs: number;
  private retryMs: number;

  constructor(private readonly opts: PeriodicTaskOptions) {
    this.intervalMs = checkTimerDelay(opts.intervalMs, opts.field);
    this.retryMs = opts.retryMs;
  }

  get interval(): number {
    return this.intervalMs;
  }

  /** Changes the interval; a wait in progress restarts with the new one. */
  setInterval(ms: number): void {
    checkTimerDelay(ms, this.opts.field);
    if (ms <= 0 || ms === this.intervalMs) return;
    this.intervalMs = ms;
    if (this.running && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.schedule(ms);
    }
  }

  /** Starts the first run at once; a second call does nothing. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.current?.catch(() => undefined);
  }

  private schedule(ms: number): void {
    this.timer = boundedTimeout(
      () => {
        this.current = this.opts.run().then(
          () => {
            this.retryMs = this.opts.retryMs;
            if (this.running) this.schedule(this.intervalMs);
          },
          (err: unknown) => {
            const delay = this.retryMs;
            this.retryMs = Math.min(this.retryMs * 2, this.opts.maxRetryMs);
            this.opts.onError(err, delay);
            if (this.running) this.schedule(delay);
          },
        );
      },
      ms,
      this.opts.field,
    );
  }
}
