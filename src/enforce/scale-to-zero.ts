import type { ScaleToZeroInput } from "../types/decision.js";
import { compareNames, DEFAULT_VARIANT_COST } from "../types/decision.js";
import { formatPrometheusDuration } from "../util/prometheus-duration.js";

/** One variant's target entering the enforcer. */
export interface EnforcerTarget {
  variant: string;
  target: number;
  /** Cost of the variant (10 when unknown). */
  cost?: number;
}

export interface EnforcerResult {
  /** Targets after the enforcer, in the input order. */
  targets: EnforcerTarget[];
  /** True when the enforcer changed at least one target. */
  applied: boolean;
  /** "scale-to-zero", "minimum-replica" or "" when nothing was applied. */
  policy: "scale-to-zero" | "minimum-replica" | "";
  /** Why (also when nothing was applied). */
  reason: string;
}

/**
 * Scale-to-zero / minimum-replica enforcer (docs/design/scale-to-zero.md), per model after the target
 * calculation.
 *
 * Enabled: zero successful requests in the retention window ⇒ every target 0; an unknown request count
 * (query failed / no values) or a positive one keeps the targets (never scale to zero on uncertainty).
 * Disabled: a model whose targets sum to 0 gets 1 replica on its cheapest variant (ties: smallest name).
 */
export function enforceScaleToZero(
  targets: readonly EnforcerTarget[],
  stz: ScaleToZeroInput,
): EnforcerResult {
  const copy = targets.map((t) => ({ ...t }));
  if (stz.enabled) {
    const window =
      stz.retentionMs !== undefined ? ` in the last ${formatPrometheusDuration(stz.retentionMs)}` : "";
    if (stz.requestCount === null || !Number.isFinite(stz.requestCount)) {
      return {
        targets: copy,
        applied: false,
        policy: "",
        reason: `scale-to-zero enabled but the request count is unknown${stz.error ? ` (${stz.error})` : ""}; keeping targets`,
      };
    }
    if (stz.requestCount > 0) {
      return {
        targets: copy,
        applied: false,
        policy: "",
        reason: `scale-to-zero enabled; ${stz.requestCount} requests${window}; keeping targets`,
      };
    }
    let changed = false;
    for (const t of copy) {
      if (t.target !== 0) changed = true;
      t.target = 0;
    }
    return {
      targets: copy,
      applied: changed,
      policy: "scale-to-zero",
      reason: `No requests in retention period${window}, scaling to zero`,
    };
  }
  const sum = copy.reduce((acc, t) => acc + t.target, 0);
  if (sum > 0 || copy.length === 0) {
    return { targets: copy, applied: false, policy: "", reason: "model keeps at least one replica" };
  }
  let cheapest: EnforcerTarget | undefined;
  for (const t of copy) {
    const c = t.cost ?? DEFAULT_VARIANT_COST;
    if (
      cheapest === undefined ||
      c < (cheapest.cost ?? DEFAULT_VARIANT_COST) ||
      (c === (cheapest.cost ?? DEFAULT_VARIANT_COST) && compareNames(t.variant, cheapest.variant) < 0)
    ) {
      cheapest = t;
    }
  }
  cheapest!.target = 1;
  return {
    targets: copy,
    applied: true,
    policy: "minimum-replica",
    reason: `scale-to-zero disabled; minimum one replica per model on the cheapest variant ${cheapest!.variant}`,
  };
}
