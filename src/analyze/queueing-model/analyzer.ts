/**
 * Queue analyzer of one replica: turns a request rate into TTFT, ITL and throughput, and sizes the
 * largest rate a replica serves within latency targets. Pure code.
 *
 * Unit conventions: names end in `PerSec` (requests per second), `PerMs` (requests per millisecond) or
 * `Ms` (milliseconds). Rates cross the API in requests per second; the queue works in requests per ms.
 */
import { prefillTimeMs, serviceRatesPerMs, type RequestSize, type ServiceParams } from "./performance.js";
import { solveStateDependentQueue, type QueueSolution } from "./queue.js";
import { bisect } from "./search.js";
import type { LatencyTargets } from "../../types/decision.js";

/** Fraction of the service-rate range cut at both ends of the admissible rates. */
export const RATE_RANGE_EPSILON = 0.001;
/** A throughput (TPS) target caps the rate at this fraction below the maximum. */
export const STABILITY_SAFETY_FRACTION = 0.1;

export interface QueueAnalyzerConfig {
  /** Requests served concurrently (vLLM `--max-num-seqs`), > 0. */
  maxBatchSize: number;
  /** Requests that may wait, >= 0. */
  maxQueueSize: number;
  params: ServiceParams;
  request: RequestSize;
}

export interface RateRangePerSec {
  minPerSec: number;
  maxPerSec: number;
}

/** What a replica delivers at a given request rate. */
export interface ReplicaMetrics {
  /** Completed requests per second (arrivals minus those refused by a full queue). */
  throughputPerSec: number;
  responseMs: number;
  waitMs: number;
  serviceMs: number;
  prefillMs: number;
  /** Inter-token latency. */
  itlMs: number;
  /** Wait + prefill + first decode: the TTFT the sizing search holds against its target. */
  ttftMs: number;
  /** Mean requests in service. */
  meanInService: number;
  /** Probability that the replica holds at least one request. */
  busyProbability: number;
  /** Batch occupancy, meanInService / maxBatchSize in [0, 1]. */
  utilization: number;
  /** Upper end of the admissible rate range. */
  maxRatePerSec: number;
}

/** Latency and throughput targets; 0 = not set. */
export interface SloTargets extends LatencyTargets {
  /** Tokens per second; caps the rate at 90 % of the maximum. */
  tps?: number;
}

export interface SizingResult {
  /** Largest rate meeting each target alone (req/s); the maximum rate where the target is unset. */
  ratePerSec: { ttft: number; itl: number; tps: number };
  /** Metrics at the binding rate; `throughputPerSec` is the sized capacity of one replica. */
  metrics: ReplicaMetrics;
  /** TTFT, ITL and tokens per second achieved at the binding rate. */
  achieved: { ttftMs: number; itlMs: number; tps: number };
}

export class QueueAnalyzer {
  readonly ratesPerMs: readonly number[];
  readonly rateRange: RateRangePerSec;
  private readonly capacity: number;

  constructor(readonly config: QueueAnalyzerConfig) {
    const { maxBatchSize, maxQueueSize, params, request } = config;
    if (!(Number.isInteger(maxBatchSize) && maxBatchSize > 0)) {
      throw new Error(`maxBatchSize: must be a positive integer, got ${maxBatchSize}`);
    }
    if (!(Number.isInteger(maxQueueSize) && maxQueueSize >= 0)) {
      throw new Error(`maxQueueSize: must be a non-negative integer, got ${maxQueueSize}`);
    }
    for (const k of ["alpha", "beta", "gamma"] as const) {
      if (!(params[k] >= 0) || !Number.isFinite(params[k])) {
        throw new Error(`params.${k}: must be a finite number >= 0, got ${params[k]}`);
      }
    }
    if (!(request.inputTokens >= 0)) throw new Error(`inputTokens: must be >= 0, got ${request.inputTokens}`);
    if (!(request.outputTokens >= 1))
      throw new Error(`outputTokens: must be >= 1, got ${request.outputTokens}`);
    this.capacity = maxBatchSize + maxQueueSize;
    this.ratesPerMs = serviceRatesPerMs(params, request, maxBatchSize);
    this.rateRange = {
      minPerSec: this.ratesPerMs[0] * RATE_RANGE_EPSILON * 1000,
      maxPerSec: this.ratesPerMs[maxBatchSize - 1] * (1 - RATE_RANGE_EPSILON) * 1000,
    };
  }

  /** Solves the queue at `lambdaPerMs`; throws when the replica has no steady state there. */
  private solve(lambdaPerMs: number): QueueSolution {
    const s = solveStateDependentQueue(lambdaPerMs, this.ratesPerMs, this.capacity);
    if (s === undefined) {
      throw new Error(
        `queue model has no solution at ${lambdaPerMs * 1000} req/s (capacity ${this.capacity} requests)`,
      );
    }
    return s;
  }

