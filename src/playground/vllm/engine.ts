/**
 * The vLLM emulator's performance model: continuous batching with a maximum batch size, a KV-cache block
 * budget, a FIFO waiting queue and the iteration-time law of the model-based optimizer (milliseconds):
 *
 *   T_iter = alpha + Σ_prefilling (beta + gamma)·ctx + Σ_decoding (beta + gamma·ctx)
 *
 * where ctx is the tokens a request already holds: its prompt (plus, after a preemption, the tokens it
 * had generated) when it is prefilled, prompt + generated tokens when it decodes. An admitted request is
 * prefilled in its first iteration, which also produces its first token (so TTFT is the wait plus that
 * iteration); each later iteration produces one more token. A request of `in` prompt and `out` output
 * tokens thus takes part in `out` iterations, and its decode iterations read on average `in + out/2`
 * cached tokens. Averaged over a batch of n requests this is the optimizer's law
 * (`src/analyze/queueing-model/performance.ts`): prefill = T(n) + (beta + gamma)·in, ITL = T(n) + beta +
 * gamma·(in + out/2), with T(n) = alpha + n·(beta·(in+out)/(out+1) + gamma·(in+out/2)); see
 * docs/user-guide/emulator-and-load.md.
 *
 * New requests join at iteration boundaries. Each request holds ceil(tokens/blockSize) KV blocks for its
 * prompt, the tokens generated so far and the one the current iteration produces; when a running request
 * needs a block and none is free, the most recently admitted request is preempted (its blocks freed, it
 * goes back to the head of the queue and is prefilled again with the tokens it had generated).
 *
 * Time is driven from outside through `advance(t)` with milliseconds of an injectable clock: the HTTP emulator
 * drives it from the wall clock, `wva simulate` from its event queue (`nextEventTime()` says when the next
 * iteration ends), and tests in virtual time. There is one performance model for all of them.
 */

export interface EngineConfig {
  /** Max concurrently running requests (vLLM --max-num-seqs). */
  maxBatch: number;
  /** Total KV-cache blocks (num_gpu_blocks). */
  kvBlocks: number;
  /** Tokens per KV block. */
  blockSize: number;
  /** Iteration-time parameters, ms and ms per token. */
  alpha: number;
  beta: number;
  gamma: number;
  /** Max waiting requests; further requests are rejected. */
  maxQueue: number;
}

/** The speed and size of one replica: the engine configuration without the queue bound. */
export type PerformanceParams = Omit<EngineConfig, "maxQueue">;

export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  maxBatch: 64,
  kvBlocks: 2000,
  blockSize: 16,
  alpha: 5,
  beta: 0.05,
  gamma: 0.0005,
  maxQueue: 1000,
};

export interface RequestSpec {
  inputTokens: number;
  outputTokens: number;
}

export interface RequestEvents {
  /** A token was produced at time `t` (ms); `index` counts from 1. */
  onToken?(index: number, t: number): void;
  onDone?(r: CompletedRequest): void;
  onError?(err: Error): void;
}

export interface CompletedRequest {
  id: number;
  inputTokens: number;
  outputTokens: number;
  arrival: number;
  firstToken: number;
  finish: number;
  /** Durations in ms. */
  ttft: number;
  e2e: number;
}

/** Hooks for metrics: called on every state change. */
export interface EngineObserver {
  onComplete?(r: CompletedRequest): void;
  /** Inter-token gap of one request (ms). */
  onTokenGap?(gapMs: number): void;
  onPromptQueried?(tokens: number): void;
}

interface Req {
  id: number;
  spec: RequestSpec;
  events: RequestEvents;
  arrival: number;
  /** Tokens generated so far. */
  generated: number;
  /** Whether the prefill iteration is done for the current admission. */
  prefilled: boolean;
  blocks: number;
  firstToken?: number;
  lastToken?: number;
  admitSeq: number;
}

export class EngineError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface EngineStats {
  time: number;
  running: number;
  waiting: number;
  usedBlocks: number;
  kvUsage: number;
  completed: number;
  rejected: number;
  preempted: number;
  iterations: number;
}

