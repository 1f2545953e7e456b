/**
 * Validation of VariantAutoscaling objects against the CRD schema, the way the Kubernetes API server
 * treats a create or update of a custom resource:
 *
 * 1. unknown fields (not declared in the schema) are pruned and reported in `prunedFields`;
 *    with `{ rejectUnknownFields: true }` they are errors instead (like `kubectl --validate=strict`);
 * 2. `null` values of non-nullable fields are dropped;
 * 3. defaults are applied (`spec.variantCost` = "10.0");
 * 4. the object is validated; every violation is reported with its dotted path, e.g.
 *    `spec.scaleTargetRef.name: required`.
 *
 * The input is never modified: the pruned and defaulted object is returned as `object`.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { createRequire } from "node:module";
import { API_VERSION, KIND } from "./constants.js";
import type { JSONSchemaProps } from "./schema-builder.js";
import { VariantAutoscalingSchema, type VariantAutoscaling } from "./types.js";

export interface ValidationResult {
  valid: boolean;
  /** One line per violation: `<path>: <rule>`. Empty when valid. */
  errors: string[];
  /** Paths of unknown fields that were removed (or rejected with rejectUnknownFields). */
  prunedFields: string[];
  /** The object after pruning and defaulting. */
  object: VariantAutoscaling;
}

export interface ValidateOptions {
  /** Treat unknown fields as errors instead of pruning them. Default false (API-server behaviour). */
  rejectUnknownFields?: boolean;
}

// ajv-formats is CommonJS with a default export; createRequire avoids NodeNext interop pitfalls.
const require = createRequire(import.meta.url);
const addFormats = require("ajv-formats") as (ajv: Ajv, formats?: string[]) => Ajv;

function makeValidator(schema: JSONSchemaProps): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, strictRequired: false });
  addFormats(ajv, ["date-time"]);
  ajv.addFormat("int32", { type: "number", validate: (n: number) => n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isSafeInteger(n) });
  for (const keyword of [
    "x-kubernetes-map-type",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-preserve-unknown-fields",
  ]) {
    ajv.addKeyword({ keyword, schemaType: ["string", "array", "boolean"] });
  }
  return ajv.compile(schema);
}

let compiled: ValidateFunction | undefined;

function dotted(instancePath: string): string {
  if (instancePath === "") return "";
  return instancePath
    .slice(1)
    .split("/")
    .map((seg) => seg.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`))
    .join("")
    .replace(/^\./, "");
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function describe(e: ErrorObject): string {
  const path = dotted(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required":
      return `${join(path, String(p.missingProperty))}: required`;
    case "type":
      return `${path || "(root)"}: must be of type ${String(p.type)}`;
    case "minLength":
      return `${path}: must be at least ${String(p.limit)} character(s) long`;
    case "maxLength":
      return `${path}: must be at most ${String(p.limit)} characters long`;
    case "pattern":
      return `${path}: must match the pattern ${String(p.pattern)}`;
    case "minimum":
      return `${path}: must be >= ${String(p.limit)}`;
    case "maximum":
      return `${path}: must be <= ${String(p.limit)}`;
    case "enum":
      return `${path}: must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "format":
      return `${path}: must be a valid ${String(p.format)}`;
    default:
      return `${path}: ${e.message ?? e.keyword}`;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Removes unknown fields and non-nullable nulls in place, collecting the removed unknown paths. */
function prune(value: unknown, schema: JSONSchemaProps, path: string, unknown: string[]): void {
  if (schema.type === "object" && isPlainObject(value) && schema.properties) {
    for (const key of Object.keys(value)) {
      const child = schema.properties[key];
      if (!child) {
        if (!schema["x-kubernetes-preserve-unknown-fields"]) {
          unknown.push(join(path, key));
          delete value[key];
        }
        continue;
      }
      if (value[key] === null && !child.nullable) {
        delete value[key];
        continue;
      }
      prune(value[key], child, join(path, key), unknown);
    }
  } else if (schema.type === "array" && Array.isArray(value) && schema.items) {
    value.forEach((item, i) => prune(item, schema.items as JSONSchemaProps, `${path}[${i}]`, unknown));
  }
}

/** Checks of the API server that are not part of the openAPIV3Schema. */
function serverChecks(obj: Record<string, unknown>): string[] {
  const errors: string[] = [];
  if (obj.apiVersion !== undefined && obj.apiVersion !== API_VERSION) {
    errors.push(`apiVersion: must be ${API_VERSION}`);
  }
  if (obj.kind !== undefined && obj.kind !== KIND) errors.push(`kind: must be ${KIND}`);
  const meta = obj.metadata;
  if (isPlainObject(meta) && !meta.name && !meta.generateName) {
    errors.push("metadata.name: required");
  }
  // conditions is a list-map keyed by type: keys must be unique
  const status = obj.status;
  if (isPlainObject(status) && Array.isArray(status.conditions)) {
    const seen = new Set<unknown>();
    status.conditions.forEach((c: unknown, i) => {
      if (!isPlainObject(c) || c.type === undefined) return;
      if (seen.has(c.type))
        errors.push(`status.conditions[${i}].type: duplicate value ${JSON.stringify(c.type)}`);
      seen.add(c.type);
    });
  }
  return errors;
}

/** Validates (and prunes and defaults a copy of) a VariantAutoscaling object. */
export function validateVariantAutoscaling(input: unknown, options: ValidateOptions = {}): ValidationResult {
  compiled ??= makeValidator(VariantAutoscalingSchema.schema);
  const copy: unknown = input === undefined ? undefined : structuredClone(input);
  const unknown: string[] = [];
  prune(copy, VariantAutoscalingSchema.schema, "", unknown);
  const errors: string[] = [];
  if (options.rejectUnknownFields) errors.push(...unknown.map((p) => `${p}: unknown field`));
  if (!compiled(copy)) errors.push(...(compiled.errors ?? []).map(describe));
  if (isPlainObject(copy)) errors.push(...serverChecks(copy));
  return { valid: errors.length === 0, errors, prunedFields: unknown, object: copy as VariantAutoscaling };
}

/** Like validateVariantAutoscaling but throws an Error listing every violation. */
export function parseVariantAutoscaling(input: unknown, options: ValidateOptions = {}): VariantAutoscaling {
  const r = validateVariantAutoscaling(input, options);
  if (!r.valid) throw new Error(`invalid VariantAutoscaling: ${r.errors.join("; ")}`);
  return r.object;
}
