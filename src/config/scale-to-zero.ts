import { boolean, object, optional, string } from "../api/v1alpha1/schema-builder.js";
import { documentValidator } from "../api/v1alpha1/validate.js";
import { tryParseDuration } from "../util/duration.js";
import { parseYamlStrict } from "../util/yaml.js";

/** Fixed name of the scale-to-zero ConfigMap. */
export const SCALE_TO_ZERO_CONFIG_MAP = "wva-model-scale-to-zero-config";
/** Retention period used when none is configured or the configured one is invalid (10 minutes). */
export const DEFAULT_RETENTION_MS = 10 * 60_000;
/** Retention periods above this only produce a warning. */
export const LONG_RETENTION_MS = 24 * 3_600_000;

/** One entry of the scale-to-zero ConfigMap (docs/design/scale-to-zero.md). */
export interface ScaleToZeroEntry {
  /** Data key of the entry. */
  key: string;
  /** Absent in the `default` entry. */
  modelID?: string;
  /** Accepted but not used for matching (matching is by model_id). */
  namespace?: string;
  /** Tri-state: undefined = not set (inherit). */
  enableScaleToZero?: boolean;
  /** Go duration text as written. */
  retentionPeriod?: string;
}

export interface ScaleToZeroConfigMap {
  default?: ScaleToZeroEntry;
  /** Per-model entries keyed by model_id (lexicographically first data key wins on duplicates). */
  byModel: Map<string, ScaleToZeroEntry>;
  /** Entries skipped and why. */
  errors: Array<{ key: string; message: string }>;
}

/** Schema of one data key's document; other fields are ignored. */
export const ScaleToZeroEntrySchema = object({
  model_id: optional(string({ description: "model the entry applies to (required except in default)" })),
  namespace: optional(string({ description: "accepted, not used for matching" })),
  enable_scale_to_zero: optional(boolean({ description: "scale the model to zero when idle" })),
  retention_period: optional(string({ description: "idle window, a Go duration such as 10m" })),
});

const ROOT = "(entry)";
const checkEntry = documentValidator(ScaleToZeroEntrySchema, { root: ROOT, unknownFields: "report" });

/**
 * Parses the scale-to-zero ConfigMap data: keys in sorted order, a YAML or type error skips the key, a
 * non-`default` entry needs `model_id`, and for a duplicate `model_id` the first key wins.
 */
export function parseScaleToZeroConfigMap(data: Record<string, string> | undefined): ScaleToZeroConfigMap {
  const out: ScaleToZeroConfigMap = { byModel: new Map(), errors: [] };
  for (const key of Object.keys(data ?? {}).sort()) {
    let doc: unknown;
    try {
      doc = parseYamlStrict(data![key]) ?? {};
    } catch (err) {
      out.errors.push({ key, message: `${key}: invalid YAML: ${(err as Error).message}` });
      continue;
    }
    const check = checkEntry(doc);
    const bad = check.violations[0];
    if (bad !== undefined) {
      const field = bad.field === ROOT ? key : `${key}.${bad.field}`;
      out.errors.push({ key, message: `${field}: ${bad.rule}` });
      continue;
    }
    const e = check.value;
    const entry: ScaleToZeroEntry = {
      key,
      modelID: e.model_id,
      namespace: e.namespace,
      enableScaleToZero: e.enable_scale_to_zero,
      retentionPeriod: e.retention_period,
    };
    if (key === "default") {
      out.default = entry;
      continue;
    }
    if (entry.modelID === undefined || entry.modelID === "") {
      out.errors.push({ key, message: `${key}.model_id: required in a per-model entry` });
      continue;
    }
    if (out.byModel.has(entry.modelID)) {
      out.errors.push({
        key,
        message: `${key}: duplicate model_id ${entry.modelID}; entry ${out.byModel.get(entry.modelID)!.key} wins`,
      });
      continue;
    }
    out.byModel.set(entry.modelID, entry);
  }
  return out;
}

/** `WVA_SCALE_TO_ZERO` env value means enabled (case-insensitive `true`). */
export function envScaleToZero(value: string | undefined): boolean {
  return (value ?? "").toLowerCase() === "true";
}

/**
 * Whether scale-to-zero is enabled for a model: the model's `enable_scale_to_zero` if set, else the
 * `default` entry's if set, else the `WVA_SCALE_TO_ZERO` env value.
 */
export function scaleToZeroEnabled(map: ScaleToZeroConfigMap, modelID: string, envValue?: string): boolean {
  const own = map.byModel.get(modelID)?.enableScaleToZero;
  if (own !== undefined) return own;
  if (map.default?.enableScaleToZero !== undefined) return map.default.enableScaleToZero;
  return envScaleToZero(envValue);
}

function validRetention(text: string | undefined): number | undefined {
  const ms = tryParseDuration(text);
  return ms !== undefined && ms > 0 ? ms : undefined;
}

/**
 * Retention window of a model in ms: the model's `retention_period` if it is a positive Go duration,
 * else the `default` entry's if valid, else 10 minutes. `warnings` receives invalid or long values.
 */
export function retentionPeriodMs(
  map: ScaleToZeroConfigMap,
  modelID: string,
  warnings: string[] = [],
): number {
  const own = map.byModel.get(modelID);
  const candidates: Array<[ScaleToZeroEntry | undefined, string]> = [
    [own, own?.key ?? ""],
    [map.default, "default"],
  ];
  for (const [entry, key] of candidates) {
    if (entry?.retentionPeriod === undefined) continue;
    const ms = validRetention(entry.retentionPeriod);
    if (ms === undefined) {
      warnings.push(
        `${key}.retention_period: "${entry.retentionPeriod}" is not a positive duration; ignored`,
      );
      continue;
    }
    if (ms > LONG_RETENTION_MS)
      warnings.push(`${key}.retention_period: ${entry.retentionPeriod} is longer than 24h`);
    return ms;
  }
  return DEFAULT_RETENTION_MS;
}

/** Scale-to-zero settings of one model. */
export interface ScaleToZeroResolution {
  enabled: boolean;
  retentionMs: number;
}

export function resolveScaleToZero(
  map: ScaleToZeroConfigMap,
  modelID: string,
  envValue?: string,
  warnings?: string[],
): ScaleToZeroResolution {
  return {
    enabled: scaleToZeroEnabled(map, modelID, envValue),
    retentionMs: retentionPeriodMs(map, modelID, warnings),
  };
}

/**
 * Global and namespace-local scale-to-zero ConfigMaps: a namespace-local map with entries replaces the
 * global one for its namespace.
 */
export class ScaleToZeroConfigStore {
  private global: ScaleToZeroConfigMap = { byModel: new Map(), errors: [] };
  private readonly local = new Map<string, ScaleToZeroConfigMap>();

  setGlobal(data: Record<string, string> | undefined): ScaleToZeroConfigMap {
    this.global = parseScaleToZeroConfigMap(data);
    return this.global;
  }

  setNamespace(namespace: string, data: Record<string, string> | undefined): ScaleToZeroConfigMap {
    const parsed = parseScaleToZeroConfigMap(data);
    this.local.set(namespace, parsed);
    return parsed;
  }

  deleteNamespace(namespace: string): void {
    this.local.delete(namespace);
  }

  mapFor(namespace: string): ScaleToZeroConfigMap {
    const l = this.local.get(namespace);
    return l !== undefined && (l.default !== undefined || l.byModel.size > 0) ? l : this.global;
  }

  resolve(modelID: string, namespace: string, envValue?: string, warnings?: string[]): ScaleToZeroResolution {
    return resolveScaleToZero(this.mapFor(namespace), modelID, envValue, warnings);
  }
}
