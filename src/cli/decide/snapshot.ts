import {
  array,
  boolean,
  integer,
  nullable,
  number,
  object,
  optional,
  record,
  string,
  stringEnum,
  type Static,
} from "../../api/v1alpha1/schema-builder.js";
import { documentValidator } from "../../api/v1alpha1/validate.js";
import { ConfigFieldError } from "../../config/errors.js";
import {
  applySaturationDefaults,
  mergeSaturation,
  SaturationEntrySchema,
  saturationFieldsOf,
  SaturationOverrideSchema,
  validateSaturationConfig,
  type SaturationOverride,
} from "../../config/saturation.js";
import { hasEngine } from "../../engine/registry.js";
import type { GpuInventory, SaturationConfig } from "../../engine/types.js";
import { DEFAULT_SATURATION_CONFIG, DEFAULT_VARIANT_COST, groupKey } from "../../engine/types.js";
import { parseYamlStrict } from "../../util/yaml.js";
import type { VllmParams } from "../../analyze/token-capacity/index.js";
import {
  TOKEN_REPLICA_FIELDS,
  TOKEN_SNAPSHOT_FIELDS,
  TOKEN_VARIANT_FIELDS,
  tokenSnapshot,
  variantParams,
  type TokenSnapshot,
} from "./token-capacity.js";

/** Largest replica count or GPU count a snapshot may carry. */
const MAX_COUNT = 2 ** 31 - 1;
const count = (description: string) => integer({ minimum: 0, maximum: MAX_COUNT, description });
const name = (description: string) => string({ minLength: 1, description });

const ReplicaSchema = object({
  pod: name("pod name, unique in its variant"),
  kvCacheUsage: number({ minimum: 0, maximum: 1, description: "KV-cache usage, 0..1" }),
  queueLength: number({ minimum: 0, description: "requests waiting in the pod's queue" }),
  ...TOKEN_REPLICA_FIELDS,
  arrivalRate: optional(number({ minimum: 0, description: "queueing-model: requests per second" })),
  ttftMs: optional(number({ minimum: 0, description: "queueing-model: average time to first token, ms" })),
  itlMs: optional(number({ minimum: 0, description: "queueing-model: average inter-token latency, ms" })),
});

const ParametersSchema = object({
  alpha: number({ minimum: 0, description: "ms per iteration" }),
  beta: number({ minimum: 0, description: "ms per computed token" }),
  gamma: number({ minimum: 0, description: "ms per cached token" }),
});

const SloSchema = object({
  modelID: name("model"),
  namespace: name("namespace of the model"),
  ttftMs: number({ minimum: 0, description: "time-to-first-token target, ms; 0 = not constrained" }),
  itlMs: number({ minimum: 0, description: "inter-token latency target, ms; 0 = not constrained" }),
});

/** Where a snapshot bound comes from (the GPU limiter's grant is computed, not given). */
const SNAPSHOT_BOUND_SOURCES = ["annotation", "hpa"] as const;

const BoundSchema = object({
  source: stringEnum(SNAPSHOT_BOUND_SOURCES, {
    description:
      "annotation = the VA's wva.llmd.ai/max-replicas; hpa = maxReplicas of an HPA on the Deployment",
  }),
  maxReplicas: count("most replicas the variant may have"),
});

const VariantSchema = object({
  name: name("VariantAutoscaling name"),
  namespace: name("namespace of the variant"),
  modelID: name("model served by the variant"),
  accelerator: optional(string({ description: 'accelerator short name; "" or absent = unknown' })),
  cost: optional(number({ minimum: 0, description: "cost per replica (default 10)" })),
  gpusPerReplica: optional(count("GPUs per replica (default 1)")),
  currentReplicas: count("replicas of the Deployment"),
  readyReplicas: optional(count("ready replicas (default currentReplicas)")),
  desiredReplicas: optional(count("previous decision; 0 = none (default)")),
  replicas: optional(array(ReplicaSchema, { description: "metrics of the serving pods" })),
  bounds: optional(array(BoundSchema, { description: "maximum replicas the decision must respect" })),
  maxBatchSize: optional(
    integer({ minimum: 1, maximum: MAX_COUNT, description: "queueing-model: vLLM --max-num-seqs" }),
  ),
  parameters: optional(ParametersSchema),
  ...TOKEN_VARIANT_FIELDS,
});

