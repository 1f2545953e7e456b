// Public surface of the vLLM emulator.
export {
  VllmEmulator,
  countTokens,
  type VllmEmulatorOptions,
  type EmulatorStats,
  type ListenOptions,
} from "./server.js";
export {
  VllmEngine,
  EngineError,
  DEFAULT_ENGINE_CONFIG,
  validateEngineConfig,
  type EngineConfig,
  type PerformanceParams,
  type EngineStats,
  type RequestSpec,
  type CompletedRequest,
} from "./engine.js";
export { EmulatorMetrics } from "./metrics.js";
