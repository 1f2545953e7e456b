import { enforceScaleToZero } from "../enforce/scale-to-zero.js";
import { applyGpuLimiter } from "../limit/limiter.js";
import type {
  Decision,
  GpuInventory,
  ModelAnalysis,
  ModelDecisions,
  ReplicaBound,
  ModelSlo,
  ReplicaMetric,
  SaturationConfig,
  ScaleToZeroInput,
  TransitionState,
  VariantState,
} from "../types/decision.js";
import { actionOf, compareNames, groupKey } from "../types/decision.js";
import { CapacityStore, type SchedulerQueue, type VllmParams } from "../analyze/token-capacity/index.js";
import { engineFor } from "./registry.js";
import { lookupBy } from "../util/small.js";

/** Name of the target-calculation step in decision records. */
export const STEP_TARGETS = "saturation-targets";
/** Name of the scale-to-zero / minimum-replica step in decision records. */
export const STEP_ENFORCER = "scale-to-zero-enforcer";

/** Everything the engine needs about one model group. */
export interface ModelInput {
  modelID: string;
  namespace: string;
  variants: readonly VariantState[];
  /** Per-pod metrics of the group; metrics of variants not listed in `variants` are ignored. */
  replicas: readonly ReplicaMetric[];
  /** Resolved saturation config of this model (default entry merged with its override). */
  config: SaturationConfig;
  /** Scale-to-zero of this model; absent = disabled (minimum one replica). */
  scaleToZero?: ScaleToZeroInput;
  /** queueing-model: the model's SLO settings. */
  slo?: ModelSlo;
  /** Token-capacity analyzer: vLLM parameters of the variants' Deployments, by variant name. */
  vllmParams?: Readonly<Record<string, VllmParams>>;
  /** Token-capacity analyzer: the endpoint picker's queue for this model, when it reports one. */
  schedulerQueue?: SchedulerQueue;
}

export interface EngineOptions {
  /** Current time (epoch ms). */
  now: number;
  /** Bound of the transition lock (default 10 minutes; <= 0 = never released). */
  transitionTimeoutMs?: number;
  /** Transition bookkeeping of the previous cycle. */
  state?: TransitionState;
  /**
   * What the token-capacity analyzer learned in earlier cycles; the caller keeps it and passes the same
   * store every cycle. Without one, each call starts from an empty store.
   */
  capacityStore?: CapacityStore;
}

export interface ModelResult {
  result: ModelDecisions;
  /** Transition bookkeeping to keep for the next cycle. */
  state: TransitionState;
}

/**
 * Runs analyze → optimize → enforce for one model group and returns one decision per variant with its
 * step-by-step record. The analyzer and optimizer are those of the model's `analyzerName` (see
 * registry.ts). The GPU limiter is global and runs afterwards (see {@link decideCycle}).
 */
export function decideModel(input: ModelInput, opts: EngineOptions): ModelResult {
  return decideModelStages(input, opts, true);
}

function decideModelStages(input: ModelInput, opts: EngineOptions, summarize: boolean): ModelResult {
  return decideFromAnalysis(input, analyzeModel(input, opts), opts, summarize);
}

/** The model's analysis by its engine (the first stage; it may update the capacity store). */
function analyzeModel(input: ModelInput, opts: EngineOptions): ModelAnalysis {
  const engine = engineFor(input.config.analyzerName);
  return engine.analyze(
    {
      modelID: input.modelID,
      namespace: input.namespace,
      now: opts.now,
      variants: input.variants,
      replicas: input.replicas,
      config: input.config,
      slo: input.slo,
    },
    {
      capacityStore: opts.capacityStore ?? new CapacityStore(),
      vllmParams: input.vllmParams,
      schedulerQueue: input.schedulerQueue,
    },
  );
}

