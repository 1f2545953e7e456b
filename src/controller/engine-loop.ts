import { actuateDirect, scaleBounds } from "../actuate/direct.js";
import type { ActuationMetrics, ScalingDirection } from "../actuate/metrics.js";
import { decideCycle, STEP_ENFORCER, type ModelInput } from "../engine/pipeline.js";
import {
  emptyTransitionState,
  type Decision,
  type ModelDecisions,
  type ReplicaMetric,
  type SaturationConfig,
  type TransitionState,
  type VariantState,
} from "../engine/types.js";
import type { Logger } from "../util/logger.js";
import { gpusPerReplica, replicaState, resolveAccelerator } from "./accelerator.js";
import type { EventRecorder } from "./kube/events.js";
import { errText, type Informer } from "./kube/informer.js";
import { targetDeployment } from "./reconciler.js";
import { vaPredicate, type IsolationConfig, type NamespaceLookup } from "./predicates.js";
import { variantCost, vaKey, type CachedDecision, type Deployment, type VA } from "./types.js";

/** One variant of a model group, as handed to the metrics collector. */
export interface GroupVariant {
  va: VA;
  deployment: Deployment;
}

export interface ModelGroup {
  modelID: string;
  namespace: string;
  variants: GroupVariant[];
}

export type GroupCollection = { ok: true; replicas: ReplicaMetric[] } | { ok: false; error: string };

/** Metrics collection seam (Prometheus or pod scraping). */
export interface GroupCollector {
  /**
   * Per-pod KV / queue metrics of every group (key `modelID|namespace`); a group whose KV-cache or queue
   * query failed gets `ok: false`. Throwing fails every group.
   */
  collectAll(groups: ModelGroup[]): Promise<Map<string, GroupCollection>>;
  /** Successful requests of the model over the retention window; null = unknown (query failed / empty). */
  requestCount(group: ModelGroup, retentionMs: number): Promise<{ count: number | null; error?: string }>;
}

/** Configuration the loop reads each cycle (hot-reloaded elsewhere). */
export interface EngineConfig {
  saturationFor(modelID: string, namespace: string): SaturationConfig | undefined;
  limiterEnabled(): boolean;
  scaleToZeroFor(modelID: string, namespace: string): { enabled: boolean; retentionMs: number };
  /** GPUs per accelerator short name (only asked when the limiter is enabled). */
  gpuInventory(): Record<string, number>;
  transitionTimeoutMs(): number;
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
  path: "engine" | "safety-net" | "no-metrics" | "no-config";
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
}

/** Reason label of `wva_replica_scaling_total` for a decision (bounded set). */
export function scalingReason(d: Decision): string {
  let reason = "saturation";
  for (let i = 1; i < d.steps.length; i++) {
    const s = d.steps[i];
    if (s.target === d.steps[i - 1].target) continue;
    if (s.name === STEP_ENFORCER) reason = s.target === 0 ? "scale-to-zero" : "minimum-replicas";
    else reason = s.name;
  }
  return reason;
}

function groupKey(modelID: string, namespace: string): string {
  return `${modelID}|${namespace}`;
}

/**
 * The saturation engine loop (5.6): each cycle lists the active VAs from the informer caches, groups
 * them by model and namespace, collects metrics, runs the pure engine, publishes gauges, acts
 * directly when configured and hands decisions to the reconciler. A group whose collection fails takes
 * the safety net: targets hold at the previous desired value (else current replicas), never lower.
 */
export class EngineLoop {
  private transition: TransitionState = emptyTransitionState();
  private timer?: NodeJS.Timeout;
  private running = false;
  private current?: Promise<unknown>;
  private failures = new Map<string, number>();
  /** Last published desired per VA key (for counting real changes). */
  private readonly published = new Map<string, number>();
  private retryMs = 100;
  cycles = 0;

  constructor(
    private readonly deps: EngineLoopDeps,
    private intervalMs: number,
  ) {}

  setInterval(ms: number): void {
    if (ms > 0 && ms !== this.intervalMs) {
      this.intervalMs = ms;
      if (this.running && this.timer) {
        clearTimeout(this.timer);
        this.schedule(ms);
      }
    }
  }

