// Over 450 lines: the scenario schema, its defaults and every range and cross-field rule in one place.
import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import {
  array,
  integer,
  number,
  object,
  optional,
  string,
  stringEnum,
  type Static,
} from "../../api/v1alpha1/schema-builder.js";
import { documentValidator, type FieldViolation } from "../../api/v1alpha1/validate.js";
import type { SloTargets } from "../../analyze/queueing-model/analyzer.js";
import { DEFAULT_RETENTION_MS } from "../../config/scale-to-zero.js";
import { ConfigFieldError } from "../../config/errors.js";
import { applySaturationDefaults, validateSaturationConfig } from "../../config/saturation.js";
import { ANALYZER_NAMES, DEFAULT_SATURATION_CONFIG } from "../../types/decision.js";
import { DurationError, parseDuration } from "../../util/duration.js";
import { LoadSpecError, traceArrivals } from "../load/patterns.js";
import { DEFAULT_ENGINE_CONFIG, type PerformanceParams } from "../vllm/engine.js";

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

/** vLLM emulator speed and size parameters of one variant (iteration time in ms): the engine's own type. */
export type EmulatorParams = PerformanceParams;

/**
 * Latency targets of one model (the decision engine's SLO targets, in ms): a request meets them when its
 * time to first token and its mean inter-token latency are both within.
 */
export type Slo = Pick<SloTargets, "ttftMs" | "itlMs">;

/** Latency targets of a model whose scenario entry has no `slo`. */
export const DEFAULT_SLO: Slo = { ttftMs: 2000, itlMs: 200 };

/** How long a request waits in the router for a ready pod before it fails, when the scenario says nothing. */
export const DEFAULT_ROUTER_TIMEOUT_MS = 60_000;

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

/** Scale-to-zero of one model: with no successful request for `retentionMs`, every variant goes to 0. */
export interface ScaleToZeroSpec {
  retentionMs: number;
}

export interface ModelSpec {
  modelID: string;
  namespace: string;
  variants: VariantSpec[];
  load: ModelLoad;
  slo: Slo;
  /** Scale-to-zero on for this model (woken from zero by its first queued request); absent = off. */
  scaleToZero?: ScaleToZeroSpec;
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
  /** Decision engine: absent or "" = V1, "saturation" = the token-capacity analyzer (V2), "queueing-model" = sized against each model's `slo`. */
  analyzerName?: string;
  /** V2: scale up above this utilisation (default 0.85). */
  scaleUpThreshold?: number;
  /** V2: scale down below this utilisation (default 0.70). */
  scaleDownBoundary?: number;
}

export const DEFAULT_SATURATION: SaturationSpec = {
  kvCacheThreshold: 0.8,
  queueLengthThreshold: 5,
  kvSpareTrigger: 0.1,
  queueSpareTrigger: 3,
};

/** Targets of the HPA baselines of `wva simulate`. */
export interface BaselineSpec {
  /** `hpa-kv`: average KV-cache use per replica, 0..1. */
  hpaKvTarget: number;
  /** `hpa-queue`: waiting requests per replica. */
  hpaQueueTarget: number;
  /** `oracle`: share of each window's requests its replica mix must serve within the targets, 0..1. */
  oracleAttainment: number;
}

export const DEFAULT_BASELINES: BaselineSpec = {
  hpaKvTarget: 0.7,
  hpaQueueTarget: 5,
  oracleAttainment: 0.99,
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
  /** How long a request waits in the router for a ready pod before it fails, ms (`wva simulate`). */
  routerTimeoutMs: number;
  baselines: BaselineSpec;
  models: ModelSpec[];
}

const { maxQueue: _unbounded, ...engineDefaults } = DEFAULT_ENGINE_CONFIG;
export const DEFAULT_EMULATOR: EmulatorParams = engineDefaults;

const DURATION_PATTERN = "^[+]?(0|(\\d+(\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h))+$";
const NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
export const NODE_SPEC_PATTERN = /^(\d+)x([A-Za-z0-9][A-Za-z0-9._-]*):(\d+)$/;