/** Optimize and enforce from an analysis (pure: it can run again with other bounds). */
function decideFromAnalysis(
  input: ModelInput,
  analysis: ModelAnalysis,
  opts: EngineOptions,
  summarize: boolean,
): ModelResult {
  const engine = engineFor(input.config.analyzerName);
  const t = engine.optimize(analysis, input.variants, {
    now: opts.now,
    transitionTimeoutMs: opts.transitionTimeoutMs,
    state: opts.state,
  });

  const stateOf = lookupBy(input.variants, (v) => v.name);
  const analysed = lookupBy(analysis.variants, (v) => v.variant);
  const decisions: Decision[] = t.targets.map((vt) => {
    const s = stateOf(vt.variant)!;
    const a = analysed(vt.variant);
    const d: Decision = {
      variantName: s.name,
      namespace: input.namespace,
      modelID: input.modelID,
      acceleratorName: s.accelerator,
      cost: s.cost,
      gpusPerReplica: s.gpusPerReplica > 0 ? s.gpusPerReplica : 1,
      action: vt.action,
      currentReplicas: s.current,
      readyReplicas: s.ready,
      targetReplicas: vt.target,
      originalTargetReplicas: vt.target,
      desiredReplicas: s.desired,
      spareCapacity: a?.avgSpareKv ?? 0,
      metricsAvailable: vt.analysed,
      wasLimited: false,
      limitedBy: "",
      gpusAllocated: 0,
      reason: "",
      steps: [
        {
          name: STEP_TARGETS,
          action: vt.action,
          target: vt.target,
          reason: vt.reason,
          wasConstrained: vt.wasConstrained,
        },
      ],
    };
    if (a?.perReplicaCapacity !== undefined) d.perReplicaCapacity = a.perReplicaCapacity;
    return d;
  });

  let scaledToZero = false;
  if (analysis.totalReplicas > 0) {
    const stz: ScaleToZeroInput = input.scaleToZero ?? { enabled: false, requestCount: null };
    const e = enforceScaleToZero(
      decisions.map((d) => ({ variant: d.variantName, target: d.targetReplicas, cost: d.cost })),
      stz,
    );
    scaledToZero = e.policy === "scale-to-zero";
    decisions.forEach((d, i) => {
      const before = d.targetReplicas;
      const after = e.targets[i].target;
      d.targetReplicas = after;
      d.originalTargetReplicas = after;
      d.action = actionOf(after, d.currentReplicas);
      d.steps.push({
        name: STEP_ENFORCER,
        action: d.action,
        target: after,
        reason: e.reason,
        wasConstrained: after < before,
      });
    });
  }
  if (summarize) for (const d of decisions) d.reason = summarizeReason(d, engine.mode);

  return {
    result: {
      modelID: input.modelID,
      namespace: input.namespace,
      analysis,
      inTransition: t.inTransition,
      transitionReleased: t.transitionReleased,
      transitionReasons: t.transitionReasons,
      scaledToZero,
      decisions,
    },
    state: t.state,
  };
}

export interface CycleInput {
  models: readonly ModelInput[];
  /** Run the GPU limiter (the global `default.enableLimiter`). */
  enableLimiter: boolean;
  /** GPUs per accelerator; the limiter runs only when this is given. */
  gpuInventory?: GpuInventory;
}

export interface CycleResult {
  /** Sorted by namespace, then modelID. */
  models: ModelDecisions[];
  state: TransitionState;
}

/**
 * One engine cycle over several model groups: {@link decideModel} per group, then the GPU limiter over
 * all decisions when enabled and an inventory is known. Transition bookkeeping of models that are not
 * part of this cycle is dropped.
 */
