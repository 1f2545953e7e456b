/**
 * Public API of the decision engine: plain data in, decisions with their records out. Nothing here
 * depends on Kubernetes or HTTP.
 */
export * from "./types.js";
export {
  decideCycle,
  decideModel,
  summarizeReason,
  STEP_ENFORCER,
  STEP_TARGETS,
  type CycleInput,
  type CycleResult,
  type EngineOptions,
  type ModelInput,
  type ModelResult,
} from "./pipeline.js";
export { groupByModel, groupKey, type ModelGroup } from "./grouping.js";
export { decide, decideSnapshotDetailed, snapshotModels, type DecideOutput } from "./decide.js";
export { parseSnapshotText, validateSnapshot, SnapshotError, type Snapshot } from "./snapshot.js";
export { analyzeSaturation, type AnalyzeOptions } from "../analyze/saturation.js";
export {
  calculateTargets,
  actionOf,
  pendingReplicas,
  type TargetResult,
  type VariantTarget,
} from "../optimize/targets.js";
export { enforceScaleToZero, type EnforcerResult, type EnforcerTarget } from "../enforce/scale-to-zero.js";
export {
  modelRequestCountQuery,
  requestCountFrom,
  scaleToZeroInput,
  type QueryOutcome,
} from "../enforce/request-count.js";
export {
  applyGpuLimiter,
  greedyBySaturation,
  usedGpus,
  GPU_LIMITER,
  GREEDY_BY_SATURATION,
} from "../limit/limiter.js";
export {
  GpuInventory as ClusterGpuInventory,
  GpuAllocator,
  type GpuNode,
  type InventoryDiscovery,
} from "../limit/inventory.js";
export { normalizeAcceleratorName } from "../limit/accelerator.js";
