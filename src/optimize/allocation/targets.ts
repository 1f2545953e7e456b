/**
 * Optimizer of the queueing-model engine: sizes the model's candidate allocations from the analysis
 * (load, SLO targets and each variant's maximum), takes the cheapest one to move to, and turns it into
 * per-variant targets. The chosen variants get their shares (a variant at its maximum is flagged as
 * constrained); the others go to zero once the chosen variants' replicas are all ready (until then they
 * keep theirs, so the load is served while the new replicas start). A model without a decision (no rate metrics, no targets, no feasible variant) keeps every
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

/** The replicas of every variant that has some now. */
function currentAllocation(states: readonly VariantState[]): ModelDemand["current"] {
  return states.filter((s) => s.current > 0).map((s) => ({ variant: s.name, replicas: s.current }));
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
      ...(s.bounds && { bounds: s.bounds }),
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
  const shares = new Map(chosen.shares.map((sh) => [sh.variant, sh]));
  const waiting = sorted.flatMap((s) => {
    const sh = shares.get(s.name);
    return sh && s.ready < sh.replicas ? [`${s.name} has ${sh.replicas} ready (${s.ready} now)`] : [];
  });
  const serving = chosen.shares.filter((sh) => sh.replicas > 0).map((sh) => sh.variant);
  const serves =
    serving.length === 0
      ? ""
      : `${serving.join(" and ")} ${serving.length === 1 ? "serves" : "serve"} the model; `;
  return result(
    sorted.map((s) => {
      const sh = shares.get(s.name);
      if (sh) return target(s, sh.replicas, m.reason, sh.cappedBy !== undefined);
      if (s.current > 0 && waiting.length > 0)
        return target(s, s.current, `keeping ${s.current} until ${waiting.join(" and ")}; ${m.reason}`, true);
      return target(s, 0, `${serves}${m.reason}`);
    }),
  );
}
