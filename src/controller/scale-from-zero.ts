/**
 * The scale-from-zero loop (on the leader, every 100 ms): for each model whose variants are all at zero
 * replicas, it finds the InferencePool serving them, reads the model's requests held in the endpoint
 * picker's flow-control queue, and when there are some scales one variant from 0 to 1 through the scale
 * subresource and records the decision. See docs/design/scale-from-zero.md.
 */
import type { ActuationMetrics } from "../actuate/metrics.js";
import { selectPool, type InferencePool, type PoolDatastore } from "../collect/inference-pool.js";
import { mapLimit } from "../collect/http.js";
import { chooseWakeVariant, freeGpus, SCALE_FROM_ZERO_INTERVAL_MS } from "../enforce/scale-from-zero.js";
import type { Logger } from "../util/logger.js";
import { PeriodicTask } from "../util/timer.js";
import { gpusPerReplica, resolveAccelerator } from "./accelerator.js";
import { scaledFromZero, scaledFromZeroMetrics } from "./conditions.js";
import type { GroupVariant } from "./engine-loop.js";
import type { EventRecorder } from "./kube/events.js";
import { errText } from "./kube/informer.js";
import { variantCost, vaKey, type CachedDecision } from "./types.js";

/** Reason label of `wva_replica_scaling_total` for a wake-up. */
export const SCALE_FROM_ZERO_REASON = "scale-from-zero";

export interface ScaleFromZeroDeps {
  /** VAs whose target is at 0 replicas, and the active ones (from the engine loop's filters). */
  inactiveVariants(): GroupVariant[];
  activeVariants(): GroupVariant[];
  pools: PoolDatastore;
  /** Requests of `modelID` queued at the pool's endpoint picker. */
  queueSize(pool: InferencePool, modelID: string): Promise<number>;
  /** `SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY`: models checked at once. */
  maxConcurrency: number;
  /** GPUs per accelerator of the cluster's nodes. */
  gpuInventory(): Record<string, number>;
  setScale(namespace: string, name: string, replicas: number): Promise<void>;
  metrics: ActuationMetrics;
  decisions: Map<string, CachedDecision>;
  enqueue(key: string): void;
  /** Tells the engine loop about the wake-up (published target, retention grace). */
  onWake(v: GroupVariant, at: number): void;
  events?: EventRecorder;
  log: Logger;
}

interface ZeroModel {
  modelID: string;
  namespace: string;
  variants: GroupVariant[];
}

export class ScaleFromZeroLoop {
  private readonly task: PeriodicTask;
  /** Pools last warned about per VA (a Warning event per change of the ambiguous set). */
  private readonly warned = new Map<string, string>();

