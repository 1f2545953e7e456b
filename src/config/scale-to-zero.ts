import { boolean, object, optional, string } from "../api/v1alpha1/schema-builder.js";
import { documentValidator } from "../api/v1alpha1/validate.js";
import { formatDuration, tryParseDuration } from "../util/duration.js";
import { MAX_TIMER_DELAY_MS } from "../util/timer.js";
import { parseYamlStrict } from "../util/yaml.js";

/** Fixed name of the scale-to-zero ConfigMap. */
export const SCALE_TO_ZERO_CONFIG_MAP = "wva-model-scale-to-zero-config";
/** Retention period used when none is configured or the configured one is refused (10 minutes). */
export const DEFAULT_RETENTION_MS = 10 * 60_000;
/** Shortest `retention_period` accepted. */
export const MIN_RETENTION_MS = 1;
/** Longest `retention_period` accepted: the longest delay Node's timers honour (about 24.8 days). */
export const MAX_RETENTION_MS = MAX_TIMER_DELAY_MS;

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
  /** `retention_period` in ms; absent when not set or refused (out of range). */
  retentionMs?: number;
}

export interface ScaleToZeroConfigMap {
  default?: ScaleToZeroEntry;
  /** Per-model entries keyed by model_id (lexicographically first data key wins on duplicates). */
  byModel: Map<string, ScaleToZeroEntry>;
  /** Entries skipped or values refused, and why. */
  errors: Array<{ key: string; message: string }>;
}

/** Schema of one data key's document; other fields are ignored. */
export const ScaleToZeroEntrySchema = object({
  model_id: optional(string({ description: "model the entry applies to (required except in default)" })),
  namespace: optional(string({ description: "accepted, not used for matching" })),
  enable_scale_to_zero: optional(boolean({ description: "scale the model to zero when idle" })),
  retention_period: optional(
    string({ description: "idle window, a Go duration such as 10m, from 1ms to 596h31m23.647s" }),
  ),
});

const ROOT = "(entry)";
const checkEntry = documentValidator(ScaleToZeroEntrySchema, { root: ROOT, unknownFields: "report" });

/** The range of `retention_period` in words. */
const RETENTION_RANGE = `from ${formatDuration(MIN_RETENTION_MS)} to ${formatDuration(MAX_RETENTION_MS)}`;

/**
 * Parses the scale-to-zero ConfigMap data: keys in sorted order, a YAML or type error skips the key, a
 * non-`default` entry needs `model_id`, and for a duplicate `model_id` the first key wins. A
 * `retention_period` that is not a duration in range is refused (reported; the entry keeps its other
 * fields and the retention falls back as if it were not set).
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
    };
    if (e.retention_period !== undefined) {
      const ms = tryParseDuration(e.retention_period);
      if (ms !== undefined && Number.isInteger(ms) && ms >= MIN_RETENTION_MS && ms <= MAX_RETENTION_MS)
        entry.retentionMs = ms;
      else
        out.errors.push({
          key,
          message: `${key}.retention_period: must be a duration ${RETENTION_RANGE}, got "${e.retention_period}"; ignored`,
        });
    }
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

/**
 * Retention window of a model in ms: the model's `retention_period` if set and accepted, else the
 * `default` entry's, else 10 minutes.
 */
export function retentionPeriodMs(map: ScaleToZeroConfigMap, modelID: string): number {
  return map.byModel.get(modelID)?.retentionMs ?? map.default?.retentionMs ?? DEFAULT_RETENTION_MS;
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
): ScaleToZeroResolution {
  return {
    enabled: scaleToZeroEnabled(map, modelID, envValue),
    retentionMs: retentionPeriodMs(map, modelID),
  };
}
