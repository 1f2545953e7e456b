// Over 450 lines: the cycle's group, collect and decide stages with the inputs each engine needs (apply is in publish.ts).
import { scaleBounds } from "../actuate/direct.js";
import type { ActuationMetrics } from "../actuate/metrics.js";
import { CapacityStore, type SchedulerQueue, type VllmParams } from "../analyze/token-capacity/index.js";
import { afterWake } from "../enforce/scale-from-zero.js";
import { describeStalePods, type StalePod } from "../collect/freshness.js";
import { groupByModel } from "../engine/grouping.js";
import { decideCycle, type ModelInput } from "../engine/pipeline.js";
import {
  emptyTransitionState,
  groupKey,
  QUEUEING_MODEL,
  type ModelGroup,
  type ModelSlo,
  type ModelDecisions,
  type ReplicaBound,
  type ReplicaMetric,
  type SaturationConfig,
  type TransitionState,
  type VariantState,
} from "../engine/types.js";
import type { Logger } from "../util/logger.js";
import { boundedTimeout, PeriodicTask } from "../util/timer.js";
import { gpusPerReplica, replicaState, resolveAccelerator } from "./accelerator.js";
import type { EventRecorder } from "./kube/events.js";
import { errText, type Informer } from "./kube/informer.js";
import { maxBatchSizeOf, type ModelParameters, type TunedVariant } from "./model-parameters.js";
import type { HorizontalPodAutoscaler } from "./kube/objects.js";
import { DecisionPublisher } from "./publish.js";
import { targetDeployment } from "./reconciler.js";
import { vaPredicate, type IsolationConfig, type NamespaceLookup } from "./predicates.js";
import { variantCost, vaKey, type CachedDecision, type Deployment, type VA } from "./types.js";
import { deploymentVllmParams } from "./vllm-params.js";

/** One variant of a model group, as handed to the metrics collector. */
export interface GroupVariant {
  va: VA;
  deployment: Deployment;
}

/**
 * Metrics of a model group: the replicas with fresh data and the pods whose data is missing or stale
 * (none when the collector does not tell), or why collection failed.
 */
export type GroupCollection =
  { ok: true; replicas: ReplicaMetric[]; stale?: StalePod[] } | { ok: false; error: string };

/** Metrics collection seam (Prometheus or pod scraping). */
export interface GroupCollector {
  /**
   * Per-pod KV / queue metrics of every group (key `modelID|namespace`); a group whose KV-cache or queue
   * query failed gets `ok: false`. Throwing fails every group. `signal` aborts when the cycle's collection
   * budget is spent.
   */
  collectAll(groups: ModelGroup<GroupVariant>[], signal?: AbortSignal): Promise<Map<string, GroupCollection>>;
  /** Successful requests of the model over the retention window; null = unknown (query failed / empty). */
  requestCount(
    group: ModelGroup<GroupVariant>,
    retentionMs: number,
    signal?: AbortSignal,
  ): Promise<{ count: number | null; error?: string }>;
  /**
   * Requests of the model waiting in the endpoint picker's queue; undefined when it reports none (asked
   * only for models on the token-capacity analyzer).
   */
  schedulerQueue?(group: ModelGroup<GroupVariant>): Promise<SchedulerQueue | undefined>;
}

/** Configuration the loop reads each cycle (hot-reloaded elsewhere). */
export interface EngineConfig {
  saturationFor(modelID: string, namespace: string): SaturationConfig | undefined;
  limiterEnabled(): boolean;
  scaleToZeroFor(modelID: string, namespace: string): { enabled: boolean; retentionMs: number };
  /** GPUs per accelerator short name (only asked when the limiter is enabled). */
  gpuInventory(): Record<string, number>;
  transitionTimeoutMs(): number;
  /** queueing-model: the model's SLO settings (SLO ConfigMap). */
  sloFor?(modelID: string, namespace: string): ModelSlo;
}

