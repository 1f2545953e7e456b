import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  decide,
  defaultBehavior,
  externalAverageValueReplicas,
  externalValueReplicas,
  newMemory,
  rateLimit,
  recordScale,
  withDefaults,
  type Behavior,
} from "../../src/playground/cluster/hpa.js";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Gauge, Registry } from "prom-client";
import {
  ScrapeMetricsProvider,
  StaticMetricsProvider,
  startCluster,
} from "../../src/playground/cluster/index.js";
import { deployment, waitFor } from "./cluster-fixtures.js";

const s = (sec: number) => sec * 1000;

/** One HPA decision with `replicas` running and minReplicas 1. */
function step(
  behavior: Behavior,
  mem: ReturnType<typeof newMemory>,
  o: { replicas: number; max: number; proposal: number; now: number },
) {
  return decide({
    specReplicas: o.replicas,
    currentReplicas: o.replicas,
    minReplicas: 1,
    maxReplicas: o.max,
    metricProposal: o.proposal,
    behavior,
    mem,
    now: o.now,
  });
}

describe("HPA algorithm (autoscaling/v2) with worked numbers", () => {
  it("External AverageValue: a usage ratio within the 10% tolerance keeps the replicas", () => {
    // 4 replicas, target 1 per replica: total 4.3 → ratio 1.075 (inside ±0.1) → stay at 4
    assert.equal(externalAverageValueReplicas(4, 4.3, 1), 4);
    // total 3.7 → ratio 0.925 → stay
    assert.equal(externalAverageValueReplicas(4, 3.7, 1), 4);
    // total 4.5 → ratio 1.125 → ceil(4.5 / 1) = 5
    assert.equal(externalAverageValueReplicas(4, 4.5, 1), 5);
    // total 3.5 → ratio 0.875 → ceil(3.5) = 4 (ceil keeps it)
    assert.equal(externalAverageValueReplicas(4, 3.5, 1), 4);
    // total 3 → 3; total 0 → 0 (min/max are applied later)
    assert.equal(externalAverageValueReplicas(4, 3, 1), 3);
    assert.equal(externalAverageValueReplicas(4, 0, 1), 0);
    // target 2 per replica, total 13 over 5 replicas: ratio 1.3 → ceil(13 / 2) = 7
    assert.equal(externalAverageValueReplicas(5, 13, 2), 7);
    // a custom tolerance of 0.5 absorbs it
    assert.equal(externalAverageValueReplicas(5, 13, 2, 0.5), 5);
  });

  it("External Value: ratio × ready pods, rounded up", () => {
    // value 150 vs target 100 → ratio 1.5 × 3 ready = 4.5 → 5
    assert.equal(externalValueReplicas(3, 3, 150, 100), 5);
    // value 105 → ratio 1.05 inside tolerance → 3
    assert.equal(externalValueReplicas(3, 3, 105, 100), 3);
    // from zero replicas: ceil(ratio)
    assert.equal(externalValueReplicas(0, 0, 250, 100), 3);
  });

  it("default scale-up policies: max(+4 pods, +100%) per 15 s, then TooManyReplicas at max", () => {
    const b = defaultBehavior;
    const mem = newMemory();
    // current 2, metric asks 20: Pods → 6, Percent → 4; selectPolicy Max → 6
    let d = step(b, mem, { replicas: 2, max: 10, proposal: 20, now: s(0) });
    assert.equal(d.desiredReplicas, 6);
    assert.equal(d.limitReason, "ScaleUpLimit");
    recordScale(mem, b, 2, 6, s(0));
    // 5 s later the period started at 2 → limit still 6: no further step
    d = step(b, mem, { replicas: 6, max: 10, proposal: 20, now: s(5) });
    assert.equal(d.desiredReplicas, 6);
    // 16 s later the event left the period: Pods → 10, Percent → 12; max 10 wins
    d = step(b, mem, { replicas: 6, max: 10, proposal: 20, now: s(16) });
    assert.equal(d.desiredReplicas, 10);
    assert.equal(d.limitReason, "TooManyReplicas");
  });

  it("selectPolicy Min picks the smaller step; Disabled blocks the direction", () => {
    const min: Behavior = withDefaults({ scaleUp: { selectPolicy: "Min" } });
    // current 10: Pods +4 → 14, Percent +100% → 20; Min → 14
    assert.deepEqual(rateLimit(newMemory(), min, 10, 30, 1, 100, s(0)), {
      replicas: 14,
      reason: "ScaleUpLimit",
    });
    const disabled: Behavior = withDefaults({
      scaleDown: { selectPolicy: "Disabled", stabilizationWindowSeconds: 0 },
    });
    assert.equal(rateLimit(newMemory(), disabled, 10, 2, 1, 100, s(0)).replicas, 10);
  });

  it("scale-down stabilization (default 300 s) holds the highest recent recommendation", () => {
    const b = defaultBehavior;
    const mem = newMemory();
    const at = (now: number, proposal: number, current = 10) =>
      decide({
        specReplicas: current,
        currentReplicas: current,
        minReplicas: 1,
        maxReplicas: 20,
        metricProposal: proposal,
        behavior: b,
        mem,
        now,
      }).desiredReplicas;
    // the window starts with the current count (10): a proposal of 2 is held at 10
    assert.equal(at(s(0), 2), 10);
    assert.equal(at(s(100), 2), 10);
    // at 301 s the 10 from t=0 is out of the window; the highest left is 2
    assert.equal(at(s(301), 2), 2);
  });

  it("scale-down Pods policy: at most one pod per 60 s", () => {
    const b = withDefaults({
      scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods", value: 1, periodSeconds: 60 }] },
    });
    const mem = newMemory();
    let d = step(b, mem, { replicas: 5, max: 10, proposal: 1, now: s(0) });
    assert.equal(d.desiredReplicas, 4);
    assert.equal(d.limitReason, "ScaleDownLimit");
    recordScale(mem, b, 5, 4, s(0));
    // 30 s later the period started at 5: limit 4 → no change
    d = step(b, mem, { replicas: 4, max: 10, proposal: 1, now: s(30) });
    assert.equal(d.desiredReplicas, 4);
    d = step(b, mem, { replicas: 4, max: 10, proposal: 1, now: s(61) });
    assert.equal(d.desiredReplicas, 3);
  });

  it("scale-up stabilization takes the lowest recommendation in its window", () => {
    const b = withDefaults({
      scaleUp: { stabilizationWindowSeconds: 60 },
      scaleDown: { stabilizationWindowSeconds: 0 },
    });
    const mem = newMemory();
    const at = (now: number, proposal: number, current: number) =>
      decide({
        specReplicas: current,
        currentReplicas: current,
        minReplicas: 1,
        maxReplicas: 20,
        metricProposal: proposal,
        behavior: b,
        mem,
        now,
      }).desiredReplicas;
    assert.equal(at(s(0), 3, 3), 3);
    // a spike to 8 is held at the lowest recommendation of the last 60 s (3)
    assert.equal(at(s(10), 8, 3), 3);
    // at 71 s both earlier recommendations left the 60 s window
    assert.equal(at(s(71), 8, 3), 7, "then the default scale-up policies allow +4 pods: 3 → 7");
  });

  it("min/max and a target scaled to zero by hand", () => {
    const mem = newMemory();
    const base = { behavior: defaultBehavior, mem, now: s(0), metricProposal: 5 };
    assert.equal(
      decide({ ...base, specReplicas: 1, currentReplicas: 1, minReplicas: 2, maxReplicas: 10 })
        .desiredReplicas,
      2,
    );
    assert.equal(
      decide({ ...base, specReplicas: 12, currentReplicas: 12, minReplicas: 2, maxReplicas: 10 })
        .desiredReplicas,
      10,
    );
    const off = decide({ ...base, specReplicas: 0, currentReplicas: 0, minReplicas: 1, maxReplicas: 10 });
    assert.deepEqual(off, { desiredReplicas: 0, inactive: "ScalingDisabled" });
    // a missing metric changes nothing
    const none = decide({
      ...base,
      metricProposal: undefined,
      specReplicas: 4,
      currentReplicas: 4,
      minReplicas: 1,
      maxReplicas: 10,
    });
    assert.equal(none.desiredReplicas, 4);
    assert.equal(none.inactive, "FailedGetExternalMetric");
  });
});

