import type { ClusterApi } from "../api.js";
import {
  decide,
  externalAverageValueReplicas,
  externalValueReplicas,
  newMemory,
  recordScale,
  withDefaults,
  DEFAULT_TOLERANCE,
  type Decision,
  type HpaMemory,
} from "../hpa.js";
import type { ExternalMetricsProvider } from "../metrics.js";
import { recordEvent } from "./events.js";
import type { ResourceType } from "../resources.js";
import { clone, getPath, isObject, timestamp, type KObject } from "../util.js";

export interface HpaControllerOptions {
  /** Sync period (ms, default 15000 like kube-controller-manager). */
  syncPeriodMs: number;
  provider?: ExternalMetricsProvider;
  tolerance?: number;
  now?: () => number;
}

/** Quantity strings such as "1", "500m", "2k" to numbers. */
export function parseQuantity(q: unknown): number {
  if (typeof q === "number") return q;
  const m = String(q).match(/^([+-]?\d+(?:\.\d+)?)(m|k|M|G|Ki|Mi|Gi)?$/);
  if (!m) return NaN;
  const mult: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
  };
  return Number(m[1]) * (m[2] ? mult[m[2]] : 1);
}

function formatQuantity(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return `${Math.round(v * 1000)}m`;
}

/**
 * The HorizontalPodAutoscaler controller for `autoscaling/v2` External metrics (Value and
 * AverageValue targets): reads metrics from the provider, decides with the upstream algorithm
 * (tolerance, stabilization, policies, min/max), writes the target's scale and the HPA status.
 */
export class HpaController {
  private timer?: NodeJS.Timeout;
  private readonly memory = new Map<string, HpaMemory>();
  private readonly ht: ResourceType;
  private running = false;
  private stopped = false;

  constructor(
    private readonly api: ClusterApi,
    private o: HpaControllerOptions,
    private readonly onError: (what: string, err: unknown) => void,
  ) {
    this.ht = api.typeFor("autoscaling/v2", "HorizontalPodAutoscaler");
    this.timer = setInterval(() => void this.syncAll(), o.syncPeriodMs);
  }

  /** The external metrics source in use, if any. */
  provider(): ExternalMetricsProvider | undefined {
    return this.o.provider;
  }

