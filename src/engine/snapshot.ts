import { parse as parseYaml } from "yaml";
import { ConfigFieldError, isPlainObject, typeName } from "../config/errors.js";
import {
  applySaturationDefaults,
  mergeSaturation,
  readSaturationFields,
  validateSaturationConfig,
  type SaturationOverride,
} from "../config/saturation.js";
import type { GpuInventory, SaturationConfig } from "./types.js";
import { DEFAULT_SATURATION_CONFIG, DEFAULT_VARIANT_COST } from "./types.js";

/** One pod of a snapshot variant. */
export interface SnapshotReplica {
  pod: string;
  kvCacheUsage: number;
  queueLength: number;
}

/** One variant of a snapshot (DECISIONS section 4). */
export interface SnapshotVariant {
  name: string;
  namespace: string;
  modelID: string;
  accelerator: string;
  cost: number;
  gpusPerReplica: number;
  currentReplicas: number;
  readyReplicas: number;
  desiredReplicas: number;
  replicas: SnapshotReplica[];
}

export interface SnapshotScaleToZero {
  modelID: string;
  namespace: string;
  enabled: boolean;
  requestCount: number | null;
}

/** A validated `wva decide` snapshot with defaults filled in. */
export interface Snapshot {
  saturation: SaturationConfig;
  saturationOverrides: SaturationOverride[];
  scaleToZero: SnapshotScaleToZero[];
  gpuInventory?: GpuInventory;
  variants: SnapshotVariant[];
}

/** Invalid snapshot: `field` is the path of the offending key (e.g. `variants[0].currentReplicas`). */
export class SnapshotError extends ConfigFieldError {}

const TOP_KEYS = ["saturation", "saturationOverrides", "scaleToZero", "gpuInventory", "variants"];
const VARIANT_KEYS = [
  "name",
  "namespace",
  "modelID",
  "accelerator",
  "cost",
  "gpusPerReplica",
  "currentReplicas",
  "readyReplicas",
  "desiredReplicas",
  "replicas",
];
const REPLICA_KEYS = ["pod", "kvCacheUsage", "queueLength"];
const STZ_KEYS = ["modelID", "namespace", "enabled", "requestCount"];

function fail(field: string, rule: string): never {
  throw new SnapshotError(field, rule);
}

function rethrow(err: unknown): never {
  if (err instanceof ConfigFieldError && !(err instanceof SnapshotError)) fail(err.field, err.rule);
  throw err;
}

function checkKeys(obj: Record<string, unknown>, allowed: string[], path: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) fail(path === "" ? k : `${path}.${k}`, "unknown field");
  }
}

function mapping(v: unknown, path: string): Record<string, unknown> {
  if (!isPlainObject(v)) fail(path, `must be a mapping, got ${typeName(v)}`);
  return v;
}

function list(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, `must be a list, got ${typeName(v)}`);
  return v;
}

function str(obj: Record<string, unknown>, key: string, path: string, def?: string): string {
  const v = obj[key];
  if (v === undefined) {
    if (def === undefined) fail(`${path}.${key}`, "required field is missing");
    return def;
  }
  if (typeof v !== "string") fail(`${path}.${key}`, `must be a string, got ${typeName(v)}`);
  if (def === undefined && v === "") fail(`${path}.${key}`, "must not be empty");
  return v;
}

function num(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  opts: { def?: number; integer?: boolean; min?: number; max?: number },
): number {
  const v = obj[key];
  const field = `${path}.${key}`;
  if (v === undefined) {
    if (opts.def === undefined) fail(field, "required field is missing");
    return opts.def;
  }
  if (typeof v !== "number" || !Number.isFinite(v)) fail(field, `must be a number, got ${typeName(v)}`);
  if (opts.integer && !Number.isInteger(v)) fail(field, `must be an integer, got ${v}`);
  if (opts.min !== undefined && v < opts.min) fail(field, `must be >= ${opts.min}, got ${v}`);
  if (opts.max !== undefined && v > opts.max) fail(field, `must be <= ${opts.max}, got ${v}`);
  return v;
}

/** The token-based analyzer "V2" is not part of this engine yet: say so instead of silently running V1. */
function rejectV2(name: string, field: string): void {
  if (name === "saturation")
    fail(field, 'analyzer "saturation" (V2) is not available in this version; use "" (V1)');
}

/** Parses snapshot text (YAML or JSON). Throws SnapshotError naming the field and rule. */
export function parseSnapshotText(text: string): Snapshot {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message.split("\n")[0] : String(err);
    fail("snapshot", `not valid YAML or JSON: ${msg}`);
  }
  return validateSnapshot(doc);
}

