import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";

/** Names of the metrics WVA publishes (DECISIONS section 4, wva-core 6.1). */
export const METRIC_DESIRED_REPLICAS = "wva_desired_replicas";
export const METRIC_CURRENT_REPLICAS = "wva_current_replicas";
export const METRIC_DESIRED_RATIO = "wva_desired_ratio";
export const METRIC_REPLICA_SCALING_TOTAL = "wva_replica_scaling_total";
/** Companion of wva_desired_replicas: 1 per variant, labelled with the analyzer that decided it. */
export const METRIC_VARIANT_INFO = "wva_variant_info";

export type ScalingDirection = "up" | "down";

/** `desired / current`; when current is 0 the ratio is `desired` (6.1). */
export function desiredRatio(current: number, desired: number): number {
  return current === 0 ? desired : desired / current;
}

/**
 * The `wva_*` gauges and counter in their own registry. `controller_instance` is part of every label
 * set only when an instance is configured (fixed at construction). Series of a variant can be removed
 * (deleted VA or target Deployment), and the registry can be emptied of `wva_*` samples when the
 * process stops leading, so that only the leader serves them.
 */
export class ActuationMetrics {
  readonly registry = new Registry();
  private readonly desired: Gauge<string>;
  private readonly current: Gauge<string>;
  private readonly ratio: Gauge<string>;
  private readonly scaling: Counter<string>;
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

  /** Publishes current / desired / ratio of one variant. */
  emit(namespace: string, variant: string, accelerator: string, current: number, desired: number): void {
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
        sets.delete(acc);
      }
    }
    sets.set(accelerator, labels);
    this.desired.set(labels, desired);
    this.current.set(labels, current);
    this.ratio.set(labels, desiredRatio(current, desired));
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
    }
    for (const labels of this.counterLabels.get(key)?.values() ?? []) this.scaling.remove(labels);
    const info = this.infoLabels.get(key);
    if (info !== undefined) this.info.remove(info);
    this.infoLabels.delete(key);
    this.gaugeLabels.delete(key);
    this.counterLabels.delete(key);
  }

  /** Variants (`ns/name`) that currently have series. */
  variants(): string[] {
    return [...this.gaugeLabels.keys()];
  }

  /** Drops every `wva_*` series (used when the process stops leading). */
  reset(): void {
    this.desired.reset();
    this.current.reset();
    this.ratio.reset();
    this.scaling.reset();
    this.info.reset();
    this.infoLabels.clear();
    this.gaugeLabels.clear();
    this.counterLabels.clear();
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
