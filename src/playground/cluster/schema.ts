import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsImport from "ajv-formats";
import type { StatusCause } from "./errors.js";
import { clone, isObject } from "./util.js";

type Schema = Record<string, unknown>;
// ajv-formats is CommonJS with a default export
const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;

let shared: Ajv | undefined;
function ajv(): Ajv {
  if (shared) return shared;
  shared = new Ajv({ allErrors: true, strict: false, validateFormats: true });
  addFormats(shared);
  const int = (bits: number) => (v: number) => Number.isInteger(v) && Math.abs(v) <= 2 ** (bits - 1);
  shared.addFormat("int32", { type: "number", validate: int(32) });
  shared.addFormat("int64", { type: "number", validate: int(64) });
  for (const f of ["float", "double"]) shared.addFormat(f, { type: "number", validate: () => true });
  for (const f of ["byte", "password", "binary", "quantity", "int-or-string"])
    shared.addFormat(f, () => true);
  return shared;
}

/** Turns a Kubernetes structural schema into plain JSON Schema for ajv. */
export function toJsonSchema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(toJsonSchema);
  if (!isObject(s)) return s;
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith("x-kubernetes-")) continue;
    if (k === "properties" || k === "patternProperties" || k === "definitions") {
      out[k] = Object.fromEntries(Object.entries(v as Schema).map(([p, ps]) => [p, toJsonSchema(ps)]));
    } else if (k === "default" || k === "enum" || k === "example") out[k] = v;
    else out[k] = toJsonSchema(v);
  }
  if (s["x-kubernetes-int-or-string"] === true) {
    delete out.type;
    return { ...out, anyOf: [{ type: "integer" }, { type: "string" }] };
  }
  return out;
}

/** Applies `default` values of the schema to missing fields, recursively, in place. */
export function applyDefaults(schema: unknown, value: unknown): void {
  if (!isObject(schema)) return;
  if (isObject(value)) {
    const props = isObject(schema.properties) ? (schema.properties as Record<string, Schema>) : {};
    for (const [p, ps] of Object.entries(props)) {
      if (value[p] === undefined && isObject(ps) && ps.default !== undefined) value[p] = clone(ps.default);
      if (value[p] !== undefined) applyDefaults(ps, value[p]);
    }
    if (isObject(schema.additionalProperties))
      for (const [k, v] of Object.entries(value))
        if (!(k in props)) applyDefaults(schema.additionalProperties, v);
  } else if (Array.isArray(value) && isObject(schema.items)) {
    for (const item of value) applyDefaults(schema.items, item);
  }
}

/**
 * Removes fields the schema does not know (like the API server's pruning), in place, and returns
 * the dotted paths removed. `x-kubernetes-preserve-unknown-fields` keeps unknown fields.
 */
export function prune(schema: unknown, value: unknown, path = "", top = true): string[] {
  const removed: string[] = [];
  if (!isObject(schema)) return removed;
  if (isObject(value)) {
    const props = isObject(schema.properties) ? (schema.properties as Record<string, Schema>) : {};
    const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
    const addl = schema.additionalProperties;
    const structural = schema.type === "object" || isObject(schema.properties) || addl !== undefined;
    for (const k of Object.keys(value)) {
      const sub = path ? `${path}.${k}` : k;
      if (top && (k === "apiVersion" || k === "kind" || k === "metadata")) continue;
      if (k in props) removed.push(...prune(props[k], value[k], sub, false));
      else if (isObject(addl)) removed.push(...prune(addl, value[k], sub, false));
      else if (addl === true || preserve || !structural) continue;
      else {
        delete value[k];
        removed.push(sub);
      }
    }
  } else if (Array.isArray(value) && isObject(schema.items)) {
    value.forEach((item, i) => removed.push(...prune(schema.items, item, `${path}[${i}]`, false)));
  }
  return removed;
}

function fieldOf(instancePath: string): string {
  return instancePath
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), "");
}

function show(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : (JSON.stringify(v) ?? "null");
}

function valueAt(obj: unknown, instancePath: string): unknown {
  let cur = obj;
  for (const p of instancePath.split("/").slice(1)) {
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isObject(cur)) cur = cur[p.replace(/~1/g, "/").replace(/~0/g, "~")];
    else return undefined;
  }
  return cur;
}

