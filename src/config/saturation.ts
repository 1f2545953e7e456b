import { parse as parseYaml } from "yaml";
import type { SaturationConfig } from "../engine/types.js";
import { DEFAULT_SATURATION_CONFIG } from "../engine/types.js";
import { ConfigFieldError, isPlainObject, typeName } from "./errors.js";

/** Key of the global entry in the saturation ConfigMap. */
export const DEFAULT_ENTRY = "default";
/** Analyzer names: "" = V1 saturation analyzer, "saturation" = V2 token-based analyzer. */
export const ANALYZER_NAMES = ["", "saturation"] as const;
/** V2 defaults applied by {@link applySaturationDefaults}. */
export const V2_DEFAULT_SCALE_UP_THRESHOLD = 0.85;
export const V2_DEFAULT_SCALE_DOWN_BOUNDARY = 0.7;

const NUMBER_KEYS = [
  "kvCacheThreshold",
  "queueLengthThreshold",
  "kvSpareTrigger",
  "queueSpareTrigger",
  "scaleUpThreshold",
  "scaleDownBoundary",
] as const;

/** Every key a saturation entry may carry. */
export const SATURATION_KEYS = [...NUMBER_KEYS, "enableLimiter", "analyzerName"] as const;
/** Keys that identify an override entry. */
export const OVERRIDE_ID_KEYS = ["model_id", "namespace"] as const;

/** Fields of one entry as written (only the keys present). */
export type SaturationFields = Partial<SaturationConfig>;

/** A per-model override entry: fields present here replace those of `default`. */
export interface SaturationOverride {
  /** ConfigMap data key (or `saturationOverrides[i]`). */
  key: string;
  modelID: string;
  /** "" = applies to the model in every namespace. */
  namespace: string;
  fields: SaturationFields;
}

/**
 * Reads the saturation keys of one entry, checking types. With `strict`, unknown keys are errors;
 * otherwise they are returned in `unknown`. `allowIds` accepts `model_id` / `namespace`.
 */
export function readSaturationFields(
  obj: unknown,
  path: string,
  opts: { strict: boolean; allowIds: boolean },
): { fields: SaturationFields; modelID?: string; namespace?: string; unknown: string[] } {
  if (!isPlainObject(obj)) throw new ConfigFieldError(path, `must be a mapping, got ${typeName(obj)}`);
  const fields: SaturationFields = {};
  const unknown: string[] = [];
  let modelID: string | undefined;
  let namespace: string | undefined;
  const at = (k: string) => (path === "" ? k : `${path}.${k}`);
  for (const [k, v] of Object.entries(obj)) {
    if ((NUMBER_KEYS as readonly string[]).includes(k)) {
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new ConfigFieldError(at(k), `must be a number, got ${typeName(v)}`);
      }
      fields[k as (typeof NUMBER_KEYS)[number]] = v;
    } else if (k === "enableLimiter") {
      if (typeof v !== "boolean") throw new ConfigFieldError(at(k), `must be a boolean, got ${typeName(v)}`);
      fields.enableLimiter = v;
    } else if (k === "analyzerName") {
      if (typeof v !== "string") throw new ConfigFieldError(at(k), `must be a string, got ${typeName(v)}`);
      fields.analyzerName = v;
    } else if (opts.allowIds && (k === "model_id" || k === "namespace")) {
      if (typeof v !== "string") throw new ConfigFieldError(at(k), `must be a string, got ${typeName(v)}`);
      if (k === "model_id") modelID = v;
      else namespace = v;
    } else if (opts.strict) {
      throw new ConfigFieldError(at(k), "unknown field");
    } else {
      unknown.push(k);
    }
  }
  return { fields, modelID, namespace, unknown };
}

/** Fills V2 thresholds left at 0 with 0.85 / 0.70 (V1 entries are returned unchanged). */
export function applySaturationDefaults(cfg: SaturationConfig): SaturationConfig {
  if (cfg.analyzerName !== "saturation") return { ...cfg };
  return {
    ...cfg,
    scaleUpThreshold: cfg.scaleUpThreshold === 0 ? V2_DEFAULT_SCALE_UP_THRESHOLD : cfg.scaleUpThreshold,
    scaleDownBoundary: cfg.scaleDownBoundary === 0 ? V2_DEFAULT_SCALE_DOWN_BOUNDARY : cfg.scaleDownBoundary,
  };
}