export function decideCycle(input: CycleInput, opts: EngineOptions): CycleResult {
  const prev = opts.state?.firstSeen ?? {};
  const prevDecisions = opts.state?.decisions ?? {};
  const firstSeen: Record<string, number> = {};
  const decisions: Record<string, string> = {};
  const models: ModelDecisions[] = [];
  const limit = input.enableLimiter && input.gpuInventory !== undefined;
  // one store for the whole cycle, forgetting what is too old once
  const capacityStore = opts.capacityStore ?? new CapacityStore();
  capacityStore.evict(opts.now);
  const sorted = [...input.models].sort(
    (a, b) => compareNames(a.namespace, b.namespace) || compareNames(a.modelID, b.modelID),
  );
  // Lookups by a freshly built key cost a string hash each: skipped when there is no state at all.
  const anyPrev = hasKeys(prev) || hasKeys(prevDecisions);
  const owns = sorted.map((m) => {
    const own: TransitionState = { firstSeen: {}, decisions: {} };
    if (anyPrev) {
      const key = groupKey(m.modelID, m.namespace);
      if (key in prev) own.firstSeen[key] = prev[key];
      if (key in prevDecisions) own.decisions![key] = prevDecisions[key];
    }
    return own;
  });
  const stageOpts = (i: number): EngineOptions => ({
    now: opts.now,
    transitionTimeoutMs: opts.transitionTimeoutMs,
    state: owns[i],
    capacityStore,
  });
  const analyses = sorted.map((m, i) => analyzeModel(m, stageOpts(i)));
  // with the limiter, reasons are summarised once after it ran
  let results = sorted.map((m, i) => decideFromAnalysis(m, analyses[i], stageOpts(i), !limit));
  if (limit) {
    applyGpuLimiter(
      results.flatMap((r) => r.result.decisions),
      input.gpuInventory!,
    );
    // The limiter's grant is a bound of the decision: a model whose scale-up it cut decides again with
    // the grant as the variant's maximum, so the step can go to the next cheapest variant; then the
    // limiter runs once more over the decisions of every model (docs/design/gpu-limiter.md).
    const grants = results.map((r) => limiterGrants(r.result.decisions));
    if (grants.some((g) => g.size > 0)) {
      const first = results;
      results = sorted.map((m, i) =>
        decideFromAnalysis(withGrants(m, grants[i]), analyses[i], stageOpts(i), false),
      );
      applyGpuLimiter(
        results.flatMap((r) => r.result.decisions),
        input.gpuInventory!,
      );
      results.forEach((r, i) => keepLimitedRecord(r.result.decisions, first[i].result.decisions, grants[i]));
    }
    results.forEach((r, i) => {
      const mode = engineFor(sorted[i].config.analyzerName).mode;
      for (const d of r.result.decisions) d.reason = summarizeReason(d, mode);
    });
  }
  for (const r of results) {
    // the optimizer saw only this model's bookkeeping, so whatever it returns is this model's
    Object.assign(firstSeen, r.state.firstSeen);
    if (r.state.decisions !== undefined) Object.assign(decisions, r.state.decisions);
    models.push(r.result);
  }
  return { models, state: { firstSeen, decisions } };
}

/** Targets the limiter cut, by variant: what it granted. */
function limiterGrants(decisions: readonly Decision[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of decisions)
    if (d.wasLimited && d.targetReplicas < d.originalTargetReplicas) out.set(d.variantName, d.targetReplicas);
  return out;
}

/**
 * A variant the limiter cut keeps the record of the cut in the second pass (where its grant was a bound
 * and the limiter had nothing more to cut): limited, by whom, from which target, and the limiter's words.
 */
function keepLimitedRecord(
  decisions: Decision[],
  first: readonly Decision[],
  grants: ReadonlyMap<string, number>,
): void {
  for (const d of decisions) {
    if (d.wasLimited || !grants.has(d.variantName)) continue;
    const cut = first.find((f) => f.variantName === d.variantName);
    const step = cut?.steps[cut.steps.length - 1];
    if (!cut || !step) continue;
    d.wasLimited = true;
    d.limitedBy = cut.limitedBy;
    d.originalTargetReplicas = cut.originalTargetReplicas;
    const last = d.steps[d.steps.length - 1];
    last.reason = step.reason;
    last.wasConstrained = true;
  }
}

/** The model with each granted variant bounded by its grant. */
function withGrants(m: ModelInput, grants: ReadonlyMap<string, number>): ModelInput {
  if (grants.size === 0) return m;
  return {
    ...m,
    variants: m.variants.map((v) => {
      const g = grants.get(v.name);
      if (g === undefined) return v;
      const bound: ReplicaBound = { source: "limiter", maxReplicas: g };
      return { ...v, bounds: [...(v.bounds ?? []), bound] };
    }),
  };
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

/** One-line reason of a decision: the engine's mode, the action, then what each stage that mattered said. */
export function summarizeReason(d: Decision, mode = "saturation-only"): string {
  const parts: string[] = [];
  d.steps.forEach((s, i) => {
    const changed = i > 0 && s.target !== d.steps[i - 1].target;
    if (s.name === STEP_TARGETS) parts.push(s.reason);
    else if (s.name === STEP_ENFORCER) {
      if (changed) parts.push(s.reason);
    } else if (changed || s.wasConstrained || !s.reason.startsWith("no scale-up")) {
      parts.push(`${s.name}: ${s.reason}`);
    }
  });
  return `${mode} mode: ${d.action}${parts.length > 0 ? ` (${parts.join("; ")})` : ""}`;
}