/** Validates a parsed snapshot document and fills in defaults (DECISIONS section 4). */
export function validateSnapshot(doc: unknown): Snapshot {
  if (doc === null || doc === undefined) fail("snapshot", "is empty");
  const top = mapping(doc, "snapshot");
  checkKeys(top, TOP_KEYS, "");

  // saturation: omitted keys take the shipped defaults
  let saturation: SaturationConfig;
  try {
    const r = readSaturationFields(top.saturation ?? {}, "saturation", { strict: true, allowIds: false });
    saturation = applySaturationDefaults(mergeSaturation(DEFAULT_SATURATION_CONFIG, r.fields));
    validateSaturationConfig(saturation, "saturation");
    rejectV2(saturation.analyzerName, "saturation.analyzerName");
  } catch (err) {
    rethrow(err);
  }

  const overrides: SaturationOverride[] = [];
  const overrideIds = new Set<string>();
  list(top.saturationOverrides ?? [], "saturationOverrides").forEach((o, i) => {
    const path = `saturationOverrides[${i}]`;
    try {
      const r = readSaturationFields(o, path, { strict: true, allowIds: true });
      if (r.modelID === undefined) fail(`${path}.model_id`, "required field is missing");
      if (r.modelID === "") fail(`${path}.model_id`, "must not be empty");
      const id = `${r.modelID}|${r.namespace ?? ""}`;
      if (overrideIds.has(id))
        fail(path, `duplicate override for model_id ${r.modelID} and namespace "${r.namespace ?? ""}"`);
      overrideIds.add(id);
      validateSaturationConfig(applySaturationDefaults(mergeSaturation(saturation, r.fields)), path);
      if (r.fields.analyzerName !== undefined) rejectV2(r.fields.analyzerName, `${path}.analyzerName`);
      overrides.push({ key: path, modelID: r.modelID, namespace: r.namespace ?? "", fields: r.fields });
    } catch (err) {
      rethrow(err);
    }
  });

  const scaleToZero: SnapshotScaleToZero[] = [];
  const stzIds = new Set<string>();
  list(top.scaleToZero ?? [], "scaleToZero").forEach((e, i) => {
    const path = `scaleToZero[${i}]`;
    const o = mapping(e, path);
    checkKeys(o, STZ_KEYS, path);
    const modelID = str(o, "modelID", path);
    const namespace = str(o, "namespace", path);
    if (o.enabled === undefined) fail(`${path}.enabled`, "required field is missing");
    if (typeof o.enabled !== "boolean")
      fail(`${path}.enabled`, `must be a boolean, got ${typeName(o.enabled)}`);
    let requestCount: number | null = null;
    if (o.requestCount !== undefined && o.requestCount !== null) {
      requestCount = num(o, "requestCount", path, { min: 0 });
    }
    const id = `${modelID}|${namespace}`;
    if (stzIds.has(id)) fail(path, `duplicate entry for modelID ${modelID} in namespace ${namespace}`);
    stzIds.add(id);
    scaleToZero.push({ modelID, namespace, enabled: o.enabled, requestCount });
  });

  let gpuInventory: GpuInventory | undefined;
  if (top.gpuInventory !== undefined) {
    const inv = mapping(top.gpuInventory, "gpuInventory");
    gpuInventory = {};
    for (const k of Object.keys(inv)) {
      gpuInventory[k] = num(inv, k, "gpuInventory", { integer: true, min: 0 });
    }
  }
  if (saturation.enableLimiter && gpuInventory === undefined) {
    fail("gpuInventory", "required when saturation.enableLimiter is true");
  }

  if (top.variants === undefined) fail("variants", "required field is missing");
  const variants: SnapshotVariant[] = [];
  const ids = new Set<string>();
  list(top.variants, "variants").forEach((e, i) => {
    const path = `variants[${i}]`;
    const o = mapping(e, path);
    checkKeys(o, VARIANT_KEYS, path);
    const name = str(o, "name", path);
    const namespace = str(o, "namespace", path);
    const modelID = str(o, "modelID", path);
    const id = `${namespace}/${name}`;
    if (ids.has(id)) fail(`${path}.name`, `duplicate variant ${name} in namespace ${namespace}`);
    ids.add(id);
    const currentReplicas = num(o, "currentReplicas", path, { integer: true, min: 0 });
    const readyReplicas = num(o, "readyReplicas", path, { integer: true, min: 0, def: currentReplicas });
    const replicas: SnapshotReplica[] = [];
    const pods = new Set<string>();
    list(o.replicas ?? [], `${path}.replicas`).forEach((r, j) => {
      const rp = `${path}.replicas[${j}]`;
      const ro = mapping(r, rp);
      checkKeys(ro, REPLICA_KEYS, rp);
      const pod = str(ro, "pod", rp);
      if (pods.has(pod)) fail(`${rp}.pod`, `duplicate pod ${pod}`);
      pods.add(pod);
      replicas.push({
        pod,
        kvCacheUsage: num(ro, "kvCacheUsage", rp, { min: 0, max: 1 }),
        queueLength: num(ro, "queueLength", rp, { min: 0 }),
      });
    });
    variants.push({
      name,
      namespace,
      modelID,
      accelerator: str(o, "accelerator", path, "unknown") || "unknown",
      cost: num(o, "cost", path, { min: 0, def: DEFAULT_VARIANT_COST }),
      gpusPerReplica: num(o, "gpusPerReplica", path, { integer: true, min: 0, def: 1 }),
      currentReplicas,
      readyReplicas,
      desiredReplicas: num(o, "desiredReplicas", path, { integer: true, min: 0, def: 0 }),
      replicas,
    });
  });

  return { saturation, saturationOverrides: overrides, scaleToZero, gpuInventory, variants };
}