  constructor(private readonly deps: ScaleFromZeroDeps) {
    this.task = new PeriodicTask({
      field: "scale-from-zero interval",
      intervalMs: SCALE_FROM_ZERO_INTERVAL_MS,
      retryMs: SCALE_FROM_ZERO_INTERVAL_MS,
      maxRetryMs: 4000,
      run: () => this.runOnce(),
      onError: (err) =>
        this.deps.log.warn({ err: errText(err) }, "scale-from-zero round failed; retrying with back-off"),
    });
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One round over the models at zero; errors of single models are collected and thrown together. */
  async runOnce(): Promise<void> {
    const inactive = this.deps.inactiveVariants();
    if (inactive.length === 0) return;
    if (this.deps.pools.size === 0) {
      this.deps.log.debug({ inactive: inactive.length }, "no InferencePool known; nothing to wake");
      return;
    }
    const active = this.deps.activeVariants();
    const models = this.modelsAtZero(inactive, active);
    const errors: unknown[] = [];
    await mapLimit(models, Math.max(1, this.deps.maxConcurrency), async (m) => {
      try {
        await this.checkModel(m, active);
      } catch (err) {
        errors.push(err);
      }
    });
    if (errors.length > 0) throw new AggregateError(errors, errors.map((e) => errText(e)).join("; "));
  }

  /** Inactive VAs grouped by model, leaving out models with an active variant (the engine serves them). */
  private modelsAtZero(inactive: readonly GroupVariant[], running: readonly GroupVariant[]): ZeroModel[] {
    const key = (v: GroupVariant) => `${v.va.metadata!.namespace}/${v.va.spec.modelID}`;
    const active = new Set(running.map(key));
    const models = new Map<string, ZeroModel>();
    for (const v of inactive) {
      const k = key(v);
      if (active.has(k)) continue;
      let m = models.get(k);
      if (!m)
        models.set(
          k,
          (m = { modelID: v.va.spec.modelID, namespace: v.va.metadata!.namespace!, variants: [] }),
        );
      m.variants.push(v);
    }
    return [...models.values()];
  }

  private async checkModel(m: ZeroModel, active: readonly GroupVariant[]): Promise<void> {
    const pools = new Map<string, InferencePool>();
    for (const v of m.variants) {
      const labels = v.deployment.spec?.template?.metadata?.labels;
      if (!labels)
        throw new Error(
          `${vaKey(m.namespace, v.va.metadata!.name!)}: labels are missing for target workload object`,
        );
      const choice = selectPool(this.deps.pools.list(), m.namespace, labels);
      if (choice.matches.length > 1) this.warnAmbiguous(v, choice.matches);
      if (choice.pool) pools.set(choice.pool.name, choice.pool);
    }
    if (pools.size === 0) {
      this.deps.log.debug(
        { model: `${m.namespace}/${m.modelID}` },
        "no InferencePool selects the model's pods",
      );
      return;
    }
    let queued = 0;
    for (const pool of pools.values()) queued += await this.deps.queueSize(pool, m.modelID);
    if (queued > 0) await this.wake(m, queued, active);
  }

  private warnAmbiguous(v: GroupVariant, matches: readonly InferencePool[]): void {
    const key = vaKey(v.va.metadata!.namespace!, v.va.metadata!.name!);
    const names = matches.map((p) => p.name).join(", ");
    if (this.warned.get(key) === names) return;
    this.warned.set(key, names);
    void this.deps.events?.record(
      v.va,
      "Warning",
      "AmbiguousInferencePool",
      `InferencePools ${names} all select the pods of ${v.deployment.metadata?.name}; using ${matches[0].name} (most specific selector, then name)`,
    );
  }

  /** Scales the chosen variant from 0 to 1 and records the decision for the reconciler. */
  private async wake(m: ZeroModel, queued: number, active: readonly GroupVariant[]): Promise<void> {
    const inventory = this.inventory(active);
    const choice = chooseWakeVariant(
      m.variants.map((v) => ({
        variant: v.va.metadata!.name!,
        accelerator: resolveAccelerator(v.va, v.deployment),
        cost: variantCost(v.va),
        gpusPerReplica: gpusPerReplica(v.deployment),
      })),
      inventory,
    )!;
    const v = m.variants.find((x) => x.va.metadata!.name === choice.variant)!;
    const ns = m.namespace;
    const name = choice.variant;
    const key = vaKey(ns, name);
    const accelerator = resolveAccelerator(v.va, v.deployment);
    const reason = `scalefromzero mode: ${queued} pending request(s) - scale-up (${choice.reason})`;
    // publish the target before scaling, so an HPA never reads a stale 0 for the woken variant
    this.deps.metrics.emit(ns, name, accelerator, 0, 1);
    await this.deps.setScale(ns, v.deployment.metadata!.name!, 1);
    const at = Date.now();
    this.deps.metrics.countScaling(ns, name, "up", SCALE_FROM_ZERO_REASON);
    this.deps.onWake(v, at);
    this.deps.decisions.set(key, {
      accelerator,
      targetReplicas: 1,
      keepAlloc: false,
      metrics: scaledFromZeroMetrics(),
      optimization: scaledFromZero(reason),
      applied: true,
      reason,
    });
    this.deps.enqueue(key);
    void this.deps.events?.record(v.va, "Normal", "ScaledFromZero", reason);
    this.deps.log.info({ va: key, queued, why: choice.reason }, "scaled from zero");
  }

  /** Node GPUs per accelerator, minus the GPUs the active variants' replicas hold. */
  private inventory(active: readonly GroupVariant[]): Record<string, number> {
    const used: Record<string, number> = {};
    for (const v of active) {
      const acc = resolveAccelerator(v.va, v.deployment);
      used[acc] = (used[acc] ?? 0) + (v.deployment.spec?.replicas ?? 0) * gpusPerReplica(v.deployment);
    }
    return freeGpus(this.deps.gpuInventory(), used);
  }
}
