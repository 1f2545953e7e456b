import { compareNames, DEFAULT_VARIANT_COST, type ScaleToZeroInput } from "../types/decision.js";

/** How often the scale-from-zero loop looks for queued requests of models at zero replicas, ms. */
export const SCALE_FROM_ZERO_INTERVAL_MS = 100;

/**
 * The scale-to-zero input of a model woken from zero less than one retention period ago: its request
 * count counts as unknown, so the enforcer keeps the targets. A freshly started pod has served nothing
 * yet (or its counter has a single sample), and scaling it straight back to zero would drop the queued
 * requests it was woken for.
 */
export function afterWake(stz: ScaleToZeroInput, wokenAt: number | undefined, now: number): ScaleToZeroInput {
  if (!stz.enabled || wokenAt === undefined || stz.retentionMs === undefined) return stz;
  const age = now - wokenAt;
  if (age < 0 || age >= stz.retentionMs) return stz;
  return { ...stz, requestCount: null, error: `woken from zero ${Math.round(age / 1000)}s ago` };
}

/** One variant of a model at zero replicas that could be woken. */
export interface WakeCandidate {
  variant: string;
  accelerator: string;
  cost?: number;
  gpusPerReplica?: number;
}

export interface WakeChoice {
  variant: string;
  reason: string;
}

/** GPUs free per accelerator: the nodes' GPUs (`limits`) minus those in use, never below 0. */
export function freeGpus(
  limits: Readonly<Record<string, number>>,
  used: Readonly<Record<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [type, n] of Object.entries(limits)) if (n > 0) out[type] = Math.max(0, n - (used[type] ?? 0));
  return out;
}

/**
 * Which variant of a model at zero wakes for its first queued request: the cheapest whose accelerator has
 * GPUs free for one replica (`free`, per accelerator; ties: smallest name). Without an inventory (no GPU
 * nodes known) the cheapest wakes; when no accelerator has room the cheapest wakes too, since its pod
 * waits for a GPU instead of the request failing. Returns undefined only for an empty list.
 */
export function chooseWakeVariant(
  candidates: readonly WakeCandidate[],
  free?: Readonly<Record<string, number>>,
): WakeChoice | undefined {
  const sorted = [...candidates].sort(
    (a, b) =>
      (a.cost ?? DEFAULT_VARIANT_COST) - (b.cost ?? DEFAULT_VARIANT_COST) ||
      compareNames(a.variant, b.variant),
  );
  if (sorted.length === 0) return undefined;
  if (free === undefined || Object.keys(free).length === 0)
    return { variant: sorted[0].variant, reason: "cheapest variant (no GPU inventory known)" };
  const fits = sorted.find((c) => (free[c.accelerator] ?? 0) >= Math.max(1, c.gpusPerReplica ?? 1));
  if (fits !== undefined)
    return {
      variant: fits.variant,
      reason:
        fits === sorted[0]
          ? `cheapest variant with free ${fits.accelerator} GPUs`
          : `cheapest variant with free GPUs (${fits.accelerator}); cheaper variants have no free GPUs`,
    };
  return { variant: sorted[0].variant, reason: "no accelerator has free GPUs; cheapest variant" };
}
