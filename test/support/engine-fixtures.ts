import type { ReplicaMetric, SaturationConfig, VariantState } from "../../src/types/decision.js";
import { DEFAULT_SATURATION_CONFIG } from "../../src/types/decision.js";

/** C0: the shipped default thresholds. */
export const C0: SaturationConfig = { ...DEFAULT_SATURATION_CONFIG };

/** Replica metrics of one variant written as [kv, queue] pairs; pods are `<variant>-<i>`. */
export function reps(variant: string, pairs: Array<[number, number]>): ReplicaMetric[] {
  return pairs.map(([kv, q], i) => ({ pod: `${variant}-${i}`, variant, kvCacheUsage: kv, queueLength: q }));
}

/** A variant state with defaults (model m, namespace ns, H100, cost 10, ready = current). */
export function state(name: string, over: Partial<VariantState> = {}): VariantState {
  const current = over.current ?? 1;
  return {
    name,
    namespace: "ns",
    modelID: "m",
    accelerator: "H100",
    cost: 10,
    gpusPerReplica: 1,
    current,
    ready: current,
    desired: 0,
    ...over,
  };
}

export const NOW = 1_700_000_000_000;
