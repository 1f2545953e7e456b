import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import type { Deployment } from "../../src/controller/accelerator.js";
import {
  ScriptedCollector,
  condition,
  createDeployment,
  createVA,
  getVA,
  metricsText,
  acceleratorLabel,
  seriesValue,
  useTestEnv,
  waitFor,
} from "../support/controller.js";

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe("safety net when metrics fail", () => {
  const env = useTestEnv();

  it("metrics failing for three cycles: gauges hold the last desired value, nothing is scaled down, a condition says why", async () => {
    const collector = new ScriptedCollector();
    await createDeployment(env.client, "ns1", "hold", 1);
    await createVA(env.client, "ns1", "hold", "hold", "m-hold", {
      labels: acceleratorLabel("H100"),
      annotations: { "wva.llmd.ai/max-replicas": "3" },
    });
    collector.set("hold", 0.9, 8); // saturated: the engine scales up
    const m = await env.start({ metricsSource: collector, flags: { actuator: "direct" } });
    await waitFor(
      async () => seriesValue(await metricsText(m), "wva_desired_replicas", "hold") >= 2,
      "a scale-up",
    );
    collector.set("hold", 0.05, 0); // idle: the engine would scale down once stable
    await waitFor(async () => {
      const d = await env.client.get<Deployment>("/apis/apps/v1/namespaces/ns1/deployments/hold");
      return (d.status?.readyReplicas ?? 0) >= 2;
    }, "two ready replicas");
    collector.fail = "KV cache query failed: connect ECONNREFUSED 127.0.0.1:9090";
    await m.nextCycle(); // a cycle already running may still see metrics
    await m.nextCycle();
    const held = seriesValue(await metricsText(m), "wva_desired_replicas", "hold");
    const specBefore = (await env.client.get<Deployment>("/apis/apps/v1/namespaces/ns1/deployments/hold"))
      .spec?.replicas;
    for (let i = 0; i < 3; i++) {
      const r = await m.nextCycle();
      assert.deepEqual(r.failedGroups, ["m-hold|ns1"]);
      assert.equal(r.variants[0].path, "safety-net");
      assert.ok(r.variants[0].desired >= held, "never lower than the held value");
    }
    assert.equal(
      seriesValue(await metricsText(m), "wva_desired_replicas", "hold"),
      held,
      "gauge holds the last desired value",
    );
    const d = await env.client.get<Deployment>("/apis/apps/v1/namespaces/ns1/deployments/hold");
    assert.equal(d.spec?.replicas, specBefore, "no scale-down while metrics are missing");
    await waitFor(
      async () =>
        condition(await getVA(env.client, "ns1", "hold"), "MetricsAvailable")?.reason === "PrometheusError",
      "condition",
    );
    const va = await getVA(env.client, "ns1", "hold");
    assert.equal(condition(va, "MetricsAvailable")?.status, "False");
    assert.match(condition(va, "MetricsAvailable")!.message, /ECONNREFUSED/);
    assert.match(condition(va, "MetricsAvailable")!.message, /\d+ cycle\(s\) in a row/);
    assert.equal(condition(va, "OptimizationReady")?.reason, "SaturationSafetyOverride");
    assert.match(condition(va, "OptimizationReady")!.message, /never scaling down on missing data/);
    // recovery: metrics come back and the engine decides again
    collector.fail = undefined;
    await waitFor(
      async () =>
        condition(await getVA(env.client, "ns1", "hold"), "MetricsAvailable")?.reason === "MetricsAvailable",
      "recovery",
    );
    await m.stop();
  });

  it("an unreachable Prometheus (real client, closed port) takes the safety net with the previous desired value", async () => {
    const port = await closedPort();
    await createDeployment(env.client, "ns2", "prom", 2);
    await createVA(env.client, "ns2", "prom", "prom", "m-prom", {
      labels: acceleratorLabel("A100"),
    });
    await env.client.mergePatch("/apis/llmd.ai/v1alpha1/namespaces/ns2/variantautoscalings/prom/status", {
      status: {
        desiredOptimizedAlloc: { accelerator: "A100", numReplicas: 3, lastRunTime: "2026-01-01T00:00:00Z" },
      },
    });
    const m = await env.start({
      metricsSource: "prometheus",
      env: { PROMETHEUS_BASE_URL: `http://127.0.0.1:${port}` },
      prometheus: { maxAttempts: 1, queryTimeoutMs: 2000 },
      flags: { actuator: "direct" },
    });
    for (let i = 0; i < 3; i++) {
      const r = await m.nextCycle();
      assert.ok(r.failedGroups.includes("m-prom|ns2"), r.failedGroups.join(","));
    }
    assert.equal(seriesValue(await metricsText(m), "wva_desired_replicas", "prom"), 3, "previous desired");
    const d = await env.client.get<Deployment>("/apis/apps/v1/namespaces/ns2/deployments/prom");
    assert.equal(d.spec?.replicas, 2, "the direct actuator does not act on the safety net");
    await waitFor(
      async () =>
        condition(await getVA(env.client, "ns2", "prom"), "MetricsAvailable")?.reason === "PrometheusError",
      "condition",
    );
    const va = await getVA(env.client, "ns2", "prom");
    assert.equal(va.status?.desiredOptimizedAlloc?.numReplicas, 3, "desiredOptimizedAlloc untouched");
    await m.stop();
  });
});
