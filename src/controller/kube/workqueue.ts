/**
 * A rate-limited work queue in the style of client-go's: a key is queued at most once, a key being
 * processed is not handed to a second worker (it is re-queued when done if it was added meanwhile),
 * failures are retried with a per-key exponential back-off, and an overall token bucket bounds the
 * retry rate.
 */
export interface RateLimiterOptions {
  /** First per-key retry delay (ms); doubles per failure. */
  baseDelayMs?: number;
  /** Cap of the per-key delay (ms). */
  maxDelayMs?: number;
  /** Overall retries per second (token bucket refill rate). */
  qps?: number;
  /** Token bucket size. */
  burst?: number;
}

export class RateLimiter {
  private readonly failures = new Map<string, number>();
  private tokens: number;
  private last = Date.now();
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly qps: number;
  private readonly burst: number;

  constructor(opts: RateLimiterOptions = {}) {
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 1000_000;
    this.qps = opts.qps ?? 10;
    this.burst = opts.burst ?? 100;
    this.tokens = this.burst;
  }

  /** Delay before the next retry of `key` (the larger of the per-key and the bucket delay). */
  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const perKey = Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs);
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    const bucket = this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
    return Math.max(perKey, bucket);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly waiting = new Map<string, NodeJS.Timeout>();
  private readonly getters: Array<(key: string | undefined) => void> = [];
  private shuttingDown = false;
  readonly limiter: RateLimiter;

  constructor(opts: RateLimiterOptions = {}) {
    this.limiter = new RateLimiter(opts);
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const getter = this.getters.shift();
    if (getter) {
      this.dirty.delete(key);
      this.processing.add(key);
      getter(key);
    } else {
      this.queue.push(key);
    }
  }

  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    if (this.waiting.has(key)) return;
    const t = setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, delayMs);
    this.waiting.set(key, t);
  }

  addRateLimited(key: string): void {
    this.addAfter(key, this.limiter.when(key));
  }

  forget(key: string): void {
    this.limiter.forget(key);
  }

  get length(): number {
    return this.queue.length;
  }

  /** Next key to process, or undefined once the queue shuts down. Call `done(key)` afterwards. */
  get(): Promise<string | undefined> {
    if (this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  shutdown(): void {
    this.shuttingDown = true;
    for (const t of this.waiting.values()) clearTimeout(t);
    this.waiting.clear();
    for (const g of this.getters.splice(0)) g(undefined);
  }

  /** True when nothing is queued, waiting for a retry or being processed. */
  get idle(): boolean {
    return this.queue.length === 0 && this.processing.size === 0 && this.waiting.size === 0;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }
}

/**
 * Runs `workers` loops taking keys from the queue; a thrown error re-queues the key rate-limited,
 * success forgets its failure history. Resolves when the queue shuts down and workers are idle.
 */
export async function runWorkers(
  queue: WorkQueue,
  workers: number,
  handle: (key: string) => Promise<void>,
  onError: (key: string, err: unknown) => void = () => {},
): Promise<void> {
  const loop = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await handle(key);
        queue.forget(key);
      } catch (err) {
        onError(key, err);
        if (!queue.isShuttingDown) queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, workers) }, loop));
}
