import { Ajv, type ErrorObject } from "ajv";
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { DurationError, parseDuration } from "../../util/duration.js";

/**
 * Playground scenarios: a YAML file naming the GPU nodes, the models with their variants, the
 * actuation path, the engine interval and a load schedule per model. `parseScenario` validates the
 * document and returns it with defaults applied and every duration converted to milliseconds.
 */

/** Thrown for an invalid scenario; the message names the field and the rule on one line. */
export class ScenarioError extends Error {
  constructor(
    readonly field: string,
    readonly rule: string,
  ) {
    super(field === "" ? rule : `${field}: ${rule}`);
    this.name = "ScenarioError";
  }
}

/** vLLM emulator speed and size parameters of one variant (iteration time in ms). */
export interface EmulatorParams {
  maxBatch: number;
  kvBlocks: number;
  blockSize: number;
  alpha: number;
  beta: number;
  gamma: number;
}

export interface VariantSpec {
  name: string;
  accelerator: string;
  cost: number;
  gpusPerReplica: number;
  initialReplicas: number;
  minReplicas: number;
  maxReplicas: number;
  /** Time from pod creation to Ready (model loading), ms. */
  startupDelayMs: number;
  emulator: EmulatorParams;
}

export interface LoadStep {
  /** Requests per second. */
  rate: number;
  durationMs: number;
}

export interface TraceLoad {
  /** Absolute path of the trace file (Azure LLM trace CSV: TIMESTAMP,ContextTokens,GeneratedTokens). */
  file: string;
  /** Trace time is divided by this factor (2 = twice as fast). */
  timeScale: number;
  /** Share of the trace's requests that are sent (0.5 = every other request, 2 = each one twice). */
  rateScale: number;
  /** Trace time to start at, ms from the first request. */
  startMs: number;
}

export interface ModelLoad {
  tokens: { input: number; output: number };
  /** Arrival process within each schedule step. */
  arrival: "poisson" | "constant";
  schedule?: LoadStep[];
  trace?: TraceLoad;
}

export interface ModelSpec {
  modelID: string;
  namespace: string;
  variants: VariantSpec[];
  load: ModelLoad;
}

export interface NodeGroupSpec {
  /** Spec text as written, e.g. `2xH100:8`. */
  spec: string;
  count: number;
  accelerator: string;
  gpusPerNode: number;
}

export interface HpaOptions {
  /** Stabilization window for scale-down (and scale-up unless scaleUpStabilizationWindow is set), ms. */
  stabilizationWindowMs: number;
  scaleUpStabilizationWindowMs: number;
  /** Tolerance on the usage ratio (0.1 = 10 %). */
  tolerance: number;
  /** How often the emulated HPA controller evaluates, ms. */
  syncPeriodMs: number;
}

/** The saturation engine's thresholds for the trial (the `default` entry of the saturation ConfigMap). */
export interface SaturationSpec {
  kvCacheThreshold: number;
  queueLengthThreshold: number;
  kvSpareTrigger: number;
  queueSpareTrigger: number;
}

export const DEFAULT_SATURATION: SaturationSpec = {
  kvCacheThreshold: 0.8,
  queueLengthThreshold: 5,
  kvSpareTrigger: 0.1,
  queueSpareTrigger: 3,
};

export interface Scenario {
  name: string;
  engineIntervalMs: number;
  actuation: "hpa" | "direct";
  hpa: HpaOptions;
  saturation: SaturationSpec;
  nodes: NodeGroupSpec[];
  /** Trial length, ms: the given duration, else the longest load schedule. */
  durationMs: number;
  models: ModelSpec[];
}

export const DEFAULT_EMULATOR: EmulatorParams = {
  maxBatch: 64,
  kvBlocks: 2000,
  blockSize: 16,
  alpha: 5,
  beta: 0.05,
  gamma: 0.0005,
};

const DURATION_PATTERN = "^[+]?(0|(\\d+(\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h))+$";
const duration = { type: "string", pattern: DURATION_PATTERN };
const NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
export const NODE_SPEC_PATTERN = /^(\d+)x([A-Za-z0-9][A-Za-z0-9._-]*):(\d+)$/;

