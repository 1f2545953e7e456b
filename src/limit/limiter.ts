import type { Decision } from "../types/decision.js";
import { actionOf, compareNames } from "../types/decision.js";
import { GpuAllocator, GpuInventory } from "./inventory.js";

/** Name of the allocation algorithm. */
export const GREEDY_BY_SATURATION = "greedy-by-saturation";
/** Name of the limiter (and of its decision step) in the engine. */
export const GPU_LIMITER = "gpu-limiter";

/** What the allocation algorithm needs to know about one decision. */
export interface LimiterItem {
  /** Stable identity for tie-breaks, e.g. `ns/model/variant`. */
  id: string;
  accelerator: string;
  current: number;
  target: number;
  gpusPerReplica: number;
  spareCapacity: number;
  cost: number;
}

export interface LimiterOutcome {
  target: number;
  gpusAllocated: number;
  replicasAllocated: number;
  wasLimited: boolean;
  /** Decision-step reason text. */
  reason: string;
}

function gpr(n: number): number {
  return n > 0 ? n : 1;
}

/**
 * Greedy-by-saturation (docs/design/gpu-limiter.md): scale-up candidates are served most saturated first (ascending
 * spare capacity, then ascending cost, then id); each gets `min(need × gpusPerReplica, available)` GPUs
 * rounded down to whole replicas. Returns one outcome per item, in the input order.
 */
export function greedyBySaturation(items: readonly LimiterItem[], allocator: GpuAllocator): LimiterOutcome[] {
  const out: LimiterOutcome[] = items.map((it) => ({
    target: it.target,
    gpusAllocated: 0,
    replicasAllocated: 0,
    wasLimited: false,
    reason: `no scale-up (target=${it.target}, current=${it.current})`,
  }));
  const order = items
    .map((it, i) => ({ it, i }))
    .filter(({ it }) => it.target > it.current)
    .sort(
      (a, b) =>
        a.it.spareCapacity - b.it.spareCapacity || a.it.cost - b.it.cost || compareNames(a.it.id, b.it.id),
    );
  for (const { it, i } of order) {
    const per = gpr(it.gpusPerReplica);
    const need = it.target - it.current;
    let granted = 0;
    try {
      granted = allocator.allocate(it.accelerator, need * per);
    } catch {
      granted = 0;
    }
    const replicas = Math.floor(granted / per);
    const gpus = replicas * per;
    const limited = replicas < need;
    out[i] = {
      target: it.current + replicas,
      gpusAllocated: gpus,
      replicasAllocated: replicas,
      wasLimited: limited,
      reason: `${limited ? "limited: " : ""}allocated ${gpus} GPUs for +${replicas} replicas`,
    };
  }
  return out;
}

/** GPUs used by WVA-managed replicas: Σ current × gpusPerReplica per accelerator. */
export function usedGpus(decisions: readonly Decision[]): Record<string, number> {
  const used: Record<string, number> = {};
  for (const d of decisions) {
    if (d.acceleratorName === "") continue;
    used[d.acceleratorName] = (used[d.acceleratorName] ?? 0) + d.currentReplicas * gpr(d.gpusPerReplica);
  }
  return used;
}

/**
 * Applies the GPU limiter to every decision of the cycle (all models at once), in place: targets of
 * scale-ups are cut to what the inventory can hold, and every decision gets a `gpu-limiter` step.
 */
export function applyGpuLimiter(decisions: Decision[], limits: Record<string, number>): void {
  const inventory = new GpuInventory(limits, usedGpus(decisions));
  const allocator = inventory.createAllocator();
  // only scale-ups need the allocation algorithm; every decision still gets its step
  const candidates: Decision[] = [];
  for (const d of decisions) if (d.targetReplicas > d.currentReplicas) candidates.push(d);
  const outcomes = greedyBySaturation(
    candidates.map((d) => ({
      id: `${d.namespace}/${d.modelID}/${d.variantName}`,
      accelerator: d.acceleratorName,
      current: d.currentReplicas,
      target: d.targetReplicas,
      gpusPerReplica: d.gpusPerReplica,
      spareCapacity: d.spareCapacity,
      cost: d.cost,
    })),
    allocator,
  );
  const byDecision = new Map<Decision, LimiterOutcome>();
  candidates.forEach((d, i) => byDecision.set(d, outcomes[i]));
  for (const d of decisions) {
    const o = byDecision.get(d);
    d.originalTargetReplicas = d.targetReplicas;
    if (o !== undefined) {
      d.targetReplicas = o.target;
      d.gpusAllocated = o.gpusAllocated;
      d.wasLimited = o.wasLimited;
      d.limitedBy = o.wasLimited ? GPU_LIMITER : "";
      d.action = actionOf(d.targetReplicas, d.currentReplicas);
    }
    d.steps.push({
      name: GPU_LIMITER,
      action: d.action,
      target: d.targetReplicas,
      reason: o?.reason ?? `no scale-up (target=${d.targetReplicas}, current=${d.currentReplicas})`,
      wasConstrained: o?.wasLimited ?? false,
    });
  }
}
