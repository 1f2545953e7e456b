/**
 * The SLO ConfigMap of the model-based optimizer: latency targets per model, in two forms that may be
 * mixed in one ConfigMap (one entry per data key, each a YAML document):
 *
 * - `default`: global settings, `{sloMultiplier, tuningEnabled}`;
 * - a per-model entry: `{model_id, namespace, targetTTFT, targetITL, sloMultiplier, tuningEnabled}`
 *   (targets in ms, both or neither);
 * - a service class: `{name, priority, data: [{model, slo-ttft, slo-tpot}]}` (targets in ms for every
 *   model listed; `slo-tpot` is the inter-token latency; priority 1 = most important .. 100).
 *
 * An invalid entry (strict YAML, the entry's schema, then the rules between fields) is skipped and
 * reported with the field and the rule it breaks; the others apply.
 * See docs/design/model-based-optimizer.md for how targets are resolved.
 */
import {
  array,
  boolean,
  integer,
  number,
  object,
  optional,
  string,
  type Node,
  type Static,
} from "../api/v1alpha1/schema-builder.js";
import { documentValidator } from "../api/v1alpha1/validate.js";
import type { SloTargets } from "../analyze/queueing-model/analyzer.js";
import { parseYamlStrict } from "../util/yaml.js";
import { ConfigFieldError, isPlainObject } from "./errors.js";

/** Name of the SLO ConfigMap. */
export const SLO_CONFIG_MAP = "wva-slo-config";
/** Key of the global entry. */
export const SLO_DEFAULT_ENTRY = "default";
/** Targets inferred from learned parameters assume this multiple of the idle iteration time. */
export const DEFAULT_SLO_MULTIPLIER = 3;
/** Lowest and highest priority of a service class (lower = more important). */
export const PRIORITY_RANGE = { min: 1, max: 100 } as const;

const multiplier = number({
  minimum: 0,
  description: "Multiple of the idle latency for inferred targets; > 1.",
});

const DefaultEntrySchema = object({
  sloMultiplier: optional(multiplier),
  tuningEnabled: optional(boolean()),
});

const ModelEntrySchema = object({
  model_id: string({ minLength: 1 }),
  namespace: string({ minLength: 1 }),
  targetTTFT: optional(number({ minimum: 0, description: "ms" })),
  targetITL: optional(number({ minimum: 0, description: "ms" })),
  sloMultiplier: optional(multiplier),
  tuningEnabled: optional(boolean()),
});

const ServiceClassSchema = object({
  name: string({ minLength: 1 }),
  priority: optional(integer()),
  data: array(
    object({
      model: string({ minLength: 1 }),
      "slo-ttft": optional(number({ minimum: 0, description: "ms" })),
      "slo-tpot": optional(number({ minimum: 0, description: "ms" })),
    }),
  ),
});

export interface ModelSloEntry {
  /** Data key. */
  key: string;
  modelID: string;
  namespace: string;
  targets?: SloTargets;
  sloMultiplier?: number;
  tuningEnabled?: boolean;
}

export interface ServiceClass {
  key: string;
  name: string;
  /** 1..100; out-of-range or missing values count as 100. */
  priority: number;
  /** Targets per model ID; a target of 0 is not set. */
  targets: Map<string, SloTargets>;
}

export interface SloConfig {
  sloMultiplier: number;
  tuningEnabled: boolean;
  models: ModelSloEntry[];
  classes: ServiceClass[];
  /** Entries skipped, one message each: `<key>.<field>: <rule>`. */
  errors: Array<{ key: string; message: string }>;
}

/** What applies to one model. */
export interface ModelSloSettings {
  sloMultiplier: number;
  tuningEnabled: boolean;
  /** Explicit targets (per-model entry first, then the first service class listing the model). */
  targets?: SloTargets;
  /** Priority of the service class listing the model; 100 otherwise. */
  priority: number;
}

const ROOT = "(entry)";

/** Reads one entry against its schema (unknown fields are errors); throws ConfigFieldError `<key>.<field>`. */
function reader<T>(schema: Node<T>): (key: string, doc: unknown) => T {
  const check = documentValidator(schema, { root: ROOT });
  return (key, doc) => {
    const r = check(doc);
    const v = r.violations[0];
    if (v !== undefined) throw new ConfigFieldError(v.field === ROOT ? key : `${key}.${v.field}`, v.rule);
    return r.value;
  };
}