export class VllmEngine {
  readonly config: EngineConfig;
  private time: number;
  private readonly waiting: Req[] = [];
  private readonly running: Req[] = [];
  private usedBlocks = 0;
  private iterationEnd: number | undefined;
  private nextId = 1;
  private admitSeq = 0;
  private completed = 0;
  private rejected = 0;
  private preempted = 0;
  private iterations = 0;
  private paused = false;
  private pausedAt = 0;

  constructor(
    config: Partial<EngineConfig> = {},
    startTime = 0,
    private readonly observer: EngineObserver = {},
  ) {
    this.config = { ...DEFAULT_ENGINE_CONFIG, ...config };
    validateEngineConfig(this.config);
    this.time = startTime;
  }

  /** Duration (ms) of an iteration over the running requests in their current state. */
  private iterationTime(): number {
    const { alpha, beta, gamma } = this.config;
    let t = alpha;
    for (const r of this.running) {
      const context = r.spec.inputTokens + r.generated;
      t += r.prefilled ? beta + gamma * context : (beta + gamma) * context;
    }
    return t;
  }

  /** Submits a request at the current engine time. Throws EngineError when it cannot ever fit or the queue is full. */
  submit(spec: RequestSpec, events: RequestEvents = {}): number {
    if (!Number.isInteger(spec.inputTokens) || spec.inputTokens < 1) {
      throw new EngineError(`inputTokens must be an integer >= 1, got ${spec.inputTokens}`, 400);
    }
    if (!Number.isInteger(spec.outputTokens) || spec.outputTokens < 1) {
      throw new EngineError(`outputTokens must be an integer >= 1, got ${spec.outputTokens}`, 400);
    }
    const maxTokens = this.config.kvBlocks * this.config.blockSize;
    if (spec.inputTokens + spec.outputTokens > maxTokens) {
      this.rejected++;
      throw new EngineError(
        `request needs ${spec.inputTokens + spec.outputTokens} tokens, more than the KV cache holds (${maxTokens})`,
        400,
      );
    }
    if (this.waiting.length >= this.config.maxQueue) {
      this.rejected++;
      throw new EngineError(`waiting queue is full (${this.config.maxQueue} requests)`, 429);
    }
    this.observer.onPromptQueried?.(spec.inputTokens);
    const r: Req = {
      id: this.nextId++,
      spec,
      events,
      arrival: this.time,
      generated: 0,
      prefilled: false,
      blocks: 0,
      admitSeq: 0,
    };
    this.waiting.push(r);
    if (this.iterationEnd === undefined) this.startIteration();
    return r.id;
  }

  /** Processes every iteration that ends at or before `t` and moves the engine time to `t`. */
  advance(t: number): void {
    while (!this.paused && this.iterationEnd !== undefined && this.iterationEnd <= t) {
      this.time = this.iterationEnd;
      this.finishIteration();
      this.startIteration();
    }
    if (t > this.time) this.time = t;
  }

  /** Time (ms) at which the current iteration ends, or undefined when idle or paused. */
  nextEventTime(): number | undefined {
    return this.paused ? undefined : this.iterationEnd;
  }

  now(): number {
    return this.time;
  }

  /** Freezes the engine: no iteration completes until resume(). Queue and KV use stay as they are. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.pausedAt = this.time;
  }

  /** Continues; the iteration that was running when paused is shifted by the paused time. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.iterationEnd !== undefined) this.iterationEnd += this.time - this.pausedAt;
  }

  isPaused(): boolean {
    return this.paused;
  }

  /** Removes one request (client went away); frees its blocks. Returns false when it is unknown or done. */
  cancel(id: number): boolean {
    for (const list of [this.waiting, this.running]) {
      const idx = list.findIndex((r) => r.id === id);
      if (idx < 0) continue;
      const [r] = list.splice(idx, 1);
      this.usedBlocks -= r.blocks;
      r.blocks = 0;
      if (this.running.length === 0 && this.waiting.length === 0) this.iterationEnd = undefined;
      return true;
    }
    return false;
  }

  /** Fails every request (shutdown). */
  abortAll(reason: string): void {
    const all = [...this.running, ...this.waiting];
    this.running.length = 0;
    this.waiting.length = 0;
    this.usedBlocks = 0;
    this.iterationEnd = undefined;
    for (const r of all) r.events.onError?.(new EngineError(reason, 503));
  }