describe("HPA controller in the emulator", () => {
  it("follows an external metric with an AverageValue target and reports status", async () => {
    const provider = new StaticMetricsProvider();
    const cluster = await startCluster({ podStartupDelayMs: 10, hpa: { syncPeriodMs: 3_600_000, provider } });
    try {
      const api = cluster.store;
      api.create(api.typeFor("apps/v1", "Deployment"), deployment("llama", 1));
      api.create(api.typeFor("autoscaling/v2", "HorizontalPodAutoscaler"), {
        metadata: { name: "llama", namespace: "default" },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "llama" },
          minReplicas: 1,
          maxReplicas: 4,
          behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
          metrics: [
            {
              type: "External",
              external: {
                metric: {
                  name: "wva_desired_replicas",
                  selector: { matchLabels: { variant_name: "llama", exported_namespace: "default" } },
                },
                target: { type: "AverageValue", averageValue: "1" },
              },
            },
          ],
        },
      });
      // without the metric: no scaling, ScalingActive False
      await cluster.hpa.syncAll();
      const hpaType = api.typeFor("autoscaling/v2", "HorizontalPodAutoscaler");
      let h = api.get(hpaType, "default", "llama");
      const active = (h.status?.conditions as Array<{ type: string; status: string; reason: string }>).find(
        (c) => c.type === "ScalingActive",
      );
      assert.equal(active?.status, "False");
      assert.equal(active?.reason, "FailedGetExternalMetric");
      // the metric says 3 (namespace label as the controller exports it)
      provider.set("wva_desired_replicas", { variant_name: "llama", namespace: "default" }, 3);
      await cluster.hpa.syncAll();
      const dt = api.typeFor("apps/v1", "Deployment");
      assert.equal(api.get(dt, "default", "llama").spec?.replicas, 3);
      h = api.get(hpaType, "default", "llama");
      assert.equal(h.status?.desiredReplicas, 3);
      // 9 is clamped to maxReplicas 4
      provider.set("wva_desired_replicas", { variant_name: "llama", namespace: "default" }, 9);
      await cluster.hpa.syncAll();
      assert.equal(api.get(dt, "default", "llama").spec?.replicas, 4);
      await waitFor(() => api.get(dt, "default", "llama").status?.readyReplicas === 4, "4 ready");
      provider.set("wva_desired_replicas", { variant_name: "llama", namespace: "default" }, 1);
      await cluster.hpa.syncAll();
      assert.equal(api.get(dt, "default", "llama").spec?.replicas, 1);
      const rescales = api
        .list(api.typeFor("v1", "Event"), { namespace: "default", fieldSelector: "reason=SuccessfulRescale" })
        .items.map((e) => e.message);
      // events are listed by name (random suffix), so compare as sets
      assert.deepEqual(rescales.sort(), [
        "New size: 1; reason: All metrics below target",
        "New size: 3; reason: external metric above target",
        "New size: 4; reason: external metric above target",
      ]);
    } finally {
      await cluster.stop();
    }
  });
});