export interface VariantReport {
  namespace: string;
  modelID: string;
  variant: string;
  accelerator: string;
  current: number;
  ready: number;
  desired: number;
  /** Mean KV-cache use over the variant's pods with metrics (undefined without metrics). */
  kvUsage?: number;
  /** Total waiting requests over the variant's pods with metrics. */
  queue?: number;
  action: "scale-up" | "scale-down" | "no-change";
  reason: string;
  /** How the target was obtained. */
  path: "engine" | "safety-net" | "no-metrics" | "stale" | "no-config";
}

export interface CycleReport {
  /** Epoch ms at the start of the cycle. */
  startedAt: number;
  durationMs: number;
  /** Active VAs this cycle. */
  activeVariants: number;
  variants: VariantReport[];
  /** Model groups (`modelID|namespace`) whose collection failed. */
  failedGroups: string[];
  models: ModelDecisions[];
}

export interface EngineLoopDeps {
  vas: Informer<VA>;
  deployments: Informer<Deployment>;
  /** HPAs the controller can see: an HPA's `maxReplicas` bounds the decision for its Deployment. */
  hpas?: Informer<HorizontalPodAutoscaler>;
  collector: GroupCollector;
  config: EngineConfig;
  metrics: ActuationMetrics;
  decisions: Map<string, CachedDecision>;
  /** Hands a VA key to the reconciler queue. */
  enqueue: (key: string) => void;
  isolation: IsolationConfig;
  namespaces?: NamespaceLookup;
  actuator: "hpa" | "direct";
  setScale: (namespace: string, name: string, replicas: number) => Promise<void>;
  events?: EventRecorder;
  log: Logger;
  onCycle?: (report: CycleReport) => void;
  /** Direct actuator: scale-down stabilisation window (ms; 0 or unset applies lower targets at once). */
  scaleDownStabilizationMs?: number;
  /** queueing-model: learned parameters (tuner, persistence, gauges); without it, no variant has learned parameters. */
  modelParameters?: ModelParameters;
}

/** A model group a saturation config applies to. */
interface ConfiguredGroup {
  group: ModelGroup<GroupVariant>;
  saturation: SaturationConfig;
}

/** A model group with usable metrics and its engine input. */
export interface CollectedGroup {
  group: ModelGroup<GroupVariant>;
  replicas: ReplicaMetric[];
  /** Pods without fresh data: no target of the model may go down. */
  stale: StalePod[];
  /** Failed optional queries (the scale-to-zero request count), reported in MetricsAvailable. */
  queryErrors: string[];
  input: ModelInput;
}

/**
 * Time the collection of one cycle may take: 80 % of the engine interval, at least 1 s, so that a
 * failing metrics backend cannot stretch a cycle beyond its interval with retries.
 */
export function collectionBudgetMs(intervalMs: number): number {
  return Math.max(1000, Math.floor(intervalMs * 0.8));
}

/**
 * The saturation engine loop: each cycle lists the active VAs from the informer caches, groups
 * them by model and namespace, collects metrics, runs the pure engine, publishes gauges, acts
 * directly when configured and hands decisions to the reconciler. A group whose collection fails takes
 * the safety net: targets hold at the previous desired value (else current replicas), never lower.
 */
export class EngineLoop {
  private transition: TransitionState = emptyTransitionState();
  /**
   * What the token-capacity analyzer learned (capacity records, k2 history). It lives as long as the
   * process; the first cycle rebuilds the Deployment records from the vLLM arguments of every active
   * variant, and the store bounds its own size.
   */
  private readonly capacityStore = new CapacityStore();
  private readonly task: PeriodicTask;
  /** See hpaMaxByTarget; reset at the start of every cycle. */
  private hpaMax?: Map<string, number[]>;
  private failures = new Map<string, number>();
  private readonly publisher: DecisionPublisher;
  /** When each model (`modelID|namespace`) was last woken from zero. */
  private readonly wokenAt = new Map<string, number>();
  cycles = 0;