  stats(): EngineStats {
    return {
      time: this.time,
      running: this.running.length,
      waiting: this.waiting.length,
      usedBlocks: this.usedBlocks,
      kvUsage: this.usedBlocks / this.config.kvBlocks,
      completed: this.completed,
      rejected: this.rejected,
      preempted: this.preempted,
      iterations: this.iterations,
    };
  }

  private blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.config.blockSize);
  }

  private startIteration(): void {
    this.admit();
    if (this.running.length === 0) {
      this.iterationEnd = undefined;
      return;
    }
    this.reserveNextTokens();
    this.iterationEnd = this.time + this.iterationTime();
    this.iterations++;
  }

  /** Admits waiting requests (FIFO) while the batch has room and the KV cache holds their prompt + 1 token. */
  private admit(): void {
    while (this.waiting.length > 0 && this.running.length < this.config.maxBatch) {
      const r = this.waiting[0];
      const need = this.blocksFor(r.spec.inputTokens + r.generated + 1);
      if (this.usedBlocks + need > this.config.kvBlocks) break;
      this.waiting.shift();
      r.blocks = need;
      r.prefilled = false;
      r.admitSeq = ++this.admitSeq;
      this.usedBlocks += need;
      this.running.push(r);
    }
  }

  /** Makes sure every running request has a block for the token this iteration produces; preempts if not. */
  private reserveNextTokens(): void {
    for (let i = 0; i < this.running.length; i++) {
      const r = this.running[i];
      let need = this.blocksFor(r.spec.inputTokens + r.generated + 1) - r.blocks;
      while (need > 0 && this.usedBlocks + need > this.config.kvBlocks) {
        const victim = this.running.reduce((a, b) => (b.admitSeq > a.admitSeq ? b : a));
        this.preemptRequest(victim);
        if (victim === r) {
          need = 0;
          i--;
        }
      }
      if (need > 0 && this.running.includes(r)) {
        r.blocks += need;
        this.usedBlocks += need;
      }
    }
  }

  private preemptRequest(r: Req): void {
    const idx = this.running.indexOf(r);
    if (idx < 0) return;
    this.running.splice(idx, 1);
    this.usedBlocks -= r.blocks;
    r.blocks = 0;
    r.prefilled = false;
    this.waiting.unshift(r);
    this.preempted++;
  }

  private finishIteration(): void {
    const t = this.time;
    const done: Req[] = [];
    for (const r of this.running) {
      r.prefilled = true;
      r.generated++;
      if (r.firstToken === undefined) r.firstToken = t;
      else if (r.lastToken !== undefined) this.observer.onTokenGap?.(t - r.lastToken);
      r.lastToken = t;
      r.events.onToken?.(r.generated, t);
      if (r.generated >= r.spec.outputTokens) done.push(r);
    }
    for (const r of done) {
      this.running.splice(this.running.indexOf(r), 1);
      this.usedBlocks -= r.blocks;
      r.blocks = 0;
      this.completed++;
      const c: CompletedRequest = {
        id: r.id,
        inputTokens: r.spec.inputTokens,
        outputTokens: r.spec.outputTokens,
        arrival: r.arrival,
        firstToken: r.firstToken ?? t,
        finish: t,
        ttft: (r.firstToken ?? t) - r.arrival,
        e2e: t - r.arrival,
      };
      this.observer.onComplete?.(c);
      r.events.onDone?.(c);
    }
  }
}

/** Checks an engine configuration; throws naming the field and the rule. */
export function validateEngineConfig(c: EngineConfig): void {
  const intMin = (field: keyof EngineConfig, min: number) => {
    const v = c[field];
    if (!Number.isInteger(v) || v < min)
      throw new EngineError(`${field} must be an integer >= ${min}, got ${v}`, 400);
  };
  intMin("maxBatch", 1);
  intMin("kvBlocks", 1);
  intMin("blockSize", 1);
  intMin("maxQueue", 0);
  for (const f of ["alpha", "beta", "gamma"] as const) {
    if (!Number.isFinite(c[f]) || c[f] < 0)
      throw new EngineError(`${f} must be a number >= 0, got ${c[f]}`, 400);
  }
  if (c.alpha === 0 && c.beta === 0 && c.gamma === 0) {
    throw new EngineError("alpha, beta and gamma must not all be 0 (iterations would take no time)", 400);
  }
}