describe("HPA controller error conditions", () => {
  it("reports a missing target, an unsupported metric type, and a Value target", async () => {
    const provider = new StaticMetricsProvider();
    provider.set("queue", {}, 150);
    const cluster = await startCluster({ podStartupDelayMs: 10, hpa: { syncPeriodMs: 3_600_000, provider } });
    try {
      const api = cluster.store;
      const ht = api.typeFor("autoscaling/v2", "HorizontalPodAutoscaler");
      const hpa = (name: string, target: string, metrics: unknown[]) =>
        api.create(ht, {
          metadata: { name, namespace: "default" },
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target },
            maxReplicas: 10,
            metrics,
          },
        });
      const external = {
        type: "External",
        external: { metric: { name: "queue" }, target: { type: "Value", value: "100" } },
      };
      hpa("ghost", "no-such-deployment", [external]);
      hpa("cpu", "web", [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } },
        },
      ]);
      hpa("value", "web", [external]);
      api.create(api.typeFor("apps/v1", "Deployment"), deployment("web", 2));
      await waitFor(
        () => api.get(api.typeFor("apps/v1", "Deployment"), "default", "web").status?.readyReplicas === 2,
        "2 ready",
      );
      await cluster.hpa.syncAll();
      const conds = (name: string) =>
        Object.fromEntries(
          (api.get(ht, "default", name).status?.conditions as Array<{ type: string; reason: string }>).map(
            (c) => [c.type, c.reason],
          ),
        );
      assert.equal(conds("ghost").AbleToScale, "FailedGetScale");
      assert.equal(conds("cpu").ScalingActive, "FailedGetExternalMetric");
      assert.match(
        String(
          (api.get(ht, "default", "cpu").status?.conditions as Array<{ type: string; message: string }>).find(
            (c) => c.type === "ScalingActive",
          )?.message,
        ),
        /metric type Resource is not supported/,
      );
      // Value target: 150 / 100 = 1.5 × 2 ready pods = 3
      assert.equal(conds("value").ScalingActive, "ValidMetricFound");
      assert.equal(api.get(ht, "default", "value").status?.desiredReplicas, 3);
    } finally {
      await cluster.stop();
    }
  });
});

