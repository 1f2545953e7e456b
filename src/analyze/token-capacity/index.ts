export * from "./analyze.js";
export * from "./store.js";
export * from "./vllm-args.js";
