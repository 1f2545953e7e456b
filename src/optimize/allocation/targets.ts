/**
 * Optimizer of the queueing-model engine: sizes the model's candidate allocations from the analysis
 * (load and SLO targets), takes the cheapest one to move to, and turns it into per-variant targets.
 * The chosen variant gets the allocation's replicas; the others go to zero once the chosen variant's
 * replicas are all ready (until then they keep theirs, so the load is served while the new replicas
 * start). A model without a decision (no rate metrics, no targets, no feasible variant) keeps every
 * replica: missing metrics never cause a scale-down. Pure code; see docs/design/model-based-optimizer.md.
 */
import { DEFAULT_MAX_BATCH_SIZE } from "../../analyze/queueing-model/model-analysis.js";
import type {
  ModelAnalysis,
  OptimizeOptions,
  OptimizeResult,
  VariantState,
  VariantTarget,
} from "../../types/decision.js";
import { actionOf, compareNames } from "../../types/decision.js";
import type { ModelDemand, VariantProfile } from "./allocation.js";
import { solveAllocations } from "./solver.js";

/** The variant holding most of the model's replicas now (ties: by name), if any. */
function currentAllocation(states: readonly VariantState[]): ModelDemand["current"] {
  let best: VariantState | undefined;
  for (const s of states) if (s.current > 0 && (!best || s.current > best.current)) best = s;
  return best && { variant: best.name, replicas: best.current };
}

function profile(s: VariantState): VariantProfile[] {
  if (!s.parameters) return [];
  return [
    {
      name: s.name,
      accelerator: s.accelerator,
      costPerReplica: s.cost,
      gpusPerReplica: s.gpusPerReplica,
      maxBatchSize: s.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE,
      params: s.parameters,
    },
  ];
}

/** Per-variant targets from the allocation that serves the model's load within its SLO targets. */
export function allocationTargets(
  analysis: ModelAnalysis,
  states: readonly VariantState[],
  _opts: OptimizeOptions,
): OptimizeResult {
  const sorted = [...states].sort((a, b) => compareNames(a.name, b.name));
  const analysed = new Set(analysis.variants.filter((v) => v.replicaCount > 0).map((v) => v.variant));
  const target = (s: VariantState, n: number, reason: string, wasConstrained = false): VariantTarget => ({
    variant: s.name,
    target: n,
    action: actionOf(n, s.current),
    reason,
    wasConstrained,
    analysed: analysed.has(s.name),
  });
  const result = (targets: VariantTarget[]): OptimizeResult => ({
    targets,
    inTransition: false,
    transitionReleased: false,
    transitionReasons: [],
    state: { firstSeen: {}, decisions: {} },
  });
  const keepAll = (why: string) =>
    result(sorted.map((s) => target(s, s.current, `${why}; keeping current replicas`)));

  const sizing = analysis.sizing;
  if (!sizing) return keepAll("no queueing-model analysis");
  if (sizing.noDecision !== undefined || !sizing.targets)
    return keepAll(sizing.noDecision ?? "no SLO targets");
  const [m] = solveAllocations([
    {
      modelID: analysis.modelID,
      namespace: analysis.namespace,
      targets: { ttftMs: sizing.targets.ttftMs, itlMs: sizing.targets.itlMs },
      load: {
        arrivalRatePerSec: sizing.arrivalRatePerSec,
        avgInputTokens: sizing.avgInputTokens,
        avgOutputTokens: sizing.avgOutputTokens,
      },
      minReplicas: 0,
      current: currentAllocation(sorted),
      variants: sorted.flatMap(profile),
    },
  ]);
  const chosen = m.chosen;
  if (!chosen) return keepAll(m.reason);
  const winner = sorted.find((s) => s.name === chosen.variant)!;
  const switching = winner.ready < chosen.replicas;
  return result(
    sorted.map((s) => {
      if (s === winner) return target(s, chosen.replicas, m.reason);
      if (s.current > 0 && switching)
        return target(
          s,
          s.current,
          `keeping ${s.current} until ${winner.name} has ${chosen.replicas} ready (${winner.ready} now); ${m.reason}`,
          true,
        );
      return target(s, 0, `${winner.name} serves the model; ${m.reason}`);
    }),
  );
}
