import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Deployment } from "../../src/controller/accelerator.js";
import {
  SYSTEM_NS,
  ScriptedCollector,
  condition,
  createDeployment,
  createVA,
  eventsWithReason,
  getVA,
  metricsText,
  acceleratorLabel,
  seriesValue,
  useTestEnv,
  type TestEnv,
  waitFor,
} from "../support/controller.js";

async function deployment(env: TestEnv, ns: string, name: string): Promise<Deployment> {
  return env.client.get<Deployment>(`/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
}

describe("actuation", () => {
  const env = useTestEnv({ nodes: "1xH100:2" });

  it("direct actuator: scales the target through /scale within the VA's max-replicas annotation; the counter counts each real change once", async () => {
    const collector = new ScriptedCollector();
    collector.set("direct", 0.95, 10);
    await createDeployment(env.client, "ns1", "direct", 1);
    await createVA(env.client, "ns1", "direct", "direct", "m-direct", {
      labels: acceleratorLabel("A100"),
      annotations: { "wva.llmd.ai/max-replicas": "3" },
    });
    const m = await env.start({ metricsSource: collector, flags: { actuator: "direct" } });
    await waitFor(
      async () => (await deployment(env, "ns1", "direct")).spec?.replicas === 3,
      "scaled to the bound",
    );
    // several more saturated cycles: the bound holds
    for (let i = 0; i < 4; i++) await m.nextCycle();
    assert.equal((await deployment(env, "ns1", "direct")).spec?.replicas, 3);
    const text = await metricsText(m);
    assert.equal(seriesValue(text, "wva_desired_replicas", "direct"), 3);
    assert.match(
      text,
      /^wva_replica_scaling_total\{variant_name="direct",namespace="ns1",direction="up",reason="saturation"\} 2$/m,
    );
    await waitFor(
      async () => (await getVA(env.client, "ns1", "direct")).status?.desiredOptimizedAlloc?.numReplicas === 3,
      "status",
    );
    const va = await getVA(env.client, "ns1", "direct");
    assert.equal(va.status?.actuation?.applied, true);
    assert.match(
      condition(va, "OptimizationReady")!.message,
      /bounded to 3 by annotations|target: 3 replicas/,
    );
  });

  it("direct actuator: a malformed bound is ignored and reported with a Warning event", async () => {
    await createDeployment(env.client, "ns1", "badbound", 1);
    await createVA(env.client, "ns1", "badbound", "badbound", "m-badbound", {
      labels: acceleratorLabel("A100"),
      annotations: { "wva.llmd.ai/min-replicas": "two" },
    });
    const m = await env.start({ metricsSource: new ScriptedCollector(), flags: { actuator: "direct" } });
    await m.nextCycle();
    await waitFor(
      async () => (await eventsWithReason(env.client, "ns1", "InvalidScaleBounds")).length > 0,
      "event",
    );
    const [ev] = await eventsWithReason(env.client, "ns1", "InvalidScaleBounds");
    assert.equal(ev.type, "Warning");
    assert.match(ev.message, /wva.llmd.ai\/min-replicas="two" must be a non-negative integer/);
  });

  it("scale-to-zero through the enforcer: zero requests in the retention window set the targets to 0; an unknown count keeps them", async () => {
    await env.client.create(`/api/v1/namespaces/${SYSTEM_NS}/configmaps`, {
      metadata: { name: "wva-model-scale-to-zero-config", namespace: SYSTEM_NS },
      data: { default: "enable_scale_to_zero: true\nretention_period: 5m\n" },
    });
    const collector = new ScriptedCollector();
    collector.requests = null;
    collector.set("idle", 0.6, 0); // neither a scale-up signal nor safe to scale down: stays at 2
    await createDeployment(env.client, "ns2", "idle", 2);
    await createVA(env.client, "ns2", "idle", "idle", "m-idle", {
      labels: acceleratorLabel("A100"),
    });
    const m = await env.start({ metricsSource: collector });
    await waitFor(() => m.scaleToZeroFor("m-idle", "ns2").enabled, "config");
    assert.equal(m.scaleToZeroFor("m-idle", "ns2").retentionMs, 300_000);
    await waitFor(
      async () => seriesValue(await metricsText(m), "wva_desired_replicas", "idle") === 2,
      "kept at 2 while the count is unknown",
    );
    for (let i = 0; i < 2; i++) await m.nextCycle();
    assert.equal(seriesValue(await metricsText(m), "wva_desired_replicas", "idle"), 2);
    collector.requests = 0;
    await waitFor(
      async () => seriesValue(await metricsText(m), "wva_desired_replicas", "idle") === 0,
      "scaled to zero",
    );
    assert.match(
      await metricsText(m),
      /wva_replica_scaling_total\{variant_name="idle",namespace="ns2",direction="down",reason="scale-to-zero"\} 1/,
    );
    await env.client.delete(`/api/v1/namespaces/${SYSTEM_NS}/configmaps/wva-model-scale-to-zero-config`);
  });

  it("accelerator from the target's nodeSelector, and the GPU limiter bounds scale-up by the nodes' GPUs", async () => {
    await env.client.create(`/api/v1/namespaces/${SYSTEM_NS}/configmaps`, {
      metadata: { name: "wva-saturation-scaling-config", namespace: SYSTEM_NS },
      data: {
        default:
          "kvCacheThreshold: 0.8\nqueueLengthThreshold: 5\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 3\nenableLimiter: true\n",
      },
    });
    const collector = new ScriptedCollector();
    collector.set("gpu", 0.95, 10);
    await createDeployment(env.client, "ns2", "gpu", 1, {
      nodeSelector: { "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3" },
      gpus: 1,
    });
    await createVA(env.client, "ns2", "gpu", "gpu", "m-gpu"); // no accelerator label
    const m = await env.start({ metricsSource: collector, flags: { actuator: "direct" } });
    await waitFor(() => m.saturationFor("m-gpu", "ns2")?.kvCacheThreshold === 0.8, "config");
    await waitFor(
      async () => seriesValue(await metricsText(m), "wva_desired_replicas", "gpu") === 2,
      "scale-up to 2",
    );
    for (let i = 0; i < 4; i++) await m.nextCycle();
    const text = await metricsText(m);
    assert.match(
      text,
      /wva_desired_replicas\{variant_name="gpu",namespace="ns2",accelerator_type="H100"\} 2/,
    );
    const r = await m.nextCycle();
    const v = r.variants.find((x) => x.variant === "gpu")!;
    assert.equal(v.desired, 2, "the node has 2 GPUs: no third replica");
    assert.match(v.reason, /gpu-limiter/);
    await env.client.delete(`/api/v1/namespaces/${SYSTEM_NS}/configmaps/wva-saturation-scaling-config`);
  });

  it("deleting the controller's ServiceMonitor emits a Warning event ServiceMonitorDeleted; other ServiceMonitors do nothing", async () => {
    await env.client.create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "servicemonitors.monitoring.coreos.com" },
      spec: {
        group: "monitoring.coreos.com",
        scope: "Namespaced",
        names: {
          plural: "servicemonitors",
          singular: "servicemonitor",
          kind: "ServiceMonitor",
          listKind: "ServiceMonitorList",
        },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
          },
        ],
      },
    });
    const path = `/apis/monitoring.coreos.com/v1/namespaces/${SYSTEM_NS}/servicemonitors`;
    await waitFor(async () => {
      try {
        await env.client.get(path);
        return true;
      } catch {
        return false;
      }
    }, "ServiceMonitor CRD served");
    const m = await env.start({ metricsSource: new ScriptedCollector() });
    await m.ready();
    for (const name of [
      "workload-variant-autoscaler-controller-manager-metrics-monitor",
      "unrelated-monitor",
    ]) {
      await env.client.create(path, {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { name, namespace: SYSTEM_NS },
        spec: { endpoints: [{ port: "https" }] },
      });
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(
      (await eventsWithReason(env.client, SYSTEM_NS, "ServiceMonitorDeleted")).length,
      0,
      "a create does nothing",
    );
    await env.client.delete(`${path}/unrelated-monitor`);
    await env.client.delete(`${path}/workload-variant-autoscaler-controller-manager-metrics-monitor`);
    await waitFor(
      async () => (await eventsWithReason(env.client, SYSTEM_NS, "ServiceMonitorDeleted")).length > 0,
      "event",
    );
    const evs = await eventsWithReason(env.client, SYSTEM_NS, "ServiceMonitorDeleted");
    assert.equal(evs.length, 1);
    assert.equal(evs[0].type, "Warning");
    assert.equal(
      evs[0].involvedObject.name,
      "workload-variant-autoscaler-controller-manager-metrics-monitor",
    );
    assert.match(evs[0].message, /Prometheus will not scrape controller metrics/);
  });
});
