export * from "./constants.js";
export * from "./types.js";
export * from "./crd.js";
export type { JSONSchemaProps, Static } from "./schema-builder.js";
export * from "./validate.js";
