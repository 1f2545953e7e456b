import type { Decision } from "../../src/types/decision.js";
import { actionOf } from "../../src/types/decision.js";

/** A decision record as the limiter receives it. */
export function decision(
  variantName: string,
  over: Partial<Decision> & { currentReplicas: number; targetReplicas: number },
): Decision {
  const d: Decision = {
    variantName,
    namespace: "ns",
    modelID: "m",
    acceleratorName: "A100",
    cost: 10,
    gpusPerReplica: 1,
    action: "no-change",
    readyReplicas: over.currentReplicas,
    originalTargetReplicas: over.targetReplicas,
    desiredReplicas: 0,
    spareCapacity: 0.1,
    metricsAvailable: true,
    wasLimited: false,
    limitedBy: "",
    gpusAllocated: 0,
    reason: "",
    steps: [],
    ...over,
  };
  d.action = actionOf(d.targetReplicas, d.currentReplicas);
  return d;
}
