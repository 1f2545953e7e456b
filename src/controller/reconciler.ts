import type { ActuationMetrics } from "../actuate/metrics.js";
import { ConditionType } from "../api/v1alpha1/constants.js";
import type { Logger } from "../util/logger.js";
import { replicaState } from "./accelerator.js";
import { skippedNoTarget, skippedZeroReplicas, targetFound, targetNotFound } from "./conditions.js";
import type { KubeClient } from "./kube/client.js";
import type { EventRecorder } from "./kube/events.js";
import { errText, type Informer } from "./kube/informer.js";
import { metaTime, patchStatus, setCondition, type StatusWriteResult } from "./kube/status.js";
import { vaPredicate, type IsolationConfig, type NamespaceLookup } from "./predicates.js";
import {
  splitKey,
  vaPath,
  type CachedDecision,
  type ConditionState,
  type Deployment,
  type VA,
} from "./types.js";

export const CONDITION_TARGET_RESOLVED = ConditionType.TargetResolved;
export const CONDITION_METRICS_AVAILABLE = ConditionType.MetricsAvailable;
export const CONDITION_OPTIMIZATION_READY = ConditionType.OptimizationReady;

export interface ReconcilerDeps {
  client: KubeClient;
  vas: Informer<VA>;
  deployments: Informer<Deployment>;
  decisions: Map<string, CachedDecision>;
  metrics: ActuationMetrics;
  events?: EventRecorder;
  isolation: IsolationConfig;
  namespaces?: NamespaceLookup;
  log: Logger;
  /** Called for every status write (tests, benchmarks). */
  onStatusWrite?: (key: string, result: StatusWriteResult<VA>) => void;
}

/** True when the VA's target Deployment exists and is not being deleted. */
export function targetDeployment(va: VA, deployments: Informer<Deployment>): Deployment | undefined {
  const name = va.spec?.scaleTargetRef?.name;
  if (!name) return undefined;
  const d = deployments.get(va.metadata?.namespace, name);
  if (!d || d.metadata?.deletionTimestamp) return undefined;
  return d;
}

/**
 * Computes the next status of a VA from its target Deployment and the cached engine decision
 * (pure; re-applied on a conflict retry against the latest object).
 */
export function nextStatus(
  va: VA,
  deploy: Deployment | undefined,
  decision: CachedDecision | undefined,
  now: Date = new Date(),
): VA["status"] {
  const status = structuredClone(va.status ?? {});
  const generation = va.metadata?.generation;
  const target = va.spec?.scaleTargetRef?.name ?? "";
  const set = (type: string, s: ConditionState) => {
    status.conditions = setCondition(status.conditions, { type, ...s, observedGeneration: generation }, now);
  };
  if (!deploy) {
    set(CONDITION_TARGET_RESOLVED, targetNotFound(target));
    set(CONDITION_OPTIMIZATION_READY, skippedNoTarget(target));
    if (status.actuation) status.actuation = { applied: false };
    return status;
  }
  set(CONDITION_TARGET_RESOLVED, targetFound(target));
  if (!decision) {
    if (replicaState(deploy).spec === 0) {
      set(CONDITION_OPTIMIZATION_READY, skippedZeroReplicas(target));
    }
    return status;
  }
  if (decision.accelerator && !decision.keepAlloc) {
    const prev = status.desiredOptimizedAlloc;
    const same =
      prev && prev.numReplicas === decision.targetReplicas && prev.accelerator === decision.accelerator;
    status.desiredOptimizedAlloc = {
      accelerator: decision.accelerator,
      numReplicas: decision.targetReplicas,
      // lastRunTime = when the current target was first applied (no write per cycle when unchanged)
      lastRunTime: same && prev.lastRunTime ? prev.lastRunTime : metaTime(now),
    };
  }
  set(CONDITION_METRICS_AVAILABLE, decision.metrics);
  set(CONDITION_OPTIMIZATION_READY, decision.optimization);
  if (decision.accelerator) status.actuation = { applied: decision.applied };
  return status;
}

/**
 * The VariantAutoscaling reconciler: reads the VA and its target from the informer caches, merges the
 * cached engine decision and writes the status (merge patch, conflict retry). A VA whose target is
 * missing gets `TargetResolved=False` and loses its gauges; a deleted VA loses its gauges.
 */
export class VAReconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  forget(namespace: string, name: string): void {
    this.deps.metrics.removeVariant(namespace, name);
    this.deps.decisions.delete(`${namespace}/${name}`);
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const va = this.deps.vas.get(namespace, name);
    if (!va || va.metadata?.deletionTimestamp) {
      this.forget(namespace, name);
      return;
    }
    if (!vaPredicate(va, this.deps.isolation, this.deps.namespaces)) return;
    const deploy = targetDeployment(va, this.deps.deployments);
    if (!deploy) this.forget(namespace, name);
    const decision = deploy ? this.deps.decisions.get(key) : undefined;
    const result = await patchStatus<VA>(this.deps.client, vaPath(namespace, name), va, (current) =>
      nextStatus(current, deploy, decision),
    );
    if (result.conflicts > 0)
      this.deps.log.debug({ va: key, conflicts: result.conflicts }, "status conflicts retried");
    this.deps.onStatusWrite?.(key, result);
  }

  onError(key: string, err: unknown): void {
    this.deps.log.warn({ va: key, err: errText(err) }, "reconcile failed; retrying with back-off");
  }
}