  get interval(): number {
    return this.intervalMs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.current?.catch(() => undefined);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.current = this.runOnce().then(
        () => {
          this.retryMs = 100;
          if (this.running) this.schedule(this.intervalMs);
        },
        (err: unknown) => {
          this.deps.log.error({ err: errText(err) }, "engine cycle failed; retrying with back-off");
          const delay = this.retryMs;
          this.retryMs = Math.min(this.retryMs * 2, 4000);
          if (this.running) this.schedule(delay);
        },
      );
    }, ms);
  }

  /** Forgets per-VA bookkeeping (VA or target deleted). */
  forget(key: string): void {
    this.published.delete(key);
  }

  /** Active VAs (5.6 step 2): from the caches, this instance's, not excluded, target present, replicas > 0. */
  activeVariants(): GroupVariant[] {
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
          this.published.delete(vaKey(ns, name));
        }
        continue;
      }
      const deployment = targetDeployment(va, this.deps.deployments);
      if (!deployment) continue;
      if (deployment.spec?.replicas === 0) continue;
      out.push({ va, deployment });
    }
    return out;
  }

  private last: Promise<unknown> = Promise.resolve();

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

  private async cycle(): Promise<CycleReport> {
    const startedAt = Date.now();
    this.cycles++;
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
    const groups = new Map<string, ModelGroup>();
    for (const v of active) {
      const ns = v.va.metadata!.namespace!;
      const k = groupKey(v.va.spec.modelID, ns);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { modelID: v.va.spec.modelID, namespace: ns, variants: [] }));
      g.variants.push(v);
    }
    const inputs: ModelInput[] = [];
    const byGroup = new Map<string, { group: ModelGroup; replicas: ReplicaMetric[] }>();
    const cfg = this.deps.config;
    const configured = new Map<string, { group: ModelGroup; saturation: SaturationConfig }>();
    for (const [k, group] of groups) {
      const saturation = cfg.saturationFor(group.modelID, group.namespace);
      if (!saturation) {
        this.hold(group, report, "no-config", "no saturation config (`default` entry) applies to this model");
        continue;
      }
      configured.set(k, { group, saturation });
    }
    let collected: Map<string, GroupCollection>;
    try {
      collected =
        configured.size > 0
          ? await this.deps.collector.collectAll([...configured.values()].map((c) => c.group))
          : new Map();
    } catch (err) {
      collected = new Map([...configured.keys()].map((k) => [k, { ok: false, error: errText(err) }]));
    }
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
          this.hold(group, report, "safety-net", `${got.error} (${n} cycle(s) in a row)`);
          return;
        }
        const replicas = got.replicas;
        this.failures.delete(k);
        if (replicas.length === 0) {
          this.hold(group, report, "no-metrics", "no saturation metrics for this model yet");
          return;
        }
        const stz = cfg.scaleToZeroFor(group.modelID, group.namespace);
        let scaleToZero: ModelInput["scaleToZero"];
        if (stz.enabled) {
          const rc = await this.deps.collector.requestCount(group, stz.retentionMs).catch((e: unknown) => ({
            count: null,
            error: errText(e),
          }));
          scaleToZero = {
            enabled: true,
            requestCount: rc.count,
            retentionMs: stz.retentionMs,
            error: rc.error,
          };
        }
        inputs.push({
          modelID: group.modelID,
          namespace: group.namespace,
          variants: group.variants.map((v) => this.variantState(v)),
          replicas,
          config: saturation,
          scaleToZero,
        });
        byGroup.set(k, { group, replicas });
      }),
    );
    const limiter = cfg.limiterEnabled();
    const result = decideCycle(
      { models: inputs, enableLimiter: limiter, gpuInventory: limiter ? cfg.gpuInventory() : undefined },
      { now: startedAt, transitionTimeoutMs: cfg.transitionTimeoutMs(), state: this.transition },
    );
    this.transition = result.state;
    report.models = result.models;
    await Promise.all(
      result.models.map(async (m) => {
        const entry = byGroup.get(groupKey(m.modelID, m.namespace));
        if (!entry) return;
        const byName = new Map(entry.group.variants.map((v) => [v.va.metadata!.name!, v]));
        for (const d of m.decisions) {
          const v = byName.get(d.variantName);
          if (v) await this.apply(v, d, m, entry.replicas, report);
        }
      }),
    );
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
        this.published.get(vaKey(v.va.metadata!.namespace!, v.va.metadata!.name!)) ??
        v.va.status?.desiredOptimizedAlloc?.numReplicas ??
        0,
    };
  }

  /** The target published before this cycle: this process's last value, else the VA status, else current. */
  private previousDesired(key: string, va: VA, current: number): number {
    const published = this.published.get(key);
    if (published !== undefined) return published;
    const fromStatus = va.status?.desiredOptimizedAlloc?.numReplicas ?? 0;
    return fromStatus > 0 ? fromStatus : current;
  }

  /** Safety net / no metrics / no config: publish the previous desired (else current), never lower. */
  private hold(group: ModelGroup, report: CycleReport, path: VariantReport["path"], why: string): void {
    for (const v of group.variants) {
      const ns = v.va.metadata!.namespace!;
      const name = v.va.metadata!.name!;
      const key = vaKey(ns, name);
      const rs = replicaState(v.deployment);
      const statusReplicas = v.deployment.status?.replicas ?? 0;
      const statusDesired = v.va.status?.desiredOptimizedAlloc?.numReplicas ?? 0;
      const desired = this.previousDesired(key, v.va, rs.current);
      const source = this.published.has(key) || statusDesired > 0 ? "previous desired" : "current replicas";
      const accelerator = resolveAccelerator(v.va, v.deployment);
      this.deps.metrics.emit(ns, name, accelerator, statusReplicas, desired, false);
      this.published.set(key, desired);
      const metrics =
        path === "safety-net"
          ? { status: "False" as const, reason: "PrometheusError", message: `Metrics query failed: ${why}` }
          : {
              status: "False" as const,
              reason: "MetricsUnavailable",
              message:
                path === "no-config"
                  ? `Saturation config missing: ${why}`
                  : "No saturation metrics available - pods may not be ready or metrics not yet scraped",
            };
      const optimization =
        path === "no-config"
          ? {
              status: "False" as const,
              reason: "InvalidConfiguration",
              message: `${why}; holding ${desired} replicas (${source})`,
            }
          : {
              status: "True" as const,
              reason: "SaturationSafetyOverride",
              message: `Safety net: holding ${desired} replicas (${source}); never scaling down on missing data`,
            };
      this.deps.decisions.set(key, {
        accelerator,
        targetReplicas: desired,
        keepAlloc: true,
        metrics,
        optimization,
        applied: true,
        reason: `${path}: ${why}`,
      });
      this.deps.enqueue(key);
      report.variants.push({
        namespace: ns,
        modelID: group.modelID,
        variant: name,
        accelerator,
        current: rs.current,
        ready: rs.ready,
        desired,
        action: desired > rs.current ? "scale-up" : desired < rs.current ? "scale-down" : "no-change",
        reason: `${path}: ${why}`,
        path,
      });
    }
  }

  private async apply(
    v: GroupVariant,
    d: Decision,
    model: ModelDecisions,
    replicas: ReplicaMetric[],
    report: CycleReport,
  ): Promise<void> {
    const ns = v.va.metadata!.namespace!;
    const name = v.va.metadata!.name!;
    const key = vaKey(ns, name);
    const rs = replicaState(v.deployment);
    let target = d.targetReplicas;
    let applied = true;
    let actuation = "";
    if (this.deps.actuator === "direct") {
      const bounds = scaleBounds(v.va.metadata?.annotations);
      if (bounds.errors.length > 0) {
        void this.deps.events?.record(v.va, "Warning", "InvalidScaleBounds", bounds.errors.join("; "));
      }
      try {
        const r = await actuateDirect(
          { setDeploymentScale: this.deps.setScale },
          ns,
          v.deployment.metadata!.name!,
          rs.spec,
          target,
          bounds,
        );
        if (r.replicas !== target) actuation = ` (bounded to ${r.replicas} by annotations)`;
        target = r.replicas;
      } catch (err) {
        applied = false;
        actuation = ` (scale write failed: ${errText(err)})`;
        this.deps.log.warn({ va: key, err: errText(err) }, "direct actuation failed");
      }
    }
    const prev = this.previousDesired(key, v.va, rs.current);
    if (target !== prev) {
      const direction: ScalingDirection = target > prev ? "up" : "down";
      const reason = target !== d.targetReplicas ? "scale-bounds" : scalingReason(d);
      this.deps.metrics.countScaling(ns, name, direction, reason);
    }
    this.published.set(key, target);
    const statusReplicas = v.deployment.status?.replicas ?? 0;
    this.deps.metrics.emit(ns, name, d.acceleratorName, statusReplicas, target, d.metricsAvailable);
    const reason = d.reason + actuation;
    const optimization = model.transitionReleased
      ? {
          status: "True" as const,
          reason: "TransitionReleased",
          message: `Transition lock released after the bound: ${model.transitionReasons.join(", ")} did not converge (an external bound such as HPA maxReplicas may block it); ${reason} (target: ${target} replicas)`,
        }
      : {
          status: "True" as const,
          reason: "SaturationOnlyMode",
          message: `${reason} (target: ${target} replicas)`,
        };
    this.deps.decisions.set(key, {
      accelerator: d.acceleratorName,
      targetReplicas: target,
      keepAlloc: false,
      metrics: d.metricsAvailable
        ? {
            status: "True",
            reason: "MetricsAvailable",
            message: "Saturation metrics data is available for scaling decisions",
          }
        : {
            status: "False",
            reason: "MetricsUnavailable",
            message: "No saturation metrics available - pods may not be ready or metrics not yet scraped",
          },
      optimization,
      applied,
      reason,
    });
    this.deps.enqueue(key);
    const own = replicas.filter((r) => r.variant === name);
    report.variants.push({
      namespace: ns,
      modelID: model.modelID,
      variant: name,
      accelerator: d.acceleratorName,
      current: rs.current,
      ready: rs.ready,
      desired: target,
      kvUsage: own.length > 0 ? own.reduce((s, r) => s + r.kvCacheUsage, 0) / own.length : undefined,
      queue: own.length > 0 ? own.reduce((s, r) => s + r.queueLength, 0) : undefined,
      action: target > rs.current ? "scale-up" : target < rs.current ? "scale-down" : "no-change",
      reason,
      path: "engine",
    });
  }
}
