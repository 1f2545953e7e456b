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
 *
 * The same machinery checks the project's other user documents ({@link documentValidator}): `wva decide`
 * snapshots and the saturation and scale-to-zero ConfigMaps, each from a typed schema of the schema
 * builder, with path-qualified errors.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { createRequire } from "node:module";
import { API_VERSION, KIND } from "./constants.js";
import type { JSONSchemaProps, Node } from "./schema-builder.js";
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

function makeValidator(
  schema: JSONSchemaProps,
  opts: { allErrors: boolean; useDefaults: boolean } = { allErrors: true, useDefaults: true },
): ValidateFunction {
  const ajv = new Ajv({
    ...opts,
    strict: true,
    strictRequired: false,
    // NaN and ±Infinity are not numbers of any schema (YAML can write them as .nan and .inf)
    strictNumbers: true,
    verbose: true,
  });
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

/** One broken rule of a document: `field` is the dotted path (`variants[0].currentReplicas`). */
export interface FieldViolation {
  field: string;
  rule: string;
}

/** Result of a {@link documentValidator}. */
export interface DocumentCheck<T> {
  /** Empty when the document is valid (with `firstOnly`, at most one entry). */
  violations: FieldViolation[];
  /** Paths of fields the schema does not declare (reported as violations with `unknownFields: "reject"`). */
  unknownFields: string[];
  /** The document, typed; only meaningful when `violations` is empty. Never modified. */
  value: T;
}

export interface DocumentValidatorOptions {
  /** Name of the whole document in messages (e.g. `snapshot`). */
  root: string;
  /** "reject" (the default): unknown fields are violations; "report": only listed in `unknownFields`. */
  unknownFields?: "reject" | "report";
  /** Stop at the first violation (the default; cheap on large documents). */
  firstOnly?: boolean;
}

/**
 * A validator of user documents from a schema-builder node: unknown fields, then types, ranges and
 * required fields, each violation with its dotted path and a plain rule ("must be a number, got string",
 * "must be a finite number", "required field is missing", "unknown field"). Rules that relate several
 * fields stay with the document's owner, after this check.
 */
export function documentValidator<T>(
  node: Node<T>,
  opts: DocumentValidatorOptions,
): (value: unknown) => DocumentCheck<T> {
  const firstOnly = opts.firstOnly ?? true;
  let validate: ValidateFunction | undefined;
  const reject = opts.unknownFields !== "report";
  return (value: unknown): DocumentCheck<T> => {
    validate ??= makeValidator(node.schema, { allErrors: !firstOnly, useDefaults: false });
    const unknownFields: string[] = [];
    collectUnknown(value, node.schema, "", unknownFields, firstOnly && reject ? 1 : Infinity);
    const violations: FieldViolation[] = reject
      ? unknownFields.map((f) => ({ field: f, rule: "unknown field" }))
      : [];
    // the schemas never close objects (additionalProperties: false), so unknown fields pass here
    if ((violations.length === 0 || !firstOnly) && !validate(value)) {
      for (const e of validate.errors ?? []) violations.push(plainViolation(e, opts.root));
    }
    return { violations: firstOnly ? violations.slice(0, 1) : violations, unknownFields, value: value as T };
  };
}

/** Paths of undeclared fields of a plain object tree (stops after `limit` paths). */
function collectUnknown(
  value: unknown,
  schema: JSONSchemaProps,
  path: string,
  out: string[],
  limit: number,
): void {
  if (out.length >= limit) return;
  if (schema.type === "object" && isPlainObject(value)) {
    if (schema.properties === undefined) {
      if (schema.additionalProperties !== undefined) {
        for (const key of Object.keys(value)) {
          collectUnknown(value[key], schema.additionalProperties, join(path, key), out, limit);
        }
      }
      return;
    }
    for (const key of Object.keys(value)) {
      const child = schema.properties[key];
      if (child === undefined) {
        if (!schema["x-kubernetes-preserve-unknown-fields"]) out.push(join(path, key));
        if (out.length >= limit) return;
      } else collectUnknown(value[key], child, join(path, key), out, limit);
    }
  } else if (schema.type === "array" && Array.isArray(value) && schema.items) {
    for (let i = 0; i < value.length && out.length < limit; i++) {
      collectUnknown(value[i], schema.items, `${path}[${i}]`, out, limit);
    }
  }
}

/** Type name of a parsed YAML/JSON value for messages. */
function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

const TYPE_WORDS: Record<string, string> = {
  object: "a mapping",
  array: "a list",
  string: "a string",
  number: "a number",
  integer: "a number",
  boolean: "a boolean",
};

function plainViolation(e: ErrorObject, root: string): FieldViolation {
  const path = dotted(e.instancePath);
  const p = e.params as Record<string, unknown>;
  const data: unknown = e.data;
  const at = path === "" ? root : path;
  switch (e.keyword) {
    case "required":
      return { field: join(path, String(p.missingProperty)), rule: "required field is missing" };
    case "type": {
      if (typeof data === "number" && !Number.isFinite(data))
        return { field: at, rule: "must be a finite number" };
      if (p.type === "integer" && typeof data === "number")
        return { field: at, rule: `must be an integer, got ${data}` };
      const wanted = String(p.type).split(",")[0];
      return { field: at, rule: `must be ${TYPE_WORDS[wanted] ?? wanted}, got ${typeOf(data)}` };
    }
    case "minLength":
      return {
        field: at,
        rule: p.limit === 1 ? "must not be empty" : `must be at least ${String(p.limit)} characters long`,
      };
    case "maxLength":
      return { field: at, rule: `must be at most ${String(p.limit)} characters long` };
    case "minimum":
      return { field: at, rule: `must be >= ${String(p.limit)}, got ${String(data)}` };
    case "maximum":
      return { field: at, rule: `must be <= ${String(p.limit)}, got ${String(data)}` };
    case "enum":
      return {
        field: at,
        rule: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`,
      };
    case "pattern":
      return { field: at, rule: `must match the pattern ${String(p.pattern)}` };
    default:
      return { field: at, rule: e.message ?? e.keyword };
  }
}