const ScaleToZeroSchema = object({
  modelID: name("model"),
  namespace: name("namespace of the model"),
  enabled: boolean({ description: "scale-to-zero enabled for the model" }),
  requestCount: optional(
    nullable(number({ minimum: 0, description: "requests in the window; null = unknown" })),
  ),
});

/** Schema of a `wva decide` snapshot (docs/user-guide/wva-decide.md). */
export const SnapshotSchema = object({
  saturation: optional(SaturationEntrySchema),
  saturationOverrides: optional(array(SaturationOverrideSchema)),
  scaleToZero: optional(array(ScaleToZeroSchema)),
  gpuInventory: optional(record(count("GPUs of this accelerator in the cluster"))),
  slo: optional(array(SloSchema, { description: "queueing-model: latency targets per model" })),
  variants: array(VariantSchema),
  ...TOKEN_SNAPSHOT_FIELDS,
});
type SnapshotDocument = Static<typeof SnapshotSchema>;

/** One pod of a snapshot variant. */
export type SnapshotReplica = Static<typeof ReplicaSchema>;

/**
 * One variant of a snapshot, defaults filled in; `vllmParams` parsed from `vllmArgs` and `env`;
 * `maxBatchSize`, `parameters` and `bounds` stay optional.
 */
export type SnapshotVariant = Required<
  Omit<
    Static<typeof VariantSchema>,
    keyof typeof TOKEN_VARIANT_FIELDS | "maxBatchSize" | "parameters" | "bounds"
  >
> &
  Pick<Static<typeof VariantSchema>, "maxBatchSize" | "parameters" | "bounds"> & {
    vllmParams?: VllmParams;
  };

/** Latency targets of one model. */
export type SnapshotSlo = Static<typeof SloSchema>;

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
  slo: SnapshotSlo[];
  variants: SnapshotVariant[];
  /** Token-capacity analyzer inputs (scheduler queues, capacity store content). */
  tokens: TokenSnapshot;
}

/** Invalid snapshot: `field` is the path of the offending key (e.g. `variants[0].currentReplicas`). */
export class SnapshotError extends ConfigFieldError {}

const ROOT = "snapshot";
const checkDocument = documentValidator(SnapshotSchema, { root: ROOT });

function fail(field: string, rule: string): never {
  throw new SnapshotError(field, rule);
}

/** Runs a saturation rule check, reporting its failure as a snapshot error. */
function rule(check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof ConfigFieldError) fail(err.field, err.rule);
    throw err;
  }
}

/** A saturation engine this version does not build: say so instead of silently running another one. */
function requireEngine(analyzerName: string | undefined, field: string): void {
  if (analyzerName !== undefined && !hasEngine(analyzerName)) {
    fail(field, `analyzer "${analyzerName}" is not available in this version; use "" (V1)`);
  }
}