const HOUR = 3_600_000;
/** Upper bounds of the durations (ms); every duration field names its bound in the error. */
export const DURATION_LIMITS = {
  engineInterval: 10 * 60_000,
  stabilizationWindow: HOUR,
  syncPeriod: 10 * 60_000,
  duration: 7 * 24 * HOUR,
  routerTimeout: HOUR,
  startupDelay: HOUR,
  retention: 24 * HOUR,
  scheduleStep: 7 * 24 * HOUR,
  traceStart: 30 * 24 * HOUR,
} as const;
/** Most requests one run may generate (all models together). */
export const MAX_REQUESTS = 20_000_000;

const duration = string({ pattern: DURATION_PATTERN, maxLength: 64 });
const fraction = number({ minimum: 0, maximum: 1 });

const EmulatorDoc = object({
  maxBatch: optional(integer({ minimum: 1, maximum: 4096 })),
  kvBlocks: optional(integer({ minimum: 1, maximum: 10_000_000 })),
  blockSize: optional(integer({ minimum: 1, maximum: 1024 })),
  alpha: optional(number({ minimum: 0, maximum: 10_000 })),
  beta: optional(number({ minimum: 0, maximum: 1000 })),
  gamma: optional(number({ minimum: 0, maximum: 100 })),
});

const VariantDoc = object({
  name: string({ pattern: NAME_PATTERN, maxLength: 63 }),
  accelerator: string({ minLength: 2, maxLength: 63 }),
  cost: number({ minimum: 0, maximum: 1_000_000 }),
  gpusPerReplica: optional(integer({ minimum: 1, maximum: 64 })),
  initialReplicas: optional(integer({ minimum: 0, maximum: 1000 })),
  minReplicas: optional(integer({ minimum: 0, maximum: 1000 })),
  maxReplicas: optional(integer({ minimum: 1, maximum: 1000 })),
  startupDelay: optional(duration),
  emulator: optional(EmulatorDoc),
});

const LoadDoc = object({
  tokens: optional(
    object({
      input: optional(integer({ minimum: 1, maximum: 1_000_000 })),
      output: optional(integer({ minimum: 1, maximum: 1_000_000 })),
    }),
  ),
  arrival: optional(stringEnum(["poisson", "constant"])),
  schedule: optional(
    array(object({ rate: number({ minimum: 0, maximum: 10_000 }), duration }), {
      minItems: 1,
      maxItems: 10_000,
    }),
  ),
  trace: optional(
    object({
      file: string({ minLength: 1, maxLength: 4096 }),
      timeScale: optional(number({ minimum: 0.001, maximum: 10_000 })),
      rateScale: optional(number({ minimum: 0.001, maximum: 1000 })),
      start: optional(duration),
    }),
  ),
});

const ModelDoc = object({
  modelID: string({ minLength: 1, maxLength: 253 }),
  namespace: optional(string({ pattern: NAME_PATTERN, maxLength: 63 })),
  variants: array(VariantDoc, { minItems: 1, maxItems: 20 }),
  load: LoadDoc,
  scaleToZero: optional(object({ retention: optional(duration) })),
  slo: optional(
    object({
      ttftMs: number({ minimum: 1, maximum: HOUR }),
      itlMs: number({ minimum: 0.1, maximum: 60_000 }),
    }),
  ),
});