  setProvider(provider: ExternalMetricsProvider | undefined): void {
    this.o = { ...this.o, provider };
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  /** Runs one sync of every HPA now (tests call it instead of waiting for the period). */
  async syncAll(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      for (const h of this.api.peekList(this.ht)) {
        try {
          await this.sync(h);
        } catch (err) {
          this.onError(`hpa ${h.metadata?.namespace}/${h.metadata?.name}`, err);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Reads every External metric first, so the decision and the scale write happen without a gap. */
  private async readMetrics(
    h: KObject,
  ): Promise<{ totals: Array<{ ext: Record<string, unknown>; total: number }>; error?: string }> {
    const ns = h.metadata!.namespace!;
    const totals: Array<{ ext: Record<string, unknown>; total: number }> = [];
    for (const m of (h.spec?.metrics as Array<Record<string, unknown>>) ?? []) {
      if (m.type !== "External" || !isObject(m.external))
        return {
          totals,
          error: `metric type ${String(m.type)} is not supported by the emulator (External only)`,
        };
      const ext = m.external as Record<string, unknown>;
      const name = String(getPath(ext, "metric.name") ?? "");
      const selector =
        (getPath(ext, "metric.selector.matchLabels") as Record<string, string> | undefined) ?? {};
      if (!this.o.provider) return { totals, error: "no external metrics provider is configured" };
      try {
        const values = await this.o.provider.getExternalMetric(ns, name, selector);
        totals.push({ ext, total: values.reduce((a, v) => a + v, 0) });
      } catch (err) {
        return {
          totals,
          error: `unable to get external metric ${ns}/${name}: ${err instanceof Error ? err.message : String(err)}`,
        };
      }
    }
    return { totals };
  }

  private proposal(
    read: { totals: Array<{ ext: Record<string, unknown>; total: number }>; error?: string },
    current: number,
    readyPods: number,
  ): { replicas?: number; metrics: unknown[]; error?: string } {
    const tolerance = this.o.tolerance ?? DEFAULT_TOLERANCE;
    let best: number | undefined;
    const metrics: unknown[] = [];
    if (read.error) return { metrics, error: read.error };
    for (const { ext, total } of read.totals) {
      const target = (isObject(ext.target) ? ext.target : {}) as Record<string, unknown>;
      let replicas: number;
      if (target.type === "AverageValue") {
        const avg = parseQuantity(target.averageValue);
        replicas = externalAverageValueReplicas(current, total, avg, tolerance);
        metrics.push({
          type: "External",
          external: {
            metric: ext.metric,
            current: { averageValue: formatQuantity(current > 0 ? total / current : total) },
          },
        });
      } else if (target.type === "Value") {
        replicas = externalValueReplicas(current, readyPods, total, parseQuantity(target.value), tolerance);
        metrics.push({
          type: "External",
          external: { metric: ext.metric, current: { value: formatQuantity(total) } },
        });
      } else
        return { metrics, error: `target type ${String(target.type)} is not supported for External metrics` };
      best = best === undefined ? replicas : Math.max(best, replicas);
    }
    return { replicas: best, metrics };
  }

  private async sync(h: KObject): Promise<void> {
    const ns = h.metadata!.namespace!;
    const name = h.metadata!.name!;
    const ref = (h.spec?.scaleTargetRef ?? {}) as Record<string, string>;
    const key = `${ns}/${name}/${h.metadata!.uid}`;
    const read = await this.readMetrics(h);
    if (!this.api.peek(this.ht, ns, name)) return;
    const mem = this.memory.get(key) ?? newMemory();
    this.memory.set(key, mem);
    const conditions: Array<Record<string, unknown>> = [];
    let target: ResourceType;
    try {
      target = this.api.typeFor(ref.apiVersion ?? "apps/v1", ref.kind ?? "Deployment");
    } catch {
      return this.writeStatus(h, { currentReplicas: 0, desiredReplicas: 0 }, [
        cond(
          "AbleToScale",
          "False",
          "FailedGetScale",
          `the HPA controller was unable to get the target's current scale: no kind ${ref.kind}`,
        ),
      ]);
    }
    let scale: KObject;
    try {
      scale = this.api.getScale(target, ns, ref.name);
    } catch (err) {
      return this.writeStatus(h, { currentReplicas: 0, desiredReplicas: 0 }, [
        cond(
          "AbleToScale",
          "False",
          "FailedGetScale",
          `the HPA controller was unable to get the target's current scale: ${err instanceof Error ? err.message : String(err)}`,
        ),
      ]);
    }
    const specReplicas = Number(scale.spec?.replicas ?? 0);
    const current = specReplicas;
    const targetObj = this.api.peek(target, ns, ref.name);
    const readyPods = Number(
      (targetObj?.status as Record<string, unknown> | undefined)?.readyReplicas ?? current,
    );
    const min = Number(h.spec?.minReplicas ?? 1);
    const max = Number(h.spec?.maxReplicas ?? 1);
    const behavior = withDefaults(h.spec?.behavior as never);
    const p = this.proposal(read, current, readyPods);
    const now = (this.o.now ?? Date.now)();
    const d: Decision = decide({
      specReplicas,
      currentReplicas: current,
      minReplicas: min,
      maxReplicas: max,
      metricProposal: p.error ? undefined : p.replicas,
      behavior,
      mem,
      now,
    });
    conditions.push(
      cond(
        "AbleToScale",
        "True",
        d.desiredReplicas !== current ? "SucceededRescale" : "ReadyForNewScale",
        "the HPA controller was able to update the target scale",
      ),
    );
    if (d.inactive === "ScalingDisabled")
      conditions.push(
        cond(
          "ScalingActive",
          "False",
          "ScalingDisabled",
          "scaling is disabled since the replica count of the target is zero",
        ),
      );
    else if (p.error) conditions.push(cond("ScalingActive", "False", "FailedGetExternalMetric", p.error));
    else
      conditions.push(
        cond(
          "ScalingActive",
          "True",
          "ValidMetricFound",
          "the HPA was able to successfully calculate a replica count from external metrics",
        ),
      );
    if (d.limitReason && d.limitReason !== "DesiredWithinRange")
      conditions.push(
        cond(
          "ScalingLimited",
          "True",
          d.limitReason,
          `the desired replica count was limited (${d.limitReason})`,
        ),
      );
    else
      conditions.push(
        cond(
          "ScalingLimited",
          "False",
          "DesiredWithinRange",
          "the desired count is within the acceptable range",
        ),
      );
    let lastScaleTime = h.status?.lastScaleTime as string | undefined;
    if (!d.inactive && d.desiredReplicas !== current) {
      this.api.updateScale(target, ns, ref.name, { ...scale, spec: { replicas: d.desiredReplicas } });
      recordScale(mem, behavior, current, d.desiredReplicas, now);
      lastScaleTime = timestamp(now);
      recordEvent(
        this.api,
        h,
        "Normal",
        "SuccessfulRescale",
        `New size: ${d.desiredReplicas}; reason: ${d.desiredReplicas > current ? "external metric above target" : "All metrics below target"}`,
        "horizontal-pod-autoscaler",
      );
    }
    this.writeStatus(
      h,
      {
        currentReplicas: current,
        desiredReplicas: d.desiredReplicas,
        currentMetrics: p.metrics,
        ...(lastScaleTime ? { lastScaleTime } : {}),
      },
      conditions,
    );
  }

  private writeStatus(
    h: KObject,
    status: Record<string, unknown>,
    conditions: Array<Record<string, unknown>>,
  ): void {
    const fresh = this.api.peek(this.ht, h.metadata!.namespace, h.metadata!.name!);
    if (!fresh) return;
    const old = (fresh.status?.conditions as Array<Record<string, unknown>>) ?? [];
    const merged = conditions.map((c) => {
      const prev = old.find((o) => o.type === c.type);
      return prev && prev.status === c.status ? { ...c, lastTransitionTime: prev.lastTransitionTime } : c;
    });
    const next = { observedGeneration: fresh.metadata?.generation, ...status, conditions: merged };
    const c = clone(fresh);
    c.status = next;
    this.api.update(this.ht, c, c.metadata!.namespace, { name: c.metadata!.name, subresource: "status" });
  }
}

function cond(type: string, status: string, reason: string, message: string): Record<string, unknown> {
  return { type, status, reason, message, lastTransitionTime: timestamp() };
}
