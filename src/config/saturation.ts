import { boolean, number, object, optional, string, type Static } from "../api/v1alpha1/schema-builder.js";
import { documentValidator } from "../api/v1alpha1/validate.js";
import type { SaturationConfig } from "../engine/types.js";
import {
  ANALYZER_NAMES,
  DEFAULT_SATURATION_CONFIG,
  DEFAULT_SCALE_DOWN_BOUNDARY,
  DEFAULT_SCALE_UP_THRESHOLD,
  groupKey,
} from "../engine/types.js";
import { parseYamlStrict } from "../util/yaml.js";
import { ConfigFieldError } from "./errors.js";

/** Key of the global entry in the saturation ConfigMap. */
export const DEFAULT_ENTRY = "default";
export { ANALYZER_NAMES };

/** The fields of one saturation entry, all optional (types only; ranges and relations are checked by
 * {@link validateSaturationConfig} on the merged config). */
const SATURATION_FIELDS = {
  kvCacheThreshold: optional(
    number({ description: "KV-cache usage (0..1) at which a replica is saturated" }),
  ),
  queueLengthThreshold: optional(number({ description: "waiting requests at which a replica is saturated" })),
  kvSpareTrigger: optional(number({ description: "scale up when the average spare KV is below this" })),
  queueSpareTrigger: optional(number({ description: "scale up when the average spare queue is below this" })),
  scaleUpThreshold: optional(number({ description: "V2: scale up above this utilisation" })),
  scaleDownBoundary: optional(number({ description: "V2: scale down below this utilisation" })),
  enableLimiter: optional(boolean({ description: "run the GPU limiter (default entry only)" })),
  analyzerName: optional(string({ description: "decision engine of the model" })),
};

/** Schema of the `default` entry (and of a snapshot's `saturation`). */
export const SaturationEntrySchema = object(SATURATION_FIELDS);
/** Schema of an override entry: the fields plus the model it applies to. */
export const SaturationOverrideSchema = object({
  ...SATURATION_FIELDS,
  model_id: optional(string({ description: "model the override applies to" })),
  namespace: optional(string({ description: "namespace of the model; absent = every namespace" })),
});
export type SaturationOverrideEntry = Static<typeof SaturationOverrideSchema>;

/** Every key a saturation entry may carry. */
export const SATURATION_KEYS = Object.keys(SATURATION_FIELDS) as Array<keyof typeof SATURATION_FIELDS>;
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

/** Only the saturation fields of an entry. */
export function saturationFieldsOf(entry: SaturationOverrideEntry): SaturationFields {
  const fields: SaturationFields = {};
  for (const k of SATURATION_KEYS) if (entry[k] !== undefined) Object.assign(fields, { [k]: entry[k] });
  return fields;
}

/**
 * Reads one ConfigMap entry against its schema (`allowIds`: an override entry with `model_id` /
 * `namespace`). Unknown keys are returned in `unknown`; a wrong type throws ConfigFieldError naming the
 * field as `<key>.<field>`.
 */
function readSaturationEntry(
  obj: unknown,
  key: string,
  allowIds: boolean,
): { fields: SaturationFields; modelID?: string; namespace?: string; unknown: string[] } {
  const check = (allowIds ? checkOverride : checkEntry)(obj);
  const v = check.violations[0];
  if (v !== undefined) throw new ConfigFieldError(v.field === ROOT ? key : `${key}.${v.field}`, v.rule);
  const entry = check.value;
  return {
    fields: saturationFieldsOf(entry),
    modelID: entry.model_id,
    namespace: entry.namespace,
    unknown: check.unknownFields,
  };
}

const ROOT = "(entry)";
const checkEntry = documentValidator<SaturationOverrideEntry>(SaturationEntrySchema, {
  root: ROOT,
  unknownFields: "report",
});
const checkOverride = documentValidator(SaturationOverrideSchema, { root: ROOT, unknownFields: "report" });

/** Fills V2 thresholds left at 0 with 0.85 / 0.70 (V1 entries are returned unchanged). */
export function applySaturationDefaults(cfg: SaturationConfig): SaturationConfig {
  if (cfg.analyzerName !== "saturation") return { ...cfg };
  return {
    ...cfg,
    scaleUpThreshold: cfg.scaleUpThreshold === 0 ? DEFAULT_SCALE_UP_THRESHOLD : cfg.scaleUpThreshold,
    scaleDownBoundary: cfg.scaleDownBoundary === 0 ? DEFAULT_SCALE_DOWN_BOUNDARY : cfg.scaleDownBoundary,
  };
}

/**
 * Checks the ranges and cross-field rules of a complete saturation config, the one place they live
 * (docs/design/saturation-analysis.md); throws ConfigFieldError naming the field (prefixed with `path`)
 * and the rule.
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
      `must be "" (V1) or "saturation" (V2) ("default" = ""), got "${cfg.analyzerName}"`,
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
 * Parses a saturation ConfigMap's data. Each data key is one YAML document; an entry
 * with a YAML error or a broken rule is dropped and reported in `errors` (parsing never throws).
 * Override entries (any key other than `default`, with `model_id`) are validated after merging over
 * `default`, so a field missing in an override inherits from `default`.
 */
export function parseSaturationConfigMap(data: Record<string, string> | undefined): SaturationConfigMap {
  const out: SaturationConfigMap = { overrides: [], errors: [], warnings: [] };
  const keys = Object.keys(data ?? {}).sort();
  const raw = new Map<string, ReturnType<typeof readSaturationEntry>>();
  for (const key of keys) {
    try {
      let doc: unknown;
      try {
        doc = parseYamlStrict(data![key]) ?? {};
      } catch (err) {
        throw new Error(`${key}: invalid YAML: ${errText(err)}`);
      }
      const r = readSaturationEntry(doc, key, key !== DEFAULT_ENTRY);
      for (const u of r.unknown) out.warnings.push(`${key}: unknown field ${u} ignored`);
      raw.set(key, r);
    } catch (err) {
      out.errors.push({
        key,
        message: errText(err),
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
    const id = groupKey(r.modelID, r.namespace ?? "");
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

function errText(err: unknown): string {
  return err instanceof Error ? err.message.split("\n")[0] : String(err);
}

export { DEFAULT_SATURATION_CONFIG };
