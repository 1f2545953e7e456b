/**
 * Analyzer of the queueing-model engine: the model's load (request rate and request size from the
 * replicas' metrics), its SLO targets (explicit, inferred from the parameters, or from the observed
 * latencies) and, per variant, the largest rate one replica serves within them. The saturation
 * figures (spare KV, saturated replicas) come with it, so the GPU limiter orders variants as for V1.
 * Pure code; see docs/design/model-based-optimizer.md.
 */
import type {
  AnalyzeInput,
  ModelAnalysis,
  ModelSizing,
  ReplicaMetric,
  VariantSizing,
  VariantState,
} from "../../types/decision.js";
import { compareNames, QUEUEING_MODEL } from "../../types/decision.js";
import { analyzeSaturation } from "../saturation.js";
import { QueueAnalyzer, sizedRatePerSec, type SloTargets } from "./analyzer.js";
import { resolveSloTargets } from "./slo.js";

/** Requests allowed to wait per batch slot in the sizing model (as in the allocation). */
export const QUEUE_PER_BATCH_SLOT = 10;
/** vLLM's default `--max-num-seqs`, used when a variant does not say. */
export const DEFAULT_MAX_BATCH_SIZE = 256;
/** SLO multiplier when the model has no SLO settings. */
const DEFAULT_MULTIPLIER = 3;

/** A replica's rate, request size and latencies, when it reported them. */
export function hasRate(r: ReplicaMetric): r is ReplicaMetric & { arrivalRatePerSec: number } {
  return (
    r.arrivalRatePerSec !== undefined && Number.isFinite(r.arrivalRatePerSec) && r.arrivalRatePerSec >= 0
  );
}

/** Sum of rates and rate-weighted averages over the replicas that report a rate. */
function modelLoad(replicas: readonly ReplicaMetric[]) {
  let rate = 0;
  let inTok = 0;
  let outTok = 0;
  let ttft = 0;
  let itl = 0;
  let latencyRate = 0;
  for (const r of replicas) {
    if (!hasRate(r)) continue;
    const w = r.arrivalRatePerSec;
    rate += w;
    inTok += w * (r.avgInputTokens ?? 0);
    outTok += w * (r.avgOutputTokens ?? 0);
    if ((r.ttftMs ?? 0) > 0 && (r.itlMs ?? 0) > 0) {
      ttft += w * r.ttftMs!;
      itl += w * r.itlMs!;
      latencyRate += w;
    }
  }
  return {
    arrivalRatePerSec: rate,
    avgInputTokens: rate > 0 ? inTok / rate : 0,
    avgOutputTokens: rate > 0 ? outTok / rate : 0,
    observed: latencyRate > 0 ? { ttftMs: ttft / latencyRate, itlMs: itl / latencyRate } : undefined,
  };
}

/** Sized capacity of one replica of `v` (req/s), or why it has none. */
function sizeVariant(
  v: VariantState,
  load: { avgInputTokens: number; avgOutputTokens: number },
  targets: SloTargets,
): VariantSizing {
  if (!v.parameters) return { variant: v.name, infeasible: "no performance parameters (alpha, beta, gamma)" };
  const n = v.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
  try {
    const analyzer = new QueueAnalyzer({
      maxBatchSize: n,
      maxQueueSize: n * QUEUE_PER_BATCH_SLOT,
      params: v.parameters,
      request: { inputTokens: load.avgInputTokens, outputTokens: Math.max(load.avgOutputTokens, 1) },
    });
    return { variant: v.name, ratePerReplicaPerSec: sizedRatePerSec(analyzer, targets) };
  } catch (err) {
    return { variant: v.name, infeasible: (err as Error).message };
  }
}

/**
 * The rate at which the requests waiting at the replicas must be taken up to start within the TTFT
 * target: Σ waiting / TTFT target (req/s); 0 without waiting requests or without a TTFT target. The
 * replicas report their largest queue of the metrics window, so a burst inside the window counts.
 */
export function backlogRatePerSec(replicas: readonly ReplicaMetric[], ttftTargetMs: number): number {
  if (!(ttftTargetMs > 0)) return 0;
  let waiting = 0;
  for (const r of replicas) if (r.queueLength > 0) waiting += r.queueLength;
  return waiting / (ttftTargetMs / 1000);
}

/** The queueing-model analysis of one model group. */
export function analyzeQueueingModel(input: AnalyzeInput): ModelAnalysis {
  const names = new Set(input.variants.map((v) => v.name));
  const replicas = input.replicas.filter((r) => names.has(r.variant));
  const analysis = analyzeSaturation(replicas, input.config, input);
  const load = modelLoad(replicas);
  const variants = [...input.variants].sort((a, b) => compareNames(a.name, b.name));
  const sizing: ModelSizing = {
    arrivalRatePerSec: load.arrivalRatePerSec,
    avgInputTokens: load.avgInputTokens,
    avgOutputTokens: load.avgOutputTokens,
    variants: [],
  };
  analysis.analyzer = QUEUEING_MODEL;
  analysis.sizing = sizing;
  if (!replicas.some(hasRate)) {
    sizing.noDecision = "no request-rate metrics for the model";
    return analysis;
  }
  const resolved = resolveSloTargets({
    explicit: input.slo?.targets,
    sloMultiplier: input.slo?.sloMultiplier ?? DEFAULT_MULTIPLIER,
    params: variants.flatMap((v) => (v.parameters ? [v.parameters] : [])),
    avgInputTokens: load.avgInputTokens,
    avgOutputTokens: load.avgOutputTokens,
    observed: load.observed,
  });
  if ("error" in resolved) {
    sizing.noDecision = resolved.error;
    return analysis;
  }
  sizing.targets = resolved;
  const backlog = backlogRatePerSec(replicas, resolved.ttftMs);
  if (backlog > 0) {
    sizing.backlogRatePerSec = backlog;
    sizing.arrivalRatePerSec += backlog;
  }
  if (load.arrivalRatePerSec > 0 && load.avgOutputTokens > 0)
    sizing.variants = variants.map((v) => sizeVariant(v, load, resolved));
  else sizing.variants = variants.map((v) => ({ variant: v.name }));
  return analysis;
}