/** JSON schema of the scenario document (durations as Go duration strings). */
export const scenarioSchema = {
  type: "object",
  additionalProperties: false,
  required: ["name", "nodes", "models"],
  properties: {
    name: { type: "string", minLength: 1 },
    engineInterval: duration,
    actuation: { enum: ["hpa", "direct"] },
    hpa: {
      type: "object",
      additionalProperties: false,
      properties: {
        stabilizationWindow: duration,
        scaleUpStabilizationWindow: duration,
        tolerance: { type: "number", minimum: 0, maximum: 1 },
        syncPeriod: duration,
      },
    },
    saturation: {
      type: "object",
      additionalProperties: false,
      properties: {
        kvCacheThreshold: { type: "number", minimum: 0, maximum: 1 },
        queueLengthThreshold: { type: "number", minimum: 0 },
        kvSpareTrigger: { type: "number", minimum: 0, maximum: 1 },
        queueSpareTrigger: { type: "number", minimum: 0 },
      },
    },
    nodes: {
      type: "array",
      minItems: 1,
      items: { type: "string", pattern: NODE_SPEC_PATTERN.source },
    },
    duration,
    models: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["modelID", "variants", "load"],
        properties: {
          modelID: { type: "string", minLength: 1 },
          namespace: { type: "string", pattern: NAME_PATTERN, maxLength: 63 },
          variants: {
            type: "array",
            minItems: 1,
            items: {
              type: "object",
              additionalProperties: false,
              required: ["name", "accelerator", "cost"],
              properties: {
                name: { type: "string", pattern: NAME_PATTERN, maxLength: 63 },
                accelerator: { type: "string", minLength: 2 },
                cost: { type: "number", minimum: 0 },
                gpusPerReplica: { type: "integer", minimum: 1 },
                initialReplicas: { type: "integer", minimum: 0 },
                minReplicas: { type: "integer", minimum: 0 },
                maxReplicas: { type: "integer", minimum: 1 },
                startupDelay: duration,
                emulator: {
                  type: "object",
                  additionalProperties: false,
                  properties: {
                    maxBatch: { type: "integer", minimum: 1 },
                    kvBlocks: { type: "integer", minimum: 1 },
                    blockSize: { type: "integer", minimum: 1 },
                    alpha: { type: "number", minimum: 0 },
                    beta: { type: "number", minimum: 0 },
                    gamma: { type: "number", minimum: 0 },
                  },
                },
              },
            },
          },
          load: {
            type: "object",
            additionalProperties: false,
            properties: {
              tokens: {
                type: "object",
                additionalProperties: false,
                properties: {
                  input: { type: "integer", minimum: 1 },
                  output: { type: "integer", minimum: 1 },
                },
              },
              arrival: { enum: ["poisson", "constant"] },
              schedule: {
                type: "array",
                minItems: 1,
                items: {
                  type: "object",
                  additionalProperties: false,
                  required: ["rate", "duration"],
                  properties: {
                    rate: { type: "number", minimum: 0 },
                    duration,
                  },
                },
              },
              trace: {
                type: "object",
                additionalProperties: false,
                required: ["file"],
                properties: {
                  file: { type: "string", minLength: 1 },
                  timeScale: { type: "number", exclusiveMinimum: 0 },
                  rateScale: { type: "number", exclusiveMinimum: 0 },
                  start: duration,
                },
              },
            },
          },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: true });
const validateDocument = ajv.compile(scenarioSchema);

/** `/models/0/variants/1/cost` → `models[0].variants[1].cost`. */
export function fieldPath(pointer: string, child?: string): string {
  const parts = pointer
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (child !== undefined) parts.push(child);
  let out = "";
  for (const p of parts) {
    if (/^\d+$/.test(p)) out += `[${p}]`;
    else out += out === "" ? p : `.${p}`;
  }
  return out;
}

function describeAjvError(e: ErrorObject): ScenarioError {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required":
      return new ScenarioError(
        fieldPath(e.instancePath, String(p.missingProperty)),
        "required field is missing",
      );
    case "additionalProperties":
      return new ScenarioError(fieldPath(e.instancePath, String(p.additionalProperty)), "unknown field");
    case "enum":
      return new ScenarioError(
        fieldPath(e.instancePath),
        `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`,
      );
    case "pattern": {
      const field = fieldPath(e.instancePath);
      if (p.pattern === DURATION_PATTERN)
        return new ScenarioError(field, "must be a duration such as 500ms, 30s, 2m or 1h30m");
      if (p.pattern === NODE_SPEC_PATTERN.source)
        return new ScenarioError(field, "must be COUNTxACCELERATOR:GPUS, for example 2xH100:8");
      return new ScenarioError(
        field,
        "must be a lower-case DNS label (letters, digits and '-', starting and ending alphanumeric)",
      );
    }
    case "type":
      return new ScenarioError(fieldPath(e.instancePath), `must be ${String(p.type)}`);
    default:
      return new ScenarioError(fieldPath(e.instancePath), e.message ?? "is invalid");
  }
}