/** Maps ajv errors to Kubernetes-style field causes (`spec.x: Required value`, ...). */
export function toCauses(errors: ErrorObject[], obj: unknown): StatusCause[] {
  const causes: StatusCause[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === "anyOf" || e.keyword === "oneOf" || e.keyword === "if") continue;
    const field = fieldOf(e.instancePath);
    const value = valueAt(obj, e.instancePath);
    const p = e.params as Record<string, unknown>;
    let cause: StatusCause;
    switch (e.keyword) {
      case "required": {
        const f = field ? `${field}.${String(p.missingProperty)}` : String(p.missingProperty);
        cause = { reason: "FieldValueRequired", message: "Required value", field: f };
        break;
      }
      case "type":
        cause = {
          reason: "FieldValueTypeInvalid",
          message: `Invalid value: ${show(typeName(value))}: ${field} in body must be of type ${String(p.type)}: ${show(typeName(value))}`,
          field,
        };
        break;
      case "enum":
        cause = {
          reason: "FieldValueNotSupported",
          message: `Unsupported value: ${show(value)}: supported values: ${(p.allowedValues as unknown[]).map(show).join(", ")}`,
          field,
        };
        break;
      case "minimum":
      case "exclusiveMinimum":
        cause = {
          reason: "FieldValueInvalid",
          message: `Invalid value: ${show(value)}: ${field} in body should be greater than ${e.keyword === "minimum" ? "or equal to " : ""}${String(p.limit)}`,
          field,
        };
        break;
      case "maximum":
      case "exclusiveMaximum":
        cause = {
          reason: "FieldValueInvalid",
          message: `Invalid value: ${show(value)}: ${field} in body should be less than ${e.keyword === "maximum" ? "or equal to " : ""}${String(p.limit)}`,
          field,
        };
        break;
      case "pattern":
        cause = {
          reason: "FieldValueInvalid",
          message: `Invalid value: ${show(value)}: ${field} in body should match '${String(p.pattern)}'`,
          field,
        };
        break;
      case "minLength":
      case "maxLength":
        cause = {
          reason: "FieldValueInvalid",
          message: `Invalid value: ${show(value)}: ${field} in body should be at ${e.keyword === "minLength" ? "least" : "most"} ${String(p.limit)} chars long`,
          field,
        };
        break;
      case "minItems":
      case "maxItems":
        cause = {
          reason: "FieldValueInvalid",
          message: `Invalid value: ${Array.isArray(value) ? value.length : 0}: ${field} in body should have at ${e.keyword === "minItems" ? "least" : "most"} ${String(p.limit)} items`,
          field,
        };
        break;
      case "format":
        cause = {
          reason: "FieldValueInvalid",
          message: `Invalid value: ${show(value)}: ${field} in body must be of type ${String(p.format)}: ${show(value)}`,
          field,
        };
        break;
      default:
        cause = {
          reason: "FieldValueInvalid",
          message: `Invalid value: ${show(value)}: ${e.message ?? "invalid"}`,
          field,
        };
    }
    const k = `${cause.field}|${cause.message}`;
    if (!seen.has(k)) {
      seen.add(k);
      causes.push(cause);
    }
  }
  return causes;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** A compiled CRD version schema: defaulting, pruning and validation. */
export interface CompiledSchema {
  normalize(obj: Record<string, unknown>): string[];
  validate(obj: Record<string, unknown>): StatusCause[];
}

export function compileSchema(openAPIV3Schema: unknown): CompiledSchema {
  const structural = isObject(openAPIV3Schema) ? openAPIV3Schema : { type: "object" };
  // metadata is validated by the server itself, not by the CRD schema
  const forAjv = clone(toJsonSchema(structural)) as Schema;
  if (isObject(forAjv.properties)) delete (forAjv.properties as Schema).metadata;
  let fn: ValidateFunction;
  try {
    fn = ajv().compile(forAjv);
  } catch (err) {
    throw new Error(`invalid openAPIV3Schema: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {
    normalize(obj) {
      const removed = prune(structural, obj);
      applyDefaults(structural, obj);
      return removed;
    },
    validate(obj) {
      if (fn(obj)) return [];
      return toCauses(fn.errors ?? [], obj);
    },
  };
}