  constructor(
    private readonly deps: EngineLoopDeps,
    intervalMs: number,
  ) {
    this.publisher = new DecisionPublisher(deps);
    this.task = new PeriodicTask({
      field: "engine interval",
      intervalMs,
      retryMs: 100,
      maxRetryMs: 4000,
      run: async () => {
        await this.runOnce();
      },
      onError: (err) =>
        this.deps.log.error({ err: errText(err) }, "engine cycle failed; retrying with back-off"),
    });
  }

  setInterval(ms: number): void {
    this.task.setInterval(ms);
  }

  get interval(): number {
    return this.task.interval;
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** Forgets per-VA bookkeeping (VA or target deleted). */
  forget(key: string): void {
    this.publisher.forget(key);
  }

  /**
   * Active VAs: from the caches, this instance's, not excluded, target present, replicas > 0 — or at zero
   * replicas on the token-capacity analyzer, which keeps sizing a variant at zero from its stored capacity.
   */
  activeVariants(): GroupVariant[] {
    return this.variants().filter((v) => v.deployment.spec?.replicas !== 0 || this.sizesZeroReplicas(v.va));
  }

  /** Inactive VAs: the others whose target is at 0 replicas (the scale-from-zero loop's). */
  inactiveVariants(): GroupVariant[] {
    return this.variants().filter((v) => v.deployment.spec?.replicas === 0 && !this.sizesZeroReplicas(v.va));
  }

  /**
   * A variant was woken from zero outside the cycle: its published target is 1, and its model is not
   * scaled to zero again within one retention period of `at`.
   */
  recordWake(v: GroupVariant, at: number): void {
    const ns = v.va.metadata!.namespace!;
    this.publisher.markPublished(vaKey(ns, v.va.metadata!.name!), 1);
    this.wokenAt.set(groupKey(v.va.spec.modelID, ns), at);
  }

  private variants(): GroupVariant[] {
    const out: GroupVariant[] = [];
    for (const va of this.deps.vas.list()) {
      if (va.metadata?.deletionTimestamp) continue;
      if (!va.spec?.scaleTargetRef?.name || !va.spec.modelID) continue;
      if (!vaPredicate(va, this.deps.isolation, this.deps.namespaces)) {
        // not (or no longer) ours, e.g. its namespace became excluded: it keeps no series here
        const ns = va.metadata?.namespace ?? "";
        const name = va.metadata?.name ?? "";
        if (this.deps.metrics.hasSeries(ns, name)) {
          this.deps.metrics.removeVariant(ns, name);
          this.deps.decisions.delete(vaKey(ns, name));
          this.publisher.forget(vaKey(ns, name));
        }
        continue;
      }
      const deployment = targetDeployment(va, this.deps.deployments);
      if (!deployment) continue;
      out.push({ va, deployment });
    }
    return out;
  }

  /** The model of the VA is on the token-capacity analyzer, which decides for variants at zero too. */
  private sizesZeroReplicas(va: VA): boolean {
    const cfg = this.deps.config.saturationFor(va.spec.modelID, va.metadata?.namespace ?? "");
    return cfg?.analyzerName === "saturation";
  }

  private last: Promise<unknown> = Promise.resolve();

  /** Target Deployments (`namespace/name`) of the active variants: what pod scraping reads. */
  activeDeployments(): Set<string> {
    return new Set(
      this.activeVariants().map((v) => `${v.deployment.metadata?.namespace}/${v.deployment.metadata?.name}`),
    );
  }

  /** Runs one cycle; cycles never overlap (a call made during a cycle waits for it). */
  runOnce(): Promise<CycleReport> {
    const next = this.last
      .catch(() => undefined)
      .then(() => this.cycle())
      .then(
        (report) => {
          this.deps.metrics.observeCycle(report.durationMs / 1000);
          return report;
        },
        (err: unknown) => {
          this.deps.metrics.countCycleFailure();
          throw err;
        },
      );
    this.last = next;
    return next;
  }

  /** One cycle: group the active VAs by model, collect their metrics, decide, apply. */
  private async cycle(): Promise<CycleReport> {
    const startedAt = Date.now();
    this.cycles++;
    this.hpaMax = undefined;
    const report: CycleReport = {
      startedAt,
      durationMs: 0,
      activeVariants: 0,
      variants: [],
      failedGroups: [],
      models: [],
    };
    const active = this.activeVariants();
    report.activeVariants = active.length;
    const configured = this.configuredGroups(this.group(active), report);
    const collected = await this.collect(configured, report);
    await this.prepareQueueingModels(collected);
    const limiter = this.deps.config.limiterEnabled();
    const result = decideCycle(
      {
        models: collected.map((c) => c.input),
        enableLimiter: limiter,
        gpuInventory: limiter ? this.deps.config.gpuInventory() : undefined,
      },
      {
        now: startedAt,
        transitionTimeoutMs: this.deps.config.transitionTimeoutMs(),
        state: this.transition,
        capacityStore: this.capacityStore,
      },
    );
    this.transition = result.state;
    report.models = result.models;
    await this.applyAll(result.models, collected, report);
    report.durationMs = Date.now() - startedAt;
    report.variants.sort(
      (a, b) =>
        a.namespace.localeCompare(b.namespace) ||
        a.modelID.localeCompare(b.modelID) ||
        a.variant.localeCompare(b.variant),
    );
    this.deps.onCycle?.(report);
    return report;
  }

  /** Groups the active variants by model and namespace. */
  private group(active: readonly GroupVariant[]): Map<string, ModelGroup<GroupVariant>> {
    const groups = groupByModel(active, (v) => ({
      modelID: v.va.spec.modelID,
      namespace: v.va.metadata!.namespace!,
    }));
    return new Map(groups.map((g) => [groupKey(g.modelID, g.namespace), g]));
  }

  /** The groups a saturation config applies to; the others hold their targets. */
  private configuredGroups(
    groups: Map<string, ModelGroup<GroupVariant>>,
    report: CycleReport,
  ): Map<string, ConfiguredGroup> {
    const configured = new Map<string, ConfiguredGroup>();
    for (const [k, group] of groups) {
      const saturation = this.deps.config.saturationFor(group.modelID, group.namespace);
      if (saturation) configured.set(k, { group, saturation });
      else
        this.publisher.hold(
          group,
          report,
          "no-config",
          "no saturation config (`default` entry) applies to this model",
        );
    }
    return configured;
  }

  /**
   * Collects the metrics of every configured group (and its request count when scale-to-zero is on).
   * Groups without usable metrics hold their targets and are left out of the result.
   */
  private async collect(
    configured: Map<string, ConfiguredGroup>,
    report: CycleReport,
  ): Promise<CollectedGroup[]> {
    const budgetMs = collectionBudgetMs(this.task.interval);
    const budget = new AbortController();
    const timer = boundedTimeout(
      () => budget.abort(new Error(`metrics collection exceeded its budget of ${budgetMs} ms`)),
      budgetMs,
      "collection budget",
    );
    // a collector that ignores the signal still cannot hold the cycle beyond the budget
    const overBudget = new Promise<never>((_, reject) =>
      budget.signal.addEventListener("abort", () => reject(budget.signal.reason as Error), { once: true }),
    );
    overBudget.catch(() => undefined);
    let collected: Map<string, GroupCollection>;
    try {
      collected =
        configured.size > 0
          ? await Promise.race([
              this.deps.collector.collectAll(
                [...configured.values()].map((c) => c.group),
                budget.signal,
              ),
              overBudget,
            ])
          : new Map();
    } catch (err) {
      collected = new Map([...configured.keys()].map((k) => [k, { ok: false, error: errText(err) }]));
    }
    const out: CollectedGroup[] = [];
    await Promise.all(
      [...configured.entries()].map(async ([k, { group, saturation }]) => {
        const got = collected.get(k) ?? { ok: false, error: "no collection result" };
        if (!got.ok) {
          const n = (this.failures.get(k) ?? 0) + 1;
          this.failures.set(k, n);
          report.failedGroups.push(k);
          this.deps.log.warn(
            { group: k, err: got.error, failures: n },
            "metrics collection failed; safety net",
          );
          this.publisher.hold(group, report, "safety-net", `${got.error} (${n} cycle(s) in a row)`);
          return;
        }
        this.failures.delete(k);
        const stale = got.stale ?? [];
        if (stale.length > 0) {
          this.deps.log.warn(
            { group: k, stale: stale.map((p) => `${p.pod}: ${p.reason}`) },
            "pods without fresh metrics; no scale-down for this model",
          );
        }
        if (got.replicas.length === 0) {
          if (stale.length > 0) this.publisher.hold(group, report, "stale", staleText(stale));
          else this.publisher.hold(group, report, "no-metrics", "no saturation metrics for this model yet");
          return;
        }
        const scaleToZero = await this.scaleToZeroInput(group, budget.signal);
        const input: ModelInput = {
          modelID: group.modelID,
          namespace: group.namespace,
          variants: group.variants.map((v) => this.variantState(v)),
          replicas: got.replicas,
          config: saturation,
          scaleToZero,
        };
        if (saturation.analyzerName === "saturation") {
          input.vllmParams = vllmParamsOf(group);
          input.schedulerQueue = await this.deps.collector.schedulerQueue?.(group).catch(() => undefined);
        }
        const queryErrors = scaleToZero?.error
          ? [`the scale-to-zero request count query failed: ${scaleToZero.error}`]
          : [];
        out.push({ group, replicas: got.replicas, stale, queryErrors, input });
      }),
    );
    clearTimeout(timer);
    return out;
  }

  private async scaleToZeroInput(
    group: ModelGroup<GroupVariant>,
    signal: AbortSignal,
  ): Promise<ModelInput["scaleToZero"]> {
    const stz = this.deps.config.scaleToZeroFor(group.modelID, group.namespace);
    if (!stz.enabled) return undefined;
    const rc = await this.deps.collector
      .requestCount(group, stz.retentionMs, signal)
      .catch((e: unknown) => ({ count: null, error: errText(e) }));
    return afterWake(
      { enabled: true, requestCount: rc.count, retentionMs: stz.retentionMs, error: rc.error },
      this.wokenAt.get(groupKey(group.modelID, group.namespace)),
      Date.now(),
    );
  }

  /**
   * Groups of the queueing-model engine: one tuner step per busy pod (parameters persisted when they
   * changed), then each variant's learned parameters and batch limit and the model's SLO settings.
   */
  private async prepareQueueingModels(collected: CollectedGroup[]): Promise<void> {
    const groups = collected.filter((c) => c.input.config.analyzerName === QUEUEING_MODEL);
    const store = this.deps.modelParameters;
    if (groups.length === 0 || !store) return;
    await store.ensureLoaded();
    const batch = new Map<string, number>();
    const replicas = new Map<string, ReplicaMetric[]>();
    const variants: TunedVariant[] = [];
    for (const c of groups) {
      for (const v of c.group.variants) {
        const name = v.va.metadata!.name!;
        const maxBatchSize = maxBatchSizeOf(v.deployment);
        batch.set(vaKey(c.group.namespace, name), maxBatchSize);
        variants.push({ namespace: c.group.namespace, name, maxBatchSize });
      }
      for (const r of c.replicas) {
        const k = vaKey(c.group.namespace, r.variant);
        replicas.set(k, [...(replicas.get(k) ?? []), r]);
      }
    }
    const learned = store.learn(variants, replicas);
    for (const r of learned.rejected)
      this.deps.log.debug({ variant: r.variant, reason: r.reason }, "tuner step rejected");
    await store.persist();
    for (const c of groups) {
      c.input = {
        ...c.input,
        variants: c.input.variants.map((s) => ({
          ...s,
          maxBatchSize: batch.get(vaKey(s.namespace, s.name)),
          parameters: store.params(s.namespace, s.name),
        })),
        slo: this.deps.config.sloFor?.(c.group.modelID, c.group.namespace),
      };
    }
  }

  /** Applies the decisions of every model to its variants. */
  private async applyAll(
    models: readonly ModelDecisions[],
    collected: readonly CollectedGroup[],
    report: CycleReport,
  ): Promise<void> {
    const byGroup = new Map(collected.map((c) => [groupKey(c.group.modelID, c.group.namespace), c]));
    await Promise.all(
      models.map(async (m) => {
        const entry = byGroup.get(groupKey(m.modelID, m.namespace));
        if (!entry) return;
        const byName = new Map(entry.group.variants.map((v) => [v.va.metadata!.name!, v]));
        for (const d of m.decisions) {
          const v = byName.get(d.variantName);
          if (v) await this.publisher.apply(v, d, m, entry, report);
        }
      }),
    );
  }

  private variantState(v: GroupVariant): VariantState {
    const rs = replicaState(v.deployment);
    return {
      name: v.va.metadata!.name!,
      namespace: v.va.metadata!.namespace!,
      modelID: v.va.spec.modelID,
      accelerator: resolveAccelerator(v.va, v.deployment),
      cost: variantCost(v.va),
      gpusPerReplica: gpusPerReplica(v.deployment),
      current: rs.current,
      ready: rs.ready,
      // the last target this process published (the status may lag behind its own write), else the status
      desired:
        this.publisher.lastPublished(vaKey(v.va.metadata!.namespace!, v.va.metadata!.name!)) ??
        v.va.status?.desiredOptimizedAlloc?.numReplicas ??
        0,
      bounds: this.boundsOf(v),
    };
  }

  /**
   * `maxReplicas` of the HPAs the informer sees, by scale target (`namespace/deployment`): built once per
   * cycle instead of scanning every HPA for every variant.
   */
  private hpaMaxByTarget(): Map<string, number[]> {
    if (this.hpaMax !== undefined) return this.hpaMax;
    const byTarget = new Map<string, number[]>();
    for (const h of this.deps.hpas?.list() ?? []) {
      const ref = h.spec?.scaleTargetRef;
      const max = h.spec?.maxReplicas;
      if (ref?.kind !== "Deployment" || typeof max !== "number" || max < 0) continue;
      const key = `${h.metadata?.namespace}/${ref.name}`;
      const list = byTarget.get(key);
      if (list === undefined) byTarget.set(key, [max]);
      else list.push(max);
    }
    return (this.hpaMax = byTarget);
  }

  /**
   * Bounds of a variant's decision: the VA's `wva.llmd.ai/max-replicas` annotation and the `maxReplicas`
   * of an HPA (seen by the informer) whose scale target is the variant's Deployment.
   */
  boundsOf(v: GroupVariant): VariantState["bounds"] {
    const bounds: ReplicaBound[] = [];
    const max = scaleBounds(v.va.metadata?.annotations).max;
    if (max !== undefined) bounds.push({ source: "annotation", maxReplicas: max });
    const target = `${v.deployment.metadata?.namespace}/${v.deployment.metadata?.name}`;
    for (const hpaMax of this.hpaMaxByTarget().get(target) ?? [])
      bounds.push({ source: "hpa", maxReplicas: hpaMax });
    return bounds.length > 0 ? bounds : undefined;
  }
}

/** vLLM parameters of the group's Deployments, by VA name. */
function vllmParamsOf(group: ModelGroup<GroupVariant>): Record<string, VllmParams> {
  const out: Record<string, VllmParams> = {};
  for (const v of group.variants) {
    const p = deploymentVllmParams(v.deployment);
    if (p !== undefined) out[v.va.metadata!.name!] = p;
  }
  return out;
}

/** `2 pod(s) without fresh metrics: a (no current sample), b (HTTP 500 from ...)`. */
export function staleText(stale: readonly StalePod[]): string {
  return `${stale.length} pod(s) without fresh metrics: ${describeStalePods(stale)}`;
}
