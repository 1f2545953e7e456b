import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { desiredRatio } from "./ratio.js";

/** Names of the metrics WVA publishes (docs/user-guide/controller.md lists them). */
export const METRIC_DESIRED_REPLICAS = "wva_desired_replicas";
export const METRIC_CURRENT_REPLICAS = "wva_current_replicas";
export const METRIC_DESIRED_RATIO = "wva_desired_ratio";
export const METRIC_REPLICA_SCALING_TOTAL = "wva_replica_scaling_total";
/** queueing-model: the learned alpha, beta, gamma of a variant. */
export const METRIC_MODEL_PARAMETER = "wva_model_parameter";
export const METRIC_METRICS_MISSING_CYCLES = "wva_metrics_missing_cycles";
export const METRIC_CYCLE_DURATION = "wva_engine_cycle_duration_seconds";
export const METRIC_CYCLE_FAILURES = "wva_engine_cycle_failures_total";
/** controller-runtime's leader gauge: 1 on the replica that leads, 0 on the others (never reset). */
export const METRIC_LEADER = "leader_election_master_status";
/** Companion of wva_desired_replicas: 1 per variant, labelled with the analyzer that decided it. */
export const METRIC_VARIANT_INFO = "wva_variant_info";

export type ScalingDirection = "up" | "down";

/**
 * The `wva_*` gauges, counters and the engine cycle histogram in their own registry. `controller_instance` is part of every label
 * set only when an instance is configured (fixed at construction). Series of a variant can be removed
 * (deleted VA or target Deployment), and the registry can be emptied of `wva_*` samples when the
 * process stops leading, so that only the leader serves them. The engine cycle metrics appear with the
 * first cycle this process runs as leader. The leader gauge is served by every replica.
 */
export class ActuationMetrics {
  readonly registry = new Registry();
  private readonly desired: Gauge<string>;
  private readonly current: Gauge<string>;
  private readonly ratio: Gauge<string>;
  private readonly scaling: Counter<string>;
  private readonly modelParameter: Gauge<string>;
  /** `ns/name` → label sets of that variant's `wva_model_parameter` series. */
  private readonly parameterLabels = new Map<string, Array<Record<string, string>>>();
  private readonly missing: Gauge<string>;
  private readonly cycleDuration: Histogram<string>;
  private readonly cycleFailures: Counter<string>;
  private readonly leader: Gauge<string>;
  /** Whether the engine cycle metrics are in the registry (only after a cycle since the last reset). */
  private cycleMetricsRegistered = false;
  /** `ns/name` → consecutive cycles without metrics. */
  private readonly missingCycles = new Map<string, number>();
  private readonly info: Gauge<string>;
  /** `ns/name` → label set of the variant's info series. */
  private readonly infoLabels = new Map<string, Record<string, string>>();
  /** `ns/name` → label sets used for the gauges / counter of that variant. */
  private readonly gaugeLabels = new Map<string, Map<string, Record<string, string>>>();
  private readonly counterLabels = new Map<string, Map<string, Record<string, string>>>();

