import { analyzeQueueingModel } from "../analyze/queueing-model/model-analysis.js";
import { analyzeSaturation } from "../analyze/saturation.js";
import { allocationTargets } from "../optimize/allocation/targets.js";
import { calculateTargets } from "../optimize/targets.js";
import type { AnalyzeInput, ModelAnalysis, Optimizer } from "../types/decision.js";
import { ANALYZER_NAMES, QUEUEING_MODEL } from "../types/decision.js";
import { analyzeTokens, optimizeTokens, type TokenCapacityContext } from "./token-capacity.js";

/** What the pipeline hands every analyzer besides its input: the state and inputs some engines need. */
export type EngineContext = TokenCapacityContext;

/**
 * A decision engine: the analyzer and the optimizer the pipeline runs for a model. The scale-to-zero
 * enforcer and the GPU limiter are shared by every engine. See docs/architecture.md.
 */
export interface DecisionEngine {
  analyze: (input: AnalyzeInput, ctx: EngineContext) => ModelAnalysis;
  optimize: Optimizer;
  /** How decision reasons name the engine's mode, e.g. "saturation-only mode: scale-up (...)". */
  mode: string;
}

/** V1: saturation analysis and cost-aware ±1 targets. */
const SATURATION_V1: DecisionEngine = {
  analyze: (input) => analyzeSaturation(input.replicas, input.config, input),
  optimize: calculateTargets,
  mode: "saturation-only",
};

/** SLO-driven: queueing-model sizing per variant, the cheapest allocation within the targets. */
const QUEUEING_MODEL_ENGINE: DecisionEngine = {
  analyze: analyzeQueueingModel,
  optimize: allocationTargets,
  mode: "model-based",
};

/** V2: token-capacity analysis and the cost-aware optimizer (src/engine/token-capacity.ts). */
const TOKEN_CAPACITY: DecisionEngine = {
  analyze: analyzeTokens,
  optimize: optimizeTokens,
  mode: "saturation-only",
};

/** Engines built into this version, by `analyzerName`. Adding an engine is one entry here. */
const ENGINES: Readonly<Record<string, DecisionEngine>> = Object.freeze({
  "": SATURATION_V1,
  default: SATURATION_V1,
  [QUEUEING_MODEL]: QUEUEING_MODEL_ENGINE,
  saturation: TOKEN_CAPACITY,
});

/** True when this version has an engine for the analyzer name. */
export function hasEngine(analyzerName: string): boolean {
  return Object.hasOwn(ENGINES, analyzerName);
}

/**
 * The engine of a model's `analyzerName`. A name the configuration accepts (ANALYZER_NAMES) but whose
 * engine is not built into this version runs V1, as the controller always did for it; `wva decide`
 * refuses such names instead (see {@link hasEngine}). Any other name is a programming error: the
 * configuration refuses it before it gets here.
 */
export function engineFor(analyzerName: string): DecisionEngine {
  if (hasEngine(analyzerName)) return ENGINES[analyzerName];
  if ((ANALYZER_NAMES as readonly string[]).includes(analyzerName)) return SATURATION_V1;
  throw new Error(`analyzerName: unknown analyzer "${analyzerName}"`);
}