const read = {
  default: reader(DefaultEntrySchema),
  model: reader(ModelEntrySchema),
  serviceClass: reader(ServiceClassSchema),
};

function checkMultiplier(key: string, k: number | undefined): void {
  if (k !== undefined && k !== 0 && !(k > 1))
    throw new ConfigFieldError(`${key}.sloMultiplier`, `must be > 1 (or 0 for the default), got ${k}`);
}

function modelEntry(key: string, doc: Static<typeof ModelEntrySchema>): ModelSloEntry {
  checkMultiplier(key, doc.sloMultiplier);
  const ttft = doc.targetTTFT ?? 0;
  const itl = doc.targetITL ?? 0;
  if (ttft > 0 !== itl > 0) {
    throw new ConfigFieldError(
      `${key}.${ttft > 0 ? "targetITL" : "targetTTFT"}`,
      "required and > 0 when the other target is set",
    );
  }
  return {
    key,
    modelID: doc.model_id,
    namespace: doc.namespace,
    targets: ttft > 0 ? { ttftMs: ttft, itlMs: itl } : undefined,
    sloMultiplier: doc.sloMultiplier || undefined,
    tuningEnabled: doc.tuningEnabled,
  };
}

function serviceClass(key: string, doc: Static<typeof ServiceClassSchema>): ServiceClass {
  const p = doc.priority;
  const priority =
    p !== undefined && p >= PRIORITY_RANGE.min && p <= PRIORITY_RANGE.max ? p : PRIORITY_RANGE.max;
  const targets = new Map<string, SloTargets>();
  for (const t of doc.data) {
    if (!targets.has(t.model))
      targets.set(t.model, { ttftMs: t["slo-ttft"] ?? 0, itlMs: t["slo-tpot"] ?? 0 });
  }
  return { key, name: doc.name, priority, targets };
}

/** Parses the ConfigMap data (keys in sorted order). */
export function parseSloConfigMap(data: Record<string, string> | undefined): SloConfig {
  const out: SloConfig = {
    sloMultiplier: DEFAULT_SLO_MULTIPLIER,
    tuningEnabled: true,
    models: [],
    classes: [],
    errors: [],
  };
  for (const key of Object.keys(data ?? {}).sort()) {
    try {
      let doc: unknown;
      try {
        doc = parseYamlStrict(data![key]) ?? {};
      } catch (err) {
        throw new ConfigFieldError(key, `invalid YAML: ${(err as Error).message}`);
      }
      if (key === SLO_DEFAULT_ENTRY) {
        const d = read.default(key, doc);
        checkMultiplier(key, d.sloMultiplier);
        if (d.sloMultiplier) out.sloMultiplier = d.sloMultiplier;
        if (d.tuningEnabled !== undefined) out.tuningEnabled = d.tuningEnabled;
      } else if (isPlainObject(doc) && ("data" in doc || "name" in doc)) {
        out.classes.push(serviceClass(key, read.serviceClass(key, doc)));
      } else {
        const entry = modelEntry(key, read.model(key, doc));
        const dup = out.models.find((m) => m.modelID === entry.modelID && m.namespace === entry.namespace);
        if (dup)
          throw new ConfigFieldError(
            `${key}.model_id`,
            `${entry.namespace}/${entry.modelID} is already set by "${dup.key}"`,
          );
        out.models.push(entry);
      }
    } catch (err) {
      out.errors.push({ key, message: (err as Error).message });
    }
  }
  return out;
}

/** The settings of one model: its per-model entry wins over service classes, which win over defaults. */
export function sloSettingsFor(config: SloConfig, modelID: string, namespace: string): ModelSloSettings {
  const entry = config.models.find((m) => m.modelID === modelID && m.namespace === namespace);
  const cls = config.classes.find((c) => c.targets.has(modelID));
  const classTargets = cls?.targets.get(modelID);
  return {
    sloMultiplier: entry?.sloMultiplier ?? config.sloMultiplier,
    tuningEnabled: entry?.tuningEnabled ?? config.tuningEnabled,
    targets:
      entry?.targets ??
      (classTargets && (classTargets.ttftMs > 0 || classTargets.itlMs > 0) ? classTargets : undefined),
    priority: cls?.priority ?? PRIORITY_RANGE.max,
  };
}