  constructor(
    readonly instance: string = "",
    options: { processMetrics?: boolean } = {},
  ) {
    const extra = instance ? ["controller_instance"] : [];
    const gaugeLabels = ["variant_name", "namespace", "accelerator_type", ...extra];
    this.desired = new Gauge({
      name: METRIC_DESIRED_REPLICAS,
      help: "Replica target computed by WVA for a variant (the value an HPA or KEDA should follow)",
      labelNames: gaugeLabels,
      registers: [this.registry],
    });
    this.current = new Gauge({
      name: METRIC_CURRENT_REPLICAS,
      help: "Replicas of the variant's target Deployment (status.replicas) when the target was computed",
      labelNames: gaugeLabels,
      registers: [this.registry],
    });
    this.ratio = new Gauge({
      name: METRIC_DESIRED_RATIO,
      help: "wva_desired_replicas / wva_current_replicas (the desired value when current is 0)",
      labelNames: gaugeLabels,
      registers: [this.registry],
    });
    this.scaling = new Counter({
      name: METRIC_REPLICA_SCALING_TOTAL,
      help: "Changes of a variant's replica target, by direction and reason",
      labelNames: ["variant_name", "namespace", "direction", "reason", ...extra],
      registers: [this.registry],
    });
    this.modelParameter = new Gauge({
      name: METRIC_MODEL_PARAMETER,
      help: "Learned performance parameter of a variant (queueing-model): alpha ms per iteration, beta and gamma ms per token",
      labelNames: ["variant_name", "namespace", "parameter", ...extra],
      registers: [this.registry],
    });
    this.missing = new Gauge({
      name: METRIC_METRICS_MISSING_CYCLES,
      help: "Consecutive engine cycles in which the variant's model had no usable metrics (0 = metrics available)",
      labelNames: gaugeLabels,
      registers: [this.registry],
    });
    this.cycleDuration = new Histogram({
      name: METRIC_CYCLE_DURATION,
      help: "Duration of the engine cycles that completed (collection, decision, publication)",
      labelNames: extra,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [],
    });
    this.cycleFailures = new Counter({
      name: METRIC_CYCLE_FAILURES,
      help: "Engine cycles that failed as a whole (retried with back-off)",
      labelNames: extra,
      registers: [],
    });
    this.leader = new Gauge({
      name: METRIC_LEADER,
      help: "1 when this manager replica is the leader, 0 otherwise",
      labelNames: ["name"],
      registers: [this.registry],
    });
    this.info = new Gauge({
      name: METRIC_VARIANT_INFO,
      help: "Always 1: the decision engine (analyzer) that computes the variant's wva_desired_replicas",
      labelNames: ["variant_name", "namespace", "analyzer", ...extra],
      registers: [this.registry],
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  private withInstance(labels: Record<string, string>): Record<string, string> {
    return this.instance ? { ...labels, controller_instance: this.instance } : labels;
  }

  /**
   * Publishes current / desired / ratio of one variant, and how many cycles in a row its model has had
   * no usable metrics (`metricsAvailable` false counts one more, true resets to 0).
   */
  emit(
    namespace: string,
    variant: string,
    accelerator: string,
    current: number,
    desired: number,
    metricsAvailable = true,
  ): void {
    const key = `${namespace}/${variant}`;
    const labels = this.withInstance({ variant_name: variant, namespace, accelerator_type: accelerator });
    let sets = this.gaugeLabels.get(key);
    if (!sets) this.gaugeLabels.set(key, (sets = new Map()));
    // a variant whose accelerator changed must not keep a stale series under the old label
    for (const [acc, old] of sets) {
      if (acc !== accelerator) {
        this.desired.remove(old);
        this.current.remove(old);
        this.ratio.remove(old);
        this.missing.remove(old);
        sets.delete(acc);
      }
    }
    sets.set(accelerator, labels);
    this.desired.set(labels, desired);
    this.current.set(labels, current);
    this.ratio.set(labels, desiredRatio(current, desired));
    const missing = metricsAvailable ? 0 : (this.missingCycles.get(key) ?? 0) + 1;
    this.missingCycles.set(key, missing);
    this.missing.set(labels, missing);
  }

  private cycleLabels(): Record<string, string> {
    if (!this.cycleMetricsRegistered) {
      this.registry.registerMetric(this.cycleDuration);
      this.registry.registerMetric(this.cycleFailures);
      this.cycleMetricsRegistered = true;
    }
    const labels = this.withInstance({});
    this.cycleFailures.inc(labels, 0);
    return labels;
  }

  /** Records one completed engine cycle. */
  observeCycle(seconds: number): void {
    this.cycleDuration.observe(this.cycleLabels(), seconds);
  }

  /** Counts one failed engine cycle. */
  countCycleFailure(): void {
    this.cycleFailures.inc(this.cycleLabels());
  }

  /** Sets the leader gauge of the Lease `lease`. */
  setLeader(lease: string, leading: boolean): void {
    this.leader.set({ name: lease }, leading ? 1 : 0);
  }

  /** Publishes the learned alpha, beta, gamma of one variant. */
  emitModelParameters(
    namespace: string,
    variant: string,
    p: { alpha: number; beta: number; gamma: number },
  ): void {
    const sets = (["alpha", "beta", "gamma"] as const).map((parameter) => {
      const labels = this.withInstance({ variant_name: variant, namespace, parameter });
      this.modelParameter.set(labels, p[parameter]);
      return labels;
    });
    this.parameterLabels.set(`${namespace}/${variant}`, sets);
  }

  /** Variants (`ns/name`) with `wva_model_parameter` series. */
  modelParameterVariants(): string[] {
    return [...this.parameterLabels.keys()];
  }

  /** Removes the `wva_model_parameter` series of one variant (`ns/name`). */
  removeModelParameters(key: string): void {
    for (const labels of this.parameterLabels.get(key) ?? []) this.modelParameter.remove(labels);
    this.parameterLabels.delete(key);
  }

  /** Records which analyzer decides a variant (one series per variant; a switch replaces it). */
  setAnalyzer(namespace: string, variant: string, analyzer: string): void {
    const key = `${namespace}/${variant}`;
    const labels = this.withInstance({ variant_name: variant, namespace, analyzer });
    const old = this.infoLabels.get(key);
    if (old !== undefined && old.analyzer !== analyzer) this.info.remove(old);
    this.infoLabels.set(key, labels);
    this.info.set(labels, 1);
  }

  /** Counts one real change of a variant's target. */
  countScaling(namespace: string, variant: string, direction: ScalingDirection, reason: string): void {
    const key = `${namespace}/${variant}`;
    const labels = this.withInstance({ variant_name: variant, namespace, direction, reason });
    let sets = this.counterLabels.get(key);
    if (!sets) this.counterLabels.set(key, (sets = new Map()));
    sets.set(`${direction}/${reason}`, labels);
    this.scaling.inc(labels);
  }

  /** Last published desired value of a variant, if any. */
  async lastDesired(namespace: string, variant: string): Promise<number | undefined> {
    const sets = this.gaugeLabels.get(`${namespace}/${variant}`);
    if (!sets || sets.size === 0) return undefined;
    const labels = [...sets.values()][0];
    const got = await this.desired.get();
    const match = got.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
    return match?.value;
  }

  hasSeries(namespace: string, variant: string): boolean {
    return (this.gaugeLabels.get(`${namespace}/${variant}`)?.size ?? 0) > 0;
  }

  /** Removes every `wva_*` series of one variant. */
  removeVariant(namespace: string, variant: string): void {
    const key = `${namespace}/${variant}`;
    for (const labels of this.gaugeLabels.get(key)?.values() ?? []) {
      this.desired.remove(labels);
      this.current.remove(labels);
      this.ratio.remove(labels);
      this.missing.remove(labels);
    }
    for (const labels of this.counterLabels.get(key)?.values() ?? []) this.scaling.remove(labels);
    const info = this.infoLabels.get(key);
    if (info !== undefined) this.info.remove(info);
    this.infoLabels.delete(key);
    this.gaugeLabels.delete(key);
    this.counterLabels.delete(key);
    this.removeModelParameters(key);
    this.missingCycles.delete(key);
  }

  /** Variants (`ns/name`) that currently have series. */
  variants(): string[] {
    return [...this.gaugeLabels.keys()];
  }

  /** Drops every `wva_*` series (used when the process stops leading); the leader gauge stays. */
  reset(): void {
    this.desired.reset();
    this.current.reset();
    this.ratio.reset();
    this.scaling.reset();
    this.modelParameter.reset();
    this.parameterLabels.clear();
    this.missing.reset();
    this.cycleDuration.reset();
    this.cycleFailures.reset();
    this.registry.removeSingleMetric(METRIC_CYCLE_DURATION);
    this.registry.removeSingleMetric(METRIC_CYCLE_FAILURES);
    this.cycleMetricsRegistered = false;
    this.info.reset();
    this.infoLabels.clear();
    this.gaugeLabels.clear();
    this.counterLabels.clear();
    this.missingCycles.clear();
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