describe("HPA controller reading a Prometheus metrics endpoint", () => {
  it("scales by wva_desired_replicas scraped from a prom-client registry, as prometheus-adapter would serve it", async () => {
    const registry = new Registry();
    const gauge = new Gauge({
      name: "wva_desired_replicas",
      help: "desired replicas",
      labelNames: ["variant_name", "namespace", "accelerator_type"],
      registers: [registry],
    });
    gauge.set({ variant_name: "qwen", namespace: "default", accelerator_type: "H100" }, 2);
    gauge.set({ variant_name: "other", namespace: "default", accelerator_type: "A100" }, 7);
    const server = createServer((_req, res) => {
      void registry.metrics().then((text) => {
        res.writeHead(200, { "Content-Type": registry.contentType });
        res.end(text);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const port = (server.address() as AddressInfo).port;
    const cluster = await startCluster({
      podStartupDelayMs: 10,
      hpa: {
        syncPeriodMs: 3_600_000,
        provider: new ScrapeMetricsProvider(`http://127.0.0.1:${port}/metrics`),
      },
    });
    try {
      const api = cluster.store;
      api.create(api.typeFor("apps/v1", "Deployment"), deployment("qwen", 1));
      api.create(api.typeFor("autoscaling/v2", "HorizontalPodAutoscaler"), {
        metadata: { name: "qwen", namespace: "default" },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "qwen" },
          minReplicas: 1,
          maxReplicas: 10,
          metrics: [
            {
              type: "External",
              external: {
                metric: {
                  name: "wva_desired_replicas",
                  selector: { matchLabels: { variant_name: "qwen", exported_namespace: "default" } },
                },
                target: { type: "AverageValue", averageValue: "1" },
              },
            },
          ],
        },
      });
      const dt = api.typeFor("apps/v1", "Deployment");
      await cluster.hpa.syncAll();
      assert.equal(api.get(dt, "default", "qwen").spec?.replicas, 2);
      gauge.set({ variant_name: "qwen", namespace: "default", accelerator_type: "H100" }, 5);
      await cluster.hpa.syncAll();
      assert.equal(api.get(dt, "default", "qwen").spec?.replicas, 5);
      const h = api.get(api.typeFor("autoscaling/v2", "HorizontalPodAutoscaler"), "default", "qwen");
      assert.deepEqual(
        (h.status?.currentMetrics as Array<{ external: { current: unknown } }>)[0].external.current,
        { averageValue: "2500m" },
        "5 over the 2 replicas it had when it decided",
      );
    } finally {
      await cluster.stop();
      server.close();
    }
  });
});