/** The scenario document as written (durations as Go duration strings). */
export const ScenarioDocSchema = object({
  name: string({ minLength: 1, maxLength: 253 }),
  engineInterval: optional(duration),
  actuation: optional(stringEnum(["hpa", "direct"])),
  hpa: optional(
    object({
      stabilizationWindow: optional(duration),
      scaleUpStabilizationWindow: optional(duration),
      tolerance: optional(fraction),
      syncPeriod: optional(duration),
    }),
  ),
  saturation: optional(
    object({
      kvCacheThreshold: optional(fraction),
      queueLengthThreshold: optional(number({ minimum: 0, maximum: 1_000_000 })),
      kvSpareTrigger: optional(fraction),
      queueSpareTrigger: optional(number({ minimum: 0, maximum: 1_000_000 })),
      analyzerName: optional(stringEnum(ANALYZER_NAMES)),
      scaleUpThreshold: optional(fraction),
      scaleDownBoundary: optional(fraction),
    }),
  ),
  routerTimeout: optional(duration),
  baselines: optional(
    object({
      hpaKvTarget: optional(number({ minimum: 0.01, maximum: 1 })),
      hpaQueueTarget: optional(number({ minimum: 0.1, maximum: 100_000 })),
      oracleAttainment: optional(number({ minimum: 0, maximum: 1 })),
    }),
  ),
  nodes: array(string({ pattern: NODE_SPEC_PATTERN.source, maxLength: 128 }), { minItems: 1, maxItems: 100 }),
  duration: optional(duration),
  models: array(ModelDoc, { minItems: 1, maxItems: 50 }),
});
export type ScenarioDoc = Static<typeof ScenarioDocSchema>;

/** Checks a scenario against its schema; an unknown (misspelt) field is refused. */
const checkDocument = documentValidator(ScenarioDocSchema, { root: "scenario" });

/** The rules of the schema's patterns, in words. */
const PATTERN_RULES: Readonly<Record<string, string>> = {
  [DURATION_PATTERN]: "must be a duration such as 500ms, 30s, 2m or 1h30m",
  [NODE_SPEC_PATTERN.source]: "must be COUNTxACCELERATOR:GPUS, for example 2xH100:8",
  [NAME_PATTERN]:
    "must be a lower-case DNS label (letters, digits and '-', starting and ending alphanumeric)",
};

function scenarioError(v: FieldViolation): ScenarioError {
  const pattern = /^must match the pattern (.*)$/.exec(v.rule)?.[1];
  return new ScenarioError(v.field, (pattern !== undefined && PATTERN_RULES[pattern]) || v.rule);
}

function ms(text: string | undefined, field: string, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  let v: number;
  try {
    v = parseDuration(text);
  } catch (err) {
    if (err instanceof DurationError) throw new ScenarioError(field, err.message);
    throw err;
  }
  if (v > max) throw new ScenarioError(field, `must be at most ${formatMs(max)}, got ${text}`);
  return v;
}

function positiveMs(text: string | undefined, field: string, fallback: number, max: number): number {
  const v = ms(text, field, fallback, max);
  if (!(v > 0)) throw new ScenarioError(field, "must be a positive duration");
  return v;
}

function formatMs(v: number): string {
  if (v % HOUR === 0) return `${v / HOUR}h`;
  if (v % 60_000 === 0) return `${v / 60_000}m`;
  return `${v / 1000}s`;
}

/**
 * Checks a trace file the way a run reads it: it exists, is a readable file, parses, and has requests
 * within the trial. Throws ScenarioError naming `field`.
 */