function ms(text: string | undefined, field: string, fallback: number): number {
  if (text === undefined) return fallback;
  try {
    return parseDuration(text);
  } catch (err) {
    if (err instanceof DurationError) throw new ScenarioError(field, err.message);
    throw err;
  }
}

function positiveMs(text: string | undefined, field: string, fallback: number): number {
  const v = ms(text, field, fallback);
  if (!(v > 0)) throw new ScenarioError(field, "must be a positive duration");
  return v;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the document shape is checked by the schema above */
/**
 * Validates a parsed scenario document and normalises it. `baseDir` resolves relative trace paths
 * (the scenario file's folder). Throws ScenarioError naming the first invalid field.
 */
export function normalizeScenario(doc: unknown, baseDir = process.cwd()): Scenario {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new ScenarioError("", "the scenario must be a YAML mapping (name, nodes, models, ...)");
  }
  if (!validateDocument(doc)) throw describeAjvError(validateDocument.errors![0]);
  const d = doc as any;

  const nodes: NodeGroupSpec[] = (d.nodes as string[]).map((spec, i) => {
    const m = NODE_SPEC_PATTERN.exec(spec)!;
    const count = Number(m[1]);
    const gpusPerNode = Number(m[3]);
    if (count < 1) throw new ScenarioError(`nodes[${i}]`, "node count must be at least 1");
    if (gpusPerNode < 1) throw new ScenarioError(`nodes[${i}]`, "GPUs per node must be at least 1");
    return { spec, count, accelerator: m[2], gpusPerNode };
  });
  const maxGpusPerNode = new Map<string, number>();
  for (const n of nodes) {
    maxGpusPerNode.set(n.accelerator, Math.max(maxGpusPerNode.get(n.accelerator) ?? 0, n.gpusPerNode));
  }

  const engineIntervalMs = positiveMs(d.engineInterval, "engineInterval", 5000);
  const hpaDoc = d.hpa ?? {};
  const stabilizationWindowMs = ms(hpaDoc.stabilizationWindow, "hpa.stabilizationWindow", 0);
  const hpa: HpaOptions = {
    stabilizationWindowMs,
    scaleUpStabilizationWindowMs: ms(
      hpaDoc.scaleUpStabilizationWindow,
      "hpa.scaleUpStabilizationWindow",
      stabilizationWindowMs,
    ),
    tolerance: hpaDoc.tolerance ?? 0.1,
    syncPeriodMs: positiveMs(hpaDoc.syncPeriod, "hpa.syncPeriod", Math.min(engineIntervalMs, 15000)),
  };
  if (hpa.stabilizationWindowMs < 0)
    throw new ScenarioError("hpa.stabilizationWindow", "must not be negative");
  if (hpa.scaleUpStabilizationWindowMs < 0)
    throw new ScenarioError("hpa.scaleUpStabilizationWindow", "must not be negative");

  const saturation: SaturationSpec = { ...DEFAULT_SATURATION, ...(d.saturation ?? {}) };
  if (saturation.kvSpareTrigger > saturation.kvCacheThreshold)
    throw new ScenarioError(
      d.saturation?.kvSpareTrigger !== undefined
        ? "saturation.kvSpareTrigger"
        : "saturation.kvCacheThreshold",
      `kvCacheThreshold (${saturation.kvCacheThreshold}) must be >= kvSpareTrigger (${saturation.kvSpareTrigger})`,
    );

  const seenModels = new Set<string>();
  const seenVariants = new Set<string>();
  const models: ModelSpec[] = (d.models as any[]).map((m, mi) => {
    const at = `models[${mi}]`;
    const namespace: string = m.namespace ?? "default";
    const key = `${namespace}/${m.modelID}`;
    if (seenModels.has(key)) throw new ScenarioError(`${at}.modelID`, `duplicate model ${key}`);
    seenModels.add(key);

    const variants: VariantSpec[] = (m.variants as any[]).map((v, vi) => {
      const vat = `${at}.variants[${vi}]`;
      const vkey = `${namespace}/${v.name}`;
      if (seenVariants.has(vkey))
        throw new ScenarioError(`${vat}.name`, `duplicate variant ${vkey} (names are unique per namespace)`);
      seenVariants.add(vkey);
      const gpusPerReplica: number = v.gpusPerReplica ?? 1;
      const offered = maxGpusPerNode.get(v.accelerator);
      if (offered === undefined) {
        throw new ScenarioError(
          `${vat}.accelerator`,
          `no node offers accelerator ${v.accelerator} (nodes: ${nodes.map((n) => n.spec).join(", ")})`,
        );
      }
      if (gpusPerReplica > offered) {
        throw new ScenarioError(
          `${vat}.gpusPerReplica`,
          `${gpusPerReplica} GPUs do not fit on any ${v.accelerator} node (at most ${offered} per node)`,
        );
      }
      const initialReplicas: number = v.initialReplicas ?? 1;
      const minReplicas: number = v.minReplicas ?? 1;
      const maxReplicas: number = v.maxReplicas ?? Math.max(8, initialReplicas);
      if (minReplicas > maxReplicas)
        throw new ScenarioError(`${vat}.minReplicas`, `must not exceed maxReplicas (${maxReplicas})`);
      if (initialReplicas > maxReplicas)
        throw new ScenarioError(`${vat}.initialReplicas`, `must not exceed maxReplicas (${maxReplicas})`);
      const emulator: EmulatorParams = { ...DEFAULT_EMULATOR, ...(v.emulator ?? {}) };
      return {
        name: v.name,
        accelerator: v.accelerator,
        cost: v.cost,
        gpusPerReplica,
        initialReplicas,
        minReplicas,
        maxReplicas,
        startupDelayMs: ms(v.startupDelay, `${vat}.startupDelay`, 0),
        emulator,
      };
    });

    const l = m.load;
    if (l.schedule === undefined && l.trace === undefined)
      throw new ScenarioError(`${at}.load`, "needs either schedule or trace");
    if (l.schedule !== undefined && l.trace !== undefined)
      throw new ScenarioError(`${at}.load`, "schedule and trace are mutually exclusive; give one");
    const load: ModelLoad = {
      tokens: { input: l.tokens?.input ?? 256, output: l.tokens?.output ?? 128 },
      arrival: l.arrival ?? "poisson",
    };
    if (l.schedule !== undefined) {
      load.schedule = (l.schedule as any[]).map((s, si) => ({
        rate: s.rate,
        durationMs: positiveMs(s.duration, `${at}.load.schedule[${si}].duration`, 0),
      }));
    } else {
      const file = resolve(baseDir, l.trace.file);
      if (!existsSync(file)) throw new ScenarioError(`${at}.load.trace.file`, `file not found: ${file}`);
      load.trace = {
        file,
        timeScale: l.trace.timeScale ?? 1,
        rateScale: l.trace.rateScale ?? 1,
        startMs: ms(l.trace.start, `${at}.load.trace.start`, 0),
      };
    }
    return { modelID: m.modelID, namespace, variants, load };
  });

  // GPU budget: the initial replicas must fit on the nodes of their accelerator.
  const need = new Map<string, number>();
  for (const m of models)
    for (const v of m.variants)
      need.set(v.accelerator, (need.get(v.accelerator) ?? 0) + v.initialReplicas * v.gpusPerReplica);
  for (const [acc, gpus] of need) {
    const have = nodes.filter((n) => n.accelerator === acc).reduce((s, n) => s + n.count * n.gpusPerNode, 0);
    if (gpus > have)
      throw new ScenarioError(
        "nodes",
        `initial replicas need ${gpus} ${acc} GPUs but the nodes offer ${have}`,
      );
  }

  let durationMs: number;
  if (d.duration !== undefined) {
    durationMs = positiveMs(d.duration, "duration", 0);
  } else {
    const longest = Math.max(
      0,
      ...models.map((m) => (m.load.schedule ?? []).reduce((s, step) => s + step.durationMs, 0)),
    );
    if (longest === 0)
      throw new ScenarioError("duration", "required when no model has a load schedule (trace loads only)");
    durationMs = longest;
  }

  return {
    name: d.name,
    engineIntervalMs,
    actuation: d.actuation ?? "hpa",
    hpa,
    saturation,
    nodes,
    durationMs,
    models,
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Parses scenario YAML text; YAML syntax errors name the line. */
export function parseScenario(text: string, baseDir = process.cwd()): Scenario {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const e = err as { message?: string; linePos?: Array<{ line: number; col: number }> };
    const where = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "";
    const what = (e.message ?? String(err)).split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    throw new ScenarioError("", `not valid YAML${where}: ${what}`);
  }
  return normalizeScenario(doc, baseDir);
}

/** Reads and validates a scenario file. */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ScenarioError("--scenario", `cannot read ${path}: ${(err as Error).message}`);
  }
  return parseScenario(text, dirname(resolve(path)));
}
