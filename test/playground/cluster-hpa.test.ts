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
import { StaticMetricsProvider, startCluster } from "../../src/playground/cluster/index.js";
import { deployment, waitFor } from "./cluster-fixtures.js";

const s = (sec: number) => sec * 1000;

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
    let d = decide({
      specReplicas: 2,
      currentReplicas: 2,
      minReplicas: 1,
      maxReplicas: 10,
      metricProposal: 20,
      behavior: b,
      mem,
      now: s(0),
    });
    assert.equal(d.desiredReplicas, 6);
    assert.equal(d.limitReason, "ScaleUpLimit");
    recordScale(mem, b, 2, 6, s(0));
    // 5 s later the period started at 2 → limit still 6: no further step
    d = decide({
      specReplicas: 6,
      currentReplicas: 6,
      minReplicas: 1,
      maxReplicas: 10,
      metricProposal: 20,
      behavior: b,
      mem,
      now: s(5),
    });
    assert.equal(d.desiredReplicas, 6);
    // 16 s later the event left the period: Pods → 10, Percent → 12; max 10 wins
    d = decide({
      specReplicas: 6,
      currentReplicas: 6,
      minReplicas: 1,
      maxReplicas: 10,
      metricProposal: 20,
      behavior: b,
      mem,
      now: s(16),
    });
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
    let d = decide({
      specReplicas: 5,
      currentReplicas: 5,
      minReplicas: 1,
      maxReplicas: 10,
      metricProposal: 1,
      behavior: b,
      mem,
      now: s(0),
    });
    assert.equal(d.desiredReplicas, 4);
    assert.equal(d.limitReason, "ScaleDownLimit");
    recordScale(mem, b, 5, 4, s(0));
    // 30 s later the period started at 5: limit 4 → no change
    d = decide({
      specReplicas: 4,
      currentReplicas: 4,
      minReplicas: 1,
      maxReplicas: 10,
      metricProposal: 1,
      behavior: b,
      mem,
      now: s(30),
    });
    assert.equal(d.desiredReplicas, 4);
    d = decide({
      specReplicas: 4,
      currentReplicas: 4,
      minReplicas: 1,
      maxReplicas: 10,
      metricProposal: 1,
      behavior: b,
      mem,
      now: s(61),
    });
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
    } finally {
      await cluster.stop();
    }
  });
});
