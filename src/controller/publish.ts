/**
 * The apply stage of the engine loop: publishes each variant's target (gauges, direct scaling when
 * configured), records the decision and its conditions for the reconciler and remembers what it
 * published.
 */
import { actuateDirect, scaleBounds } from "../actuate/direct.js";
import type { ScalingDirection } from "../actuate/metrics.js";
import { ScaleDownStabilizer } from "../actuate/stabilization.js";
import { STEP_ENFORCER } from "../engine/pipeline.js";
import type { Decision, ModelDecisions, ModelGroup } from "../engine/types.js";
import { replicaState, resolveAccelerator } from "./accelerator.js";
import {
  invalidConfiguration,
  metricsAvailable,
  metricsAvailableWithErrors,
  metricsConfigMissing,
  metricsQueryFailed,
  metricsStale,
  metricsUnavailable,
  optimized,
  optimizedAfterRelease,
  safetyHold,
} from "./conditions.js";
import {
  staleText,
  type CollectedGroup,
  type CycleReport,
  type EngineLoopDeps,
  type GroupVariant,
  type VariantReport,
} from "./engine-loop.js";
import { errText } from "./kube/informer.js";
import { vaKey, type VA } from "./types.js";

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

/** Reason of the Event recorded on a VA whose target changed. */
export const DESIRED_REPLICAS_CHANGED = "DesiredReplicasChanged";

export class DecisionPublisher {
  /** Last published desired per VA key (for counting real changes). */
  private readonly published = new Map<string, number>();
  /** Scale-down stabilisation of the direct actuator. */
  private readonly stabilizer: ScaleDownStabilizer;

  constructor(private readonly deps: EngineLoopDeps) {
    this.stabilizer = new ScaleDownStabilizer(deps.scaleDownStabilizationMs ?? 0);
  }

  /** The target this process last published for a VA. */
  lastPublished(key: string): number | undefined {
    return this.published.get(key);
  }

  /** Records a target published outside the engine cycle (a wake-up from zero). */
  markPublished(key: string, target: number): void {
    this.published.set(key, target);
  }

  /** Forgets a VA (deleted, or no longer this controller's). */
  forget(key: string): void {
    this.published.delete(key);
    this.stabilizer.forget(key);
  }

  /** The target published before this cycle: this process's last value, else the VA status, else current. */
  private previousDesired(key: string, va: VA, current: number): number {
    const published = this.published.get(key);
    if (published !== undefined) return published;
    const fromStatus = va.status?.desiredOptimizedAlloc?.numReplicas ?? 0;
    return fromStatus > 0 ? fromStatus : current;
  }

  /** Safety net / no metrics / no config: publish the previous desired (else current), never lower. */
  hold(group: ModelGroup<GroupVariant>, report: CycleReport, path: VariantReport["path"], why: string): void {
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
          ? metricsQueryFailed(why)
          : path === "no-config"
            ? metricsConfigMissing(why)
            : path === "stale"
              ? metricsStale(why)
              : metricsUnavailable();
      const optimization =
        path === "no-config" ? invalidConfiguration(why, desired, source) : safetyHold(desired, source);
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

  /**
   * Publishes the engine's decision for one variant. While pods of the model have no fresh data the
   * target never goes below the previous one; the direct actuator applies a lower target only after its
   * stabilisation window. A change is logged at info level and recorded as an Event on the VA.
   */
  async apply(
    v: GroupVariant,
    d: Decision,
    model: ModelDecisions,
    collected: Pick<CollectedGroup, "replicas" | "stale" | "queryErrors">,
    report: CycleReport,
  ): Promise<void> {
    const ns = v.va.metadata!.namespace!;
    const name = v.va.metadata!.name!;
    const key = vaKey(ns, name);
    const rs = replicaState(v.deployment);
    const prev = this.previousDesired(key, v.va, rs.current);
    let target = d.targetReplicas;
    let applied = true;
    let actuation = "";
    if (collected.stale.length > 0 && target < prev) {
      actuation = ` (scale-down to ${target} blocked: ${collected.stale.length} pod(s) without fresh metrics)`;
      target = prev;
    }
    if (this.deps.actuator === "direct") {
      const stable = this.stabilizer.stabilize(key, target, Date.now(), rs.spec);
      if (stable > target) {
        actuation += ` (scale-down to ${target} held at ${stable} by the ${this.stabilizer.window / 1000} s stabilisation window)`;
        target = stable;
      }
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
        if (r.replicas !== target) actuation += ` (bounded to ${r.replicas} by annotations)`;
        target = r.replicas;
      } catch (err) {
        applied = false;
        actuation = ` (scale write failed: ${errText(err)})`;
        this.deps.log.warn({ va: key, err: errText(err) }, "direct actuation failed");
      }
    }
    const reason = d.reason + actuation;
    if (target !== prev) {
      const direction: ScalingDirection = target > prev ? "up" : "down";
      this.deps.metrics.countScaling(
        ns,
        name,
        direction,
        target !== d.targetReplicas ? "scale-bounds" : scalingReason(d),
      );
      this.deps.log.info(
        { model: model.modelID, namespace: ns, variant: name, from: prev, to: target, reason },
        "desired replicas changed",
      );
      void this.deps.events?.record(
        v.va,
        "Normal",
        DESIRED_REPLICAS_CHANGED,
        `desired replicas ${prev} -> ${target}: ${reason}`,
      );
    }
    this.published.set(key, target);
    const statusReplicas = v.deployment.status?.replicas ?? 0;
    const fresh = d.metricsAvailable && collected.stale.length === 0;
    this.deps.metrics.emit(ns, name, d.acceleratorName, statusReplicas, target, fresh);
    const analyzer = analyzerLabel(model.analysis.analyzer);
    this.deps.metrics.setAnalyzer(ns, name, analyzer);
    const optimization = model.transitionReleased
      ? optimizedAfterRelease(model.transitionReasons, reason, target)
      : optimized(reason, target, analyzer);
    this.deps.decisions.set(key, {
      accelerator: d.acceleratorName,
      targetReplicas: target,
      keepAlloc: false,
      metrics:
        collected.stale.length > 0
          ? metricsStale(staleText(collected.stale))
          : !d.metricsAvailable
            ? metricsUnavailable()
            : collected.queryErrors.length > 0
              ? metricsAvailableWithErrors(collected.queryErrors)
              : metricsAvailable(),
      optimization,
      applied,
      reason,
    });
    this.deps.enqueue(key);
    const own = collected.replicas.filter((r) => r.variant === name);
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

/** How the analyzer of a decision is named in conditions and metrics ("default" for V1). */
export function analyzerLabel(analyzerName: string | undefined): string {
  return analyzerName === undefined || analyzerName === "" ? "default" : analyzerName;
}