/** Parses snapshot text (YAML or JSON). Throws SnapshotError naming the field and rule. */
export function parseSnapshotText(text: string): Snapshot {
  let doc: unknown;
  try {
    doc = parseYamlStrict(text);
  } catch (err) {
    fail(ROOT, `not valid YAML or JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return validateSnapshot(doc);
}

/**
 * Validates a parsed snapshot document and fills in defaults: first the schema (unknown fields, types,
 * finite numbers, ranges, required fields), then the rules that relate fields. The document is not
 * modified. Linear in the size of the document.
 */
export function validateSnapshot(doc: unknown): Snapshot {
  if (doc === null || doc === undefined) fail(ROOT, "is empty");
  const check = checkDocument(doc);
  if (check.violations.length > 0) fail(check.violations[0].field, check.violations[0].rule);
  const top: SnapshotDocument = check.value;

  // saturation: omitted keys take the shipped defaults
  const saturation = applySaturationDefaults(
    mergeSaturation(DEFAULT_SATURATION_CONFIG, saturationFieldsOf(top.saturation ?? {})),
  );
  rule(() => validateSaturationConfig(saturation, "saturation"));
  requireEngine(top.saturation?.analyzerName, "saturation.analyzerName");

  const overrides: SaturationOverride[] = [];
  const overrideIds = new Set<string>();
  (top.saturationOverrides ?? []).forEach((o, i) => {
    const path = `saturationOverrides[${i}]`;
    if (o.model_id === undefined) fail(`${path}.model_id`, "required field is missing");
    if (o.model_id === "") fail(`${path}.model_id`, "must not be empty");
    const namespace = o.namespace ?? "";
    const id = groupKey(o.model_id, namespace);
    if (overrideIds.has(id))
      fail(path, `duplicate override for model_id ${o.model_id} and namespace "${namespace}"`);
    overrideIds.add(id);
    const fields = saturationFieldsOf(o);
    rule(() => validateSaturationConfig(applySaturationDefaults(mergeSaturation(saturation, fields)), path));
    requireEngine(o.analyzerName, `${path}.analyzerName`);
    overrides.push({ key: path, modelID: o.model_id, namespace, fields });
  });

  const scaleToZero: SnapshotScaleToZero[] = [];
  const stzIds = new Set<string>();
  (top.scaleToZero ?? []).forEach((e, i) => {
    const id = groupKey(e.modelID, e.namespace);
    if (stzIds.has(id))
      fail(`scaleToZero[${i}]`, `duplicate entry for modelID ${e.modelID} in namespace ${e.namespace}`);
    stzIds.add(id);
    scaleToZero.push({
      modelID: e.modelID,
      namespace: e.namespace,
      enabled: e.enabled,
      requestCount: e.requestCount ?? null,
    });
  });

  const gpuInventory = top.gpuInventory === undefined ? undefined : { ...top.gpuInventory };
  if (saturation.enableLimiter && gpuInventory === undefined) {
    fail("gpuInventory", "required when saturation.enableLimiter is true");
  }

  const slo: SnapshotSlo[] = [];
  const sloIds = new Set<string>();
  (top.slo ?? []).forEach((e, i) => {
    const id = groupKey(e.modelID, e.namespace);
    if (sloIds.has(id))
      fail(`slo[${i}]`, `duplicate entry for modelID ${e.modelID} in namespace ${e.namespace}`);
    sloIds.add(id);
    slo.push({ ...e });
  });

  const ids = new Set<string>();
  const variants = top.variants.map((o, i): SnapshotVariant => {
    const path = `variants[${i}]`;
    const id = `${o.namespace}/${o.name}`;
    if (ids.has(id)) fail(`${path}.name`, `duplicate variant ${o.name} in namespace ${o.namespace}`);
    ids.add(id);
    const readyReplicas = o.readyReplicas ?? o.currentReplicas;
    if (readyReplicas > o.currentReplicas) {
      fail(`${path}.readyReplicas`, `must be <= currentReplicas (${readyReplicas} > ${o.currentReplicas})`);
    }
    const p = o.parameters;
    if (p && p.alpha + p.beta + p.gamma === 0)
      fail(`${path}.parameters`, "alpha, beta and gamma must not all be 0");
    const replicas = o.replicas ?? [];
    const pods = new Set<string>();
    replicas.forEach((r, j) => {
      if (pods.has(r.pod)) fail(`${path}.replicas[${j}].pod`, `duplicate pod ${r.pod}`);
      pods.add(r.pod);
    });
    const vllmParams = variantParams(o);
    return {
      ...(vllmParams === undefined ? {} : { vllmParams }),
      name: o.name,
      namespace: o.namespace,
      modelID: o.modelID,
      accelerator: o.accelerator || "unknown",
      cost: o.cost ?? DEFAULT_VARIANT_COST,
      gpusPerReplica: o.gpusPerReplica ?? 1,
      currentReplicas: o.currentReplicas,
      readyReplicas,
      desiredReplicas: o.desiredReplicas ?? 0,
      replicas: replicas.map((r) => ({ ...r })),
      ...(o.bounds !== undefined && o.bounds.length > 0 && { bounds: o.bounds.map((b) => ({ ...b })) }),
      ...(o.maxBatchSize !== undefined && { maxBatchSize: o.maxBatchSize }),
      ...(o.parameters !== undefined && { parameters: { ...o.parameters } }),
    };
  });

  const tokens = tokenSnapshot(top, fail);
  return { saturation, saturationOverrides: overrides, scaleToZero, gpuInventory, slo, variants, tokens };
}