  private metricsAt(lambdaPerMs: number): ReplicaMetrics {
    const s = this.solve(lambdaPerMs);
    const { params, request, maxBatchSize } = this.config;
    const prefillMs = prefillTimeMs(params, request, s.meanInService);
    const itlMs = (s.serviceMs - prefillMs) / request.outputTokens;
    return {
      throughputPerSec: s.throughputPerMs * 1000,
      responseMs: s.responseMs,
      waitMs: s.waitMs,
      serviceMs: s.serviceMs,
      prefillMs,
      itlMs,
      ttftMs: s.waitMs + prefillMs + itlMs,
      meanInService: s.meanInService,
      busyProbability: s.busyProbability,
      utilization: Math.min(Math.max(s.meanInService / maxBatchSize, 0), 1),
      maxRatePerSec: this.rateRange.maxPerSec,
    };
  }

  /** Metrics at `ratePerSec` (req/s); throws for a rate <= 0 or above the admissible maximum. */
  analyze(ratePerSec: number): ReplicaMetrics {
    if (!(ratePerSec > 0)) throw new Error(`invalid request rate ${ratePerSec} req/s: must be > 0`);
    // Relative slack: a rate derived from the maximum (e.g. converted to req/ms and back) may exceed it
    // by a rounding error.
    if (ratePerSec > this.rateRange.maxPerSec * (1 + 1e-9)) {
      throw new Error(
        `rate=${ratePerSec} req/s exceeds the max allowed rate=${this.rateRange.maxPerSec} req/s`,
      );
    }
    return this.metricsAt(ratePerSec / 1000);
  }

  /**
   * The largest rate one replica serves with TTFT and ITL at or below their targets (0 = ignored);
   * a TPS target caps the rate at 90 % of the maximum. Throws for a negative target, and when a target
   * is below what the replica achieves even at the lowest admissible rate.
   */
  size(targets: SloTargets): SizingResult {
    const tps = targets.tps ?? 0;
    for (const [name, v] of [
      ["ttftMs", targets.ttftMs],
      ["itlMs", targets.itlMs],
      ["tps", tps],
    ] as const) {
      if (!(v >= 0)) throw new Error(`${name}: target must be >= 0, got ${v}`);
    }
    const lo = this.rateRange.minPerSec / 1000;
    const hi = this.rateRange.maxPerSec / 1000;
    const search = (target: number, metric: (m: ReplicaMetrics) => number, label: string): number => {
      if (target === 0) return hi;
      const r = bisect(lo, hi, target, (x) => metric(this.metricsAt(x)));
      if (r.indicator < 0) {
        throw new Error(
          `${label} target ${target} ms is below the bounded region: the replica exceeds it even at ` +
            `${this.rateRange.minPerSec.toPrecision(4)} req/s`,
        );
      }
      return r.x;
    };
    const lamTtft = search(targets.ttftMs, (m) => m.ttftMs, "TTFT");
    const lamItl = search(targets.itlMs, (m) => m.itlMs, "ITL");
    const lamTps = tps > 0 ? hi * (1 - STABILITY_SAFETY_FRACTION) : hi;
    const lam = Math.min(lamTtft, lamItl, lamTps);
    const metrics = this.metricsAt(lam);
    return {
      ratePerSec: { ttft: lamTtft * 1000, itl: lamItl * 1000, tps: lamTps * 1000 },
      metrics,
      achieved: {
        ttftMs: metrics.ttftMs,
        itlMs: metrics.itlMs,
        tps: metrics.throughputPerSec * this.config.request.outputTokens,
      },
    };
  }
}

/**
 * Entries of one generation of the sizing memo. When a generation is full it becomes the old one (the
 * previous old one is dropped), so what one cycle used survives into the next even beyond the limit.
 */
const SIZING_MEMO_LIMIT = 16_384;
let sizingMemo = new Map<string, number | Error>();
let oldSizingMemo = new Map<string, number | Error>();

/**
 * The sized capacity of one replica (req/s within the targets, {@link QueueAnalyzer.size}), memoised
 * per (batch, queue, parameters, request size, targets): sizing is two bisections over the queue model
 * and a cycle asks for the same replica again (analysis, then allocation). Throws as `size` does.
 */
export function sizedRatePerSec(analyzer: QueueAnalyzer, targets: SloTargets): number {
  const { maxBatchSize, maxQueueSize, params, request } = analyzer.config;
  const key = [
    maxBatchSize,
    maxQueueSize,
    params.alpha,
    params.beta,
    params.gamma,
    request.inputTokens,
    request.outputTokens,
    targets.ttftMs,
    targets.itlMs,
    targets.tps ?? 0,
  ].join(",");
  let r = sizingMemo.get(key) ?? oldSizingMemo.get(key);
  if (r === undefined) {
    try {
      r = analyzer.size(targets).metrics.throughputPerSec;
    } catch (err) {
      r = err as Error;
    }
  }
  if (!sizingMemo.has(key)) {
    if (sizingMemo.size >= SIZING_MEMO_LIMIT) {
      oldSizingMemo = sizingMemo;
      sizingMemo = new Map();
    }
    sizingMemo.set(key, r);
  }
  if (r instanceof Error) throw r;
  return r;
}
