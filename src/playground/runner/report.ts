import type { Slo } from "./scenario.js";

/**
 * The trial report (JSON): per engine cycle and variant the replica counts, mean KV use, queue
 * length and the decision with its reason; per model request totals and latency percentiles.
 */

export type Action = "scale-up" | "scale-down" | "no-change";

export interface VariantCycle {
  model: string;
  namespace: string;
  variant: string;
  current: number;
  ready: number;
  desired: number;
  /** Mean KV-cache use over the variant's pods with metrics, 0..1, as the engine saw it this cycle. */
  kvUsage: number;
  /** Waiting requests summed over the variant's pods with metrics, as the engine saw them. */
  queue: number;
  action: Action;
  reason: string;
}

/** Requests of one model since the previous engine cycle, as the load generator saw them. */
export interface ModelCycle {
  model: string;
  namespace: string;
  /** Requests sent per second since the previous cycle. */
  rate: number;
  completed: number;
  failed: number;
  /** Percentiles over the requests that completed since the previous cycle (absent when none did). */
  ttftMs?: Percentiles;
  itlMs?: Percentiles;
}

export interface Cycle {
  /** Seconds since the trial started. */
  t: number;
  variants: VariantCycle[];
  /** Request rate and latency per model over the cycle (absent in reports of older versions). */
  models?: ModelCycle[];
}

/** What the views draw besides the cycles: thresholds, costs and latency objectives. */
export interface TrialSetup {
  saturation: { kvCacheThreshold: number; queueLengthThreshold: number };
  variants: Array<{ model: string; namespace: string; variant: string; accelerator: string; cost: number }>;
  /** Latency objectives of the models (the scenario's `slo`, or its default). */
  slo: Array<{ model: string; namespace: string } & Slo>;
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

export interface ModelReport {
  modelID: string;
  namespace: string;
  requests: { sent: number; completed: number; failed: number };
  ttftMs: Percentiles;
  itlMs: Percentiles;
  /**
   * Requests that waited in the endpoint picker's queue because no pod of the model was ready (a cold
   * start, e.g. woken from zero), and their time to first token measured at the endpoint picker. They
   * count in `requests` and `ttftMs` too.
   */
  coldStart?: { requests: number; completed: number; ttftMs: Percentiles };
  /** Failure reasons and their counts, when some requests failed. */
  errors?: Record<string, number>;
}

export interface Report {
  scenario: string;
  actuation: "hpa" | "direct";
  /** Engine interval in seconds. */
  engineInterval: number;
  /** Trial length in seconds. */
  duration: number;
  startedAt: string;
  /** Absent in reports of older versions. */
  setup?: TrialSetup;
  cycles: Cycle[];
  models: ModelReport[];
}

/** The part of the report known when the trial starts. */
export type ReportHeader = Omit<Report, "duration" | "cycles" | "models">;

/** Collects cycles as they happen and produces the report at the end. */
export class ReportBuilder {
  private readonly cycles: Cycle[] = [];
  constructor(
    private readonly meta: {
      scenario: string;
      actuation: "hpa" | "direct";
      engineIntervalMs: number;
      startedAt: Date;
      setup?: TrialSetup;
    },
  ) {}

  header(): ReportHeader {
    return {
      scenario: this.meta.scenario,
      actuation: this.meta.actuation,
      engineInterval: this.meta.engineIntervalMs / 1000,
      startedAt: this.meta.startedAt.toISOString(),
      ...(this.meta.setup ? { setup: this.meta.setup } : {}),
    };
  }

  /** Adds one engine cycle; `tMs` is the time since the start. Variants are sorted by model, variant. */
  addCycle(tMs: number, variants: VariantCycle[], models?: ModelCycle[]): Cycle {
    const sorted = [...variants].sort(
      (a, b) =>
        a.namespace.localeCompare(b.namespace) ||
        a.model.localeCompare(b.model) ||
        a.variant.localeCompare(b.variant),
    );
    const cycle: Cycle = {
      t: Math.round(tMs) / 1000,
      variants: sorted.map((v) => ({ ...v, kvUsage: Math.round(v.kvUsage * 10000) / 10000 })),
      ...(models ? { models } : {}),
    };
    this.cycles.push(cycle);
    return cycle;
  }

  get cycleCount(): number {
    return this.cycles.length;
  }

  build(models: ModelReport[], durationMs: number): Report {
    return {
      ...this.header(),
      duration: Math.round(durationMs) / 1000,
      cycles: this.cycles,
      models: [...models].sort(
        (a, b) => a.namespace.localeCompare(b.namespace) || a.modelID.localeCompare(b.modelID),
      ),
    };
  }
}

/** The action implied by a desired count compared with the current one. */
export function actionOf(current: number, desired: number): Action {
  return desired > current ? "scale-up" : desired < current ? "scale-down" : "no-change";
}

/**
 * The first cycle time (s) at which each variant's desired count rose above its initial value, or
 * undefined if it never did. Useful to check which variant the engine scaled up first.
 */
export function firstScaleUp(report: Report): Map<string, number | undefined> {
  const initial = new Map<string, number>();
  const first = new Map<string, number | undefined>();
  for (const c of report.cycles) {
    for (const v of c.variants) {
      const key = `${v.namespace}/${v.variant}`;
      if (!initial.has(key)) {
        initial.set(key, v.current);
        first.set(key, undefined);
      }
      if (first.get(key) === undefined && v.desired > initial.get(key)!) first.set(key, c.t);
    }
  }
  return first;
}