/**
 * Checks the rules of a complete saturation config (wva-core 5.1); throws ConfigFieldError naming the
 * field (prefixed with `path`) and the rule.
 */
export function validateSaturationConfig(cfg: SaturationConfig, path = ""): void {
  const at = (k: string) => (path === "" ? k : `${path}.${k}`);
  const range01 = (k: "kvCacheThreshold" | "kvSpareTrigger") => {
    if (cfg[k] < 0 || cfg[k] > 1) throw new ConfigFieldError(at(k), `must be between 0 and 1, got ${cfg[k]}`);
  };
  range01("kvCacheThreshold");
  if (cfg.queueLengthThreshold < 0) {
    throw new ConfigFieldError(at("queueLengthThreshold"), `must be >= 0, got ${cfg.queueLengthThreshold}`);
  }
  range01("kvSpareTrigger");
  if (cfg.queueSpareTrigger < 0) {
    throw new ConfigFieldError(at("queueSpareTrigger"), `must be >= 0, got ${cfg.queueSpareTrigger}`);
  }
  if (cfg.kvCacheThreshold < cfg.kvSpareTrigger) {
    throw new ConfigFieldError(
      at("kvSpareTrigger"),
      `must be <= kvCacheThreshold (${cfg.kvSpareTrigger} > ${cfg.kvCacheThreshold})`,
    );
  }
  if (!(ANALYZER_NAMES as readonly string[]).includes(cfg.analyzerName)) {
    throw new ConfigFieldError(
      at("analyzerName"),
      `must be "" (V1) or "saturation" (V2), got "${cfg.analyzerName}"`,
    );
  }
  if (cfg.analyzerName === "saturation") {
    for (const k of ["scaleUpThreshold", "scaleDownBoundary"] as const) {
      if (!(cfg[k] > 0 && cfg[k] <= 1))
        throw new ConfigFieldError(at(k), `must be > 0 and <= 1, got ${cfg[k]}`);
    }
    if (cfg.scaleUpThreshold <= cfg.scaleDownBoundary) {
      throw new ConfigFieldError(
        at("scaleUpThreshold"),
        `must be > scaleDownBoundary (${cfg.scaleUpThreshold} <= ${cfg.scaleDownBoundary})`,
      );
    }
  }
}

/** A complete config from the fields present, the rest from `base`. */
export function mergeSaturation(base: SaturationConfig, fields: SaturationFields): SaturationConfig {
  return { ...base, ...fields };
}

/** All-zero V1 entry: what a ConfigMap `default: {}` means upstream (missing numeric fields are 0). */
export const ZERO_SATURATION_CONFIG: Readonly<SaturationConfig> = Object.freeze({
  kvCacheThreshold: 0,
  queueLengthThreshold: 0,
  kvSpareTrigger: 0,
  queueSpareTrigger: 0,
  enableLimiter: false,
  analyzerName: "",
  scaleUpThreshold: 0,
  scaleDownBoundary: 0,
});

/** Parsed saturation ConfigMap. */
export interface SaturationConfigMap {
  /** The `default` entry (missing numeric fields are 0, as upstream), if present and valid. */
  default?: SaturationConfig;
  /** Valid override entries, sorted by data key. */
  overrides: SaturationOverride[];
  /** Entries dropped, with the reason (key and rule). */
  errors: Array<{ key: string; message: string }>;
  /** Unknown keys that were ignored, as `key: field`. */
  warnings: string[];
}

/**
 * Parses a saturation ConfigMap's data (wva-core 8.4). Each data key is one YAML document; an entry
 * with a YAML error or a broken rule is dropped and reported in `errors` (parsing never throws).
 * Override entries (any key other than `default`, with `model_id`) are validated after merging over
 * `default`, so a field missing in an override inherits from `default`.
 */
