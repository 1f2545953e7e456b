/** The decision vocabulary, re-exported for the callers of the engine (controller, configuration). */
export * from "../types/decision.js";
