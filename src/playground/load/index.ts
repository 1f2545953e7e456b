// Public surface of the load generator.
export * from "./patterns.js";
export * from "./runner.js";