export function parseSaturationConfigMap(data: Record<string, string> | undefined): SaturationConfigMap {
  const out: SaturationConfigMap = { overrides: [], errors: [], warnings: [] };
  const keys = Object.keys(data ?? {}).sort();
  const raw = new Map<string, ReturnType<typeof readSaturationFields>>();
  for (const key of keys) {
    try {
      const doc: unknown = parseYaml(data![key]) ?? {};
      const r = readSaturationFields(doc, key, { strict: false, allowIds: key !== DEFAULT_ENTRY });
      for (const u of r.unknown) out.warnings.push(`${key}: unknown field ${u} ignored`);
      raw.set(key, r);
    } catch (err) {
      out.errors.push({
        key,
        message: err instanceof ConfigFieldError ? err.message : `${key}: invalid YAML: ${errText(err)}`,
      });
    }
  }
  const def = raw.get(DEFAULT_ENTRY);
  if (def !== undefined) {
    try {
      const cfg = applySaturationDefaults(mergeSaturation(ZERO_SATURATION_CONFIG, def.fields));
      validateSaturationConfig(cfg, DEFAULT_ENTRY);
      out.default = cfg;
    } catch (err) {
      out.errors.push({ key: DEFAULT_ENTRY, message: errText(err) });
    }
  }
  const base = out.default ?? ZERO_SATURATION_CONFIG;
  const seen = new Set<string>();
  for (const key of keys) {
    if (key === DEFAULT_ENTRY) continue;
    const r = raw.get(key);
    if (r === undefined) continue;
    if (r.modelID === undefined || r.modelID === "") {
      out.errors.push({ key, message: `${key}.model_id: required in an override entry` });
      continue;
    }
    const id = `${r.modelID}|${r.namespace ?? ""}`;
    if (seen.has(id)) {
      out.errors.push({
        key,
        message: `${key}: duplicate override for model_id ${r.modelID} (an earlier key wins)`,
      });
      continue;
    }
    try {
      validateSaturationConfig(applySaturationDefaults(mergeSaturation(base, r.fields)), key);
    } catch (err) {
      out.errors.push({ key, message: errText(err) });
      continue;
    }
    seen.add(id);
    out.overrides.push({ key, modelID: r.modelID, namespace: r.namespace ?? "", fields: r.fields });
  }
  return out;
}

/**
 * The saturation config of one model: `default` with the matching override's fields on top. An
 * override with the model's namespace wins over one without namespace. Returns undefined when there
 * is no `default` (the model is then skipped).
 */
export function resolveSaturationConfig(
  map: Pick<SaturationConfigMap, "default" | "overrides">,
  modelID: string,
  namespace: string,
): SaturationConfig | undefined {
  if (map.default === undefined) return undefined;
  const exact = map.overrides.find((o) => o.modelID === modelID && o.namespace === namespace);
  const any = exact ?? map.overrides.find((o) => o.modelID === modelID && o.namespace === "");
  if (any === undefined) return { ...map.default };
  return applySaturationDefaults(mergeSaturation(map.default, any.fields));
}

/** True when the map has at least one usable entry. */
export function hasEntries(map: SaturationConfigMap): boolean {
  return map.default !== undefined || map.overrides.length > 0;
}

/**
 * Global and namespace-local saturation ConfigMaps. A namespace-local map with entries replaces the
 * global one as a whole for that namespace; an empty or removed one falls back to the global map.
 */
export class SaturationConfigStore {
  private global: SaturationConfigMap = { overrides: [], errors: [], warnings: [] };
  private readonly local = new Map<string, SaturationConfigMap>();

  /**
   * Replaces the global map. At start-up (`startup: true`) a map without any valid entry keeps the
   * previous one; at runtime the parsed map is taken as is.
   */
  setGlobal(data: Record<string, string> | undefined, opts: { startup?: boolean } = {}): SaturationConfigMap {
    const parsed = parseSaturationConfigMap(data);
    if (!opts.startup || hasEntries(parsed)) this.global = parsed;
    return parsed;
  }

  setNamespace(namespace: string, data: Record<string, string> | undefined): SaturationConfigMap {
    const parsed = parseSaturationConfigMap(data);
    this.local.set(namespace, parsed);
    return parsed;
  }

  deleteNamespace(namespace: string): void {
    this.local.delete(namespace);
  }

  /** The map that applies to a namespace ("" = global). */
  mapFor(namespace: string): SaturationConfigMap {
    const l = namespace === "" ? undefined : this.local.get(namespace);
    return l !== undefined && hasEntries(l) ? l : this.global;
  }

  /** Resolved config of one model, or undefined when no `default` applies. */
  resolve(modelID: string, namespace: string): SaturationConfig | undefined {
    return resolveSaturationConfig(this.mapFor(namespace), modelID, namespace);
  }

  /** `enableLimiter` of the global `default` entry. */
  limiterEnabled(): boolean {
    return this.global.default?.enableLimiter ?? false;
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message.split("\n")[0] : String(err);
}

export { DEFAULT_SATURATION_CONFIG };