function checkTrace(trace: TraceLoad, durationMs: number, field: string): void {
  let text: string;
  try {
    if (statSync(trace.file).isDirectory())
      throw new ScenarioError(field, `${trace.file} is a directory, not a trace file`);
    text = readFileSync(trace.file, "utf8");
  } catch (err) {
    if (err instanceof ScenarioError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ScenarioError(field, `file not found: ${trace.file}`);
    throw new ScenarioError(field, `cannot read ${trace.file}: ${(err as Error).message}`);
  }
  let rows: number;
  let requests: number;
  try {
    const startMs = trace.startMs / trace.timeScale;
    const r = traceArrivals(
      text,
      { timeCompression: trace.timeScale, rateScale: 1, durationMs: startMs + durationMs },
      () => 0.5,
    );
    rows = r.info.rows;
    requests = r.arrivals.filter((a) => a.t >= startMs).length;
  } catch (err) {
    if (err instanceof LoadSpecError) throw new ScenarioError(field, `${trace.file}: ${err.message}`);
    throw err;
  }
  if (rows === 0) throw new ScenarioError(field, `${trace.file} has no request rows`);
  if (requests === 0)
    throw new ScenarioError(
      field,
      `${trace.file} has no requests between the start and the end of the trial`,
    );
}

/**
 * Validates a parsed scenario document and normalises it. `baseDir` resolves relative trace paths
 * (the scenario file's folder). Throws ScenarioError naming the first invalid field.
 */
export function normalizeScenario(doc: unknown, baseDir = process.cwd()): Scenario {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new ScenarioError("", "the scenario must be a YAML mapping (name, nodes, models, ...)");
  }
  const check = checkDocument(doc);
  if (check.violations.length > 0) throw scenarioError(check.violations[0]);
  const d: ScenarioDoc = check.value;

  const nodes: NodeGroupSpec[] = d.nodes.map((spec, i) => {
    const m = NODE_SPEC_PATTERN.exec(spec)!;
    const count = Number(m[1]);
    const gpusPerNode = Number(m[3]);
    if (count < 1 || count > 1000) throw new ScenarioError(`nodes[${i}]`, "node count must be 1 to 1000");
    if (gpusPerNode < 1 || gpusPerNode > 64)
      throw new ScenarioError(`nodes[${i}]`, "GPUs per node must be 1 to 64");
    return { spec, count, accelerator: m[2], gpusPerNode };
  });
  const maxGpusPerNode = new Map<string, number>();
  for (const n of nodes) {
    maxGpusPerNode.set(n.accelerator, Math.max(maxGpusPerNode.get(n.accelerator) ?? 0, n.gpusPerNode));
  }

  const L = DURATION_LIMITS;
  const engineIntervalMs = positiveMs(d.engineInterval, "engineInterval", 5000, L.engineInterval);
  const hpaDoc = d.hpa ?? {};
  const stabilizationWindowMs = ms(
    hpaDoc.stabilizationWindow,
    "hpa.stabilizationWindow",
    0,
    L.stabilizationWindow,
  );
  const hpa: HpaOptions = {
    stabilizationWindowMs,
    scaleUpStabilizationWindowMs: ms(
      hpaDoc.scaleUpStabilizationWindow,
      "hpa.scaleUpStabilizationWindow",
      stabilizationWindowMs,
      L.stabilizationWindow,
    ),
    tolerance: hpaDoc.tolerance ?? 0.1,
    syncPeriodMs: positiveMs(
      hpaDoc.syncPeriod,
      "hpa.syncPeriod",
      Math.min(engineIntervalMs, 15000),
      L.syncPeriod,
    ),
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
  try {
    validateSaturationConfig(
      applySaturationDefaults({ ...DEFAULT_SATURATION_CONFIG, ...saturation }),
      "saturation",
    );
  } catch (err) {
    if (err instanceof ConfigFieldError) throw new ScenarioError(err.field, err.rule);
    throw err;
  }
  const routerTimeoutMs = positiveMs(
    d.routerTimeout,
    "routerTimeout",
    DEFAULT_ROUTER_TIMEOUT_MS,
    L.routerTimeout,
  );

  const seenModels = new Set<string>();
  const seenVariants = new Set<string>();
  const traces: Array<{ trace: TraceLoad; field: string }> = [];
  const models: ModelSpec[] = d.models.map((m, mi) => {
    const at = `models[${mi}]`;
    const namespace = m.namespace ?? "default";
    const key = `${namespace}/${m.modelID}`;
    if (seenModels.has(key)) throw new ScenarioError(`${at}.modelID`, `duplicate model ${key}`);
    seenModels.add(key);

    let scaleToZero: ScaleToZeroSpec | undefined;
    if (m.scaleToZero) {
      const field = `${at}.scaleToZero.retention`;
      const retentionMs = ms(m.scaleToZero.retention, field, DEFAULT_RETENTION_MS, L.retention);
      if (retentionMs < 1000) throw new ScenarioError(field, "must be at least 1s");
      scaleToZero = { retentionMs };
    }
    const variants: VariantSpec[] = m.variants.map((v, vi) => {
      const vat = `${at}.variants[${vi}]`;
      const vkey = `${namespace}/${v.name}`;
      if (seenVariants.has(vkey))
        throw new ScenarioError(`${vat}.name`, `duplicate variant ${vkey} (names are unique per namespace)`);
      seenVariants.add(vkey);
      const gpusPerReplica = v.gpusPerReplica ?? 1;
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
      const initialReplicas = v.initialReplicas ?? 1;
      const minReplicas = v.minReplicas ?? (scaleToZero ? 0 : 1);
      const maxReplicas = v.maxReplicas ?? Math.max(8, initialReplicas);
      if (minReplicas > maxReplicas)
        throw new ScenarioError(`${vat}.minReplicas`, `must not exceed maxReplicas (${maxReplicas})`);
      if (initialReplicas > maxReplicas)
        throw new ScenarioError(`${vat}.initialReplicas`, `must not exceed maxReplicas (${maxReplicas})`);
      const emulator: EmulatorParams = { ...DEFAULT_EMULATOR, ...(v.emulator ?? {}) };
      if (emulator.alpha === 0 && emulator.beta === 0 && emulator.gamma === 0)
        throw new ScenarioError(`${vat}.emulator`, "alpha, beta and gamma must not all be 0");
      return {
        name: v.name,
        accelerator: v.accelerator,
        cost: v.cost,
        gpusPerReplica,
        initialReplicas,
        minReplicas,
        maxReplicas,
        startupDelayMs: ms(v.startupDelay, `${vat}.startupDelay`, 0, L.startupDelay),
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
    const kvTokens = Math.min(...variants.map((v) => v.emulator.kvBlocks * v.emulator.blockSize));
    if (l.schedule !== undefined) {
      if (load.tokens.input + load.tokens.output > kvTokens)
        throw new ScenarioError(
          `${at}.load.tokens`,
          `input + output (${load.tokens.input + load.tokens.output}) must fit the smallest KV cache of the variants (${kvTokens} tokens)`,
        );
      load.schedule = l.schedule.map((s, si) => ({
        rate: s.rate,
        durationMs: positiveMs(s.duration, `${at}.load.schedule[${si}].duration`, 0, L.scheduleStep),
      }));
    } else if (l.trace !== undefined) {
      load.trace = {
        file: resolve(baseDir, l.trace.file),
        timeScale: l.trace.timeScale ?? 1,
        rateScale: l.trace.rateScale ?? 1,
        startMs: ms(l.trace.start, `${at}.load.trace.start`, 0, L.traceStart),
      };
      traces.push({ trace: load.trace, field: `${at}.load.trace.file` });
    }
    return {
      modelID: m.modelID,
      namespace,
      variants,
      load,
      slo: m.slo ?? { ...DEFAULT_SLO },
      ...(scaleToZero ? { scaleToZero } : {}),
    };
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
    durationMs = positiveMs(d.duration, "duration", 0, L.duration);
  } else {
    const longest = Math.max(
      0,
      ...models.map((m) => (m.load.schedule ?? []).reduce((s, step) => s + step.durationMs, 0)),
    );
    if (longest === 0)
      throw new ScenarioError("duration", "required when no model has a load schedule (trace loads only)");
    if (longest > L.duration)
      throw new ScenarioError("duration", `the longest schedule lasts more than ${formatMs(L.duration)}`);
    durationMs = longest;
  }

  // Bound the work of a run: the scheduled requests of all models together.
  let expected = 0;
  models.forEach((m, mi) => {
    let t = 0;
    for (const step of m.load.schedule ?? []) {
      expected += (step.rate * Math.max(0, Math.min(step.durationMs, durationMs - t))) / 1000;
      t += step.durationMs;
    }
    if (expected > MAX_REQUESTS)
      throw new ScenarioError(
        `models[${mi}].load.schedule`,
        `the schedules send about ${Math.round(expected)} requests, more than the ${MAX_REQUESTS} a run handles`,
      );
  });
  for (const t of traces) checkTrace(t.trace, durationMs, t.field);

  return {
    name: d.name,
    engineIntervalMs,
    actuation: d.actuation ?? "hpa",
    hpa,
    saturation,
    nodes,
    durationMs,
    routerTimeoutMs,
    baselines: { ...DEFAULT_BASELINES, ...(d.baselines ?? {}) },
    models,
  };
}

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
