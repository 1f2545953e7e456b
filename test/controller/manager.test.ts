import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  FAST_LEASE,
  ScriptedCollector,
  SYSTEM_NS,
  condition,
  createDeployment,
  createVA,
  eventsWithReason,
  getVA,
  metricsText,
  acceleratorLabel,
  useTestEnv,
  waitFor,
} from "../support/controller.js";

const H100 = acceleratorLabel("H100");

describe("controller manager on the API emulator", () => {
  const env = useTestEnv();

  it("a VA whose Deployment is missing gets TargetNotFound, then TargetFound and gauges once it is created", async () => {
    const collector = new ScriptedCollector();
    const m = await env.start({ metricsSource: collector });
    await createVA(env.client, "ns1", "late-va", "late-deploy", "m-late", { labels: H100 });
    await waitFor(
      async () =>
        condition(await getVA(env.client, "ns1", "late-va"), "TargetResolved")?.reason === "TargetNotFound",
      "TargetNotFound",
    );
    const va = await getVA(env.client, "ns1", "late-va");
    assert.equal(condition(va, "TargetResolved")?.status, "False");
    assert.equal(condition(va, "TargetResolved")?.message, "Scale target Deployment late-deploy not found");
    assert.equal(condition(va, "TargetResolved")?.observedGeneration, va.metadata?.generation);
    assert.doesNotMatch(await metricsText(m), /variant_name="late-va"/);

    await createDeployment(env.client, "ns1", "late-deploy", 1);
    await waitFor(
      async () =>
        condition(await getVA(env.client, "ns1", "late-va"), "TargetResolved")?.reason === "TargetFound",
      "TargetFound",
    );
    await waitFor(
      async () =>
        /wva_desired_replicas\{variant_name="late-va",namespace="ns1",accelerator_type="H100"\} 1/.test(
          await metricsText(m),
        ),
      "gauges",
    );
    await waitFor(
      async () =>
        (await getVA(env.client, "ns1", "late-va")).status?.desiredOptimizedAlloc?.numReplicas === 1,
      "desiredOptimizedAlloc",
    );
    const done = await getVA(env.client, "ns1", "late-va");
    assert.equal(condition(done, "MetricsAvailable")?.reason, "MetricsAvailable");
    assert.equal(condition(done, "OptimizationReady")?.status, "True");
    assert.equal(done.status?.actuation?.applied, true);
    assert.equal(done.status?.desiredOptimizedAlloc?.accelerator, "H100");
    await m.stop();
  });

  it("a deleted target Deployment updates the status at once and removes the VA's gauges; a recreated one resumes", async () => {
    const collector = new ScriptedCollector();
    const m = await env.start({ metricsSource: collector });
    await createDeployment(env.client, "ns1", "gone-deploy", 1);
    await createVA(env.client, "ns1", "gone-va", "gone-deploy", "m-gone", { labels: H100 });
    await waitFor(async () => /variant_name="gone-va"/.test(await metricsText(m)), "gauges of gone-va");
    await env.client.delete("/apis/apps/v1/namespaces/ns1/deployments/gone-deploy");
    await waitFor(
      async () =>
        condition(await getVA(env.client, "ns1", "gone-va"), "TargetResolved")?.reason === "TargetNotFound",
      "TargetNotFound after delete",
    );
    // gauges are removed together with the status update, not at the next cycle
    assert.doesNotMatch(await metricsText(m), /variant_name="gone-va"/);
    const before = m.metrics.variants();
    await m.nextCycle();
    assert.doesNotMatch(
      await metricsText(m),
      /variant_name="gone-va"/,
      "a later cycle does not bring them back",
    );
    assert.ok(!before.includes("ns1/gone-va"));
    await createDeployment(env.client, "ns1", "gone-deploy", 1);
    await waitFor(async () => /variant_name="gone-va"/.test(await metricsText(m)), "gauges after recreate");
    await waitFor(
      async () =>
        condition(await getVA(env.client, "ns1", "gone-va"), "TargetResolved")?.reason === "TargetFound",
      "TargetFound after recreate",
    );
    await m.stop();
  });

  it("a deleted VA loses its gauges", async () => {
    const m = await env.start({ metricsSource: new ScriptedCollector() });
    await createDeployment(env.client, "ns1", "del-deploy", 1);
    await createVA(env.client, "ns1", "del-va", "del-deploy", "m-del", { labels: H100 });
    await waitFor(async () => /variant_name="del-va"/.test(await metricsText(m)), "gauges of del-va");
    await env.client.delete("/apis/llmd.ai/v1alpha1/namespaces/ns1/variantautoscalings/del-va");
    await waitFor(async () => !/variant_name="del-va"/.test(await metricsText(m)), "gauges removed");
    await m.stop();
  });

  it("the engine loop follows GLOBAL_OPT_INTERVAL and a main ConfigMap change of it; immutable changes are rejected with an event", async () => {
    await env.client.create(`/api/v1/namespaces/${SYSTEM_NS}/configmaps`, {
      metadata: { name: "wva-variantautoscaling-config", namespace: SYSTEM_NS },
      data: { GLOBAL_OPT_INTERVAL: "400ms", PROMETHEUS_BASE_URL: "http://127.0.0.1:9" },
    });
    const m = await env.start({ metricsSource: new ScriptedCollector(), env: { GLOBAL_OPT_INTERVAL: "" } });
    assert.equal(m.engineIntervalMs(), 400);
    await env.client.mergePatch(`/api/v1/namespaces/${SYSTEM_NS}/configmaps/wva-variantautoscaling-config`, {
      data: {
        GLOBAL_OPT_INTERVAL: "250ms",
        PROMETHEUS_BASE_URL: "http://127.0.0.1:10",
        METRICS_BIND_ADDRESS: ":9999",
      },
    });
    await waitFor(() => m.engineIntervalMs() === 250, "interval hot reload");
    await waitFor(
      async () => (await eventsWithReason(env.client, SYSTEM_NS, "ImmutableConfigChangeRejected")).length > 0,
      "event",
    );
    const [ev] = await eventsWithReason(env.client, SYSTEM_NS, "ImmutableConfigChangeRejected");
    assert.equal(ev.type, "Warning");
    assert.match(
      ev.message,
      /Prometheus BaseURL \(old: "http:\/\/127.0.0.1:9", new: "http:\/\/127.0.0.1:10"\)/,
    );
    assert.match(ev.message, /Metrics bind address/);
    assert.match(ev.message, /Mutable parameter updates were still applied/);
    assert.equal(m.config().prometheus?.baseURL, "http://127.0.0.1:9");
    await m.stop();
    await env.client.delete(`/api/v1/namespaces/${SYSTEM_NS}/configmaps/wva-variantautoscaling-config`);
  });

  it("infrastructure settings follow flag > env > main ConfigMap > default", async () => {
    await env.client.create(`/api/v1/namespaces/${SYSTEM_NS}/configmaps`, {
      metadata: { name: "wva-variantautoscaling-config", namespace: SYSTEM_NS },
      data: {
        LEADER_ELECTION_ID: "from-configmap.llm-d.ai",
        LEADER_ELECTION_RETRY_PERIOD: "3s",
        REST_CLIENT_TIMEOUT: "7s",
      },
    });
    const fromCm = await env.start({
      metricsSource: new ScriptedCollector(),
      flags: { leaderElect: true, ...FAST_LEASE },
    });
    assert.equal(fromCm.leaseName, "from-configmap.llm-d.ai");
    assert.equal(fromCm.config().restClientTimeoutMs, 7000, "ConfigMap beats the default");
    assert.equal(fromCm.config().leaderElectionRetryPeriodMs, 200, "a given flag beats the ConfigMap");
    await fromCm.stop();
    const fromEnv = await env.start({
      metricsSource: new ScriptedCollector(),
      env: { LEADER_ELECTION_ID: "from-env.llm-d.ai", REST_CLIENT_TIMEOUT: "9s" },
    });
    assert.equal(fromEnv.leaseName, "from-env.llm-d.ai", "env beats the ConfigMap");
    assert.equal(fromEnv.config().restClientTimeoutMs, 9000);
    await fromEnv.stop();
    await env.client.delete(`/api/v1/namespaces/${SYSTEM_NS}/configmaps/wva-variantautoscaling-config`);
  });

  it("out-of-range durations from the main ConfigMap or the environment stop the start, naming the key", async () => {
    // a lease duration of 0s used to reach the elector as is; 600h overflowed the engine timer
    await env.client.create(`/api/v1/namespaces/${SYSTEM_NS}/configmaps`, {
      metadata: { name: "wva-variantautoscaling-config", namespace: SYSTEM_NS },
      data: { LEADER_ELECTION_LEASE_DURATION: "0s" },
    });
    await assert.rejects(
      env.start({ metricsSource: new ScriptedCollector(), flags: { leaderElect: true } }),
      /LEADER_ELECTION_LEASE_DURATION \(the main ConfigMap\): must be a duration from 100ms to 1h0m0s, got 0s/,
    );
    await env.client.delete(`/api/v1/namespaces/${SYSTEM_NS}/configmaps/wva-variantautoscaling-config`);
    await assert.rejects(
      env.start({ metricsSource: new ScriptedCollector(), env: { GLOBAL_OPT_INTERVAL: "600h" } }),
      /GLOBAL_OPT_INTERVAL \(the environment\): must be a duration from 100ms to 24h0m0s, got 600h0m0s/,
    );
    assert.equal(env.managers.length, 0, "no manager started");
  });

  it("an invalid saturation ConfigMap keeps the last good config and emits a Warning event", async () => {
    await env.client.create(`/api/v1/namespaces/${SYSTEM_NS}/configmaps`, {
      metadata: { name: "wva-saturation-scaling-config", namespace: SYSTEM_NS },
      data: {
        default:
          "kvCacheThreshold: 0.7\nqueueLengthThreshold: 4\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 2\n",
      },
    });
    const m = await env.start({ metricsSource: new ScriptedCollector() });
    await m.ready();
    await waitFor(() => m.saturationFor("any", "ns1")?.kvCacheThreshold === 0.7, "initial config");
    await env.client.mergePatch(`/api/v1/namespaces/${SYSTEM_NS}/configmaps/wva-saturation-scaling-config`, {
      data: { default: "kvCacheThreshold: 2\nqueueLengthThreshold: 4\n" },
    });
    await waitFor(
      async () => (await eventsWithReason(env.client, SYSTEM_NS, "InvalidSaturationConfig")).length > 0,
      "warning event",
    );
    const [ev] = await eventsWithReason(env.client, SYSTEM_NS, "InvalidSaturationConfig");
    assert.equal(ev.type, "Warning");
    assert.match(ev.message, /kvCacheThreshold/);
    assert.equal(m.saturationFor("any", "ns1")?.kvCacheThreshold, 0.7, "last good config stays");
    await env.client.mergePatch(`/api/v1/namespaces/${SYSTEM_NS}/configmaps/wva-saturation-scaling-config`, {
      data: {
        default:
          "kvCacheThreshold: 0.6\nqueueLengthThreshold: 4\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 2\n",
      },
    });
    await waitFor(() => m.saturationFor("any", "ns1")?.kvCacheThreshold === 0.6, "valid update applied");
    await m.stop();
    await env.client.delete(`/api/v1/namespaces/${SYSTEM_NS}/configmaps/wva-saturation-scaling-config`);
  });

  it("a namespace-local saturation ConfigMap that exists before the namespace's first VA is honoured from start-up", async () => {
    await env.client.create("/api/v1/namespaces", { metadata: { name: "local-cfg" } });
    await env.client.create("/api/v1/namespaces/local-cfg/configmaps", {
      metadata: { name: "wva-saturation-scaling-config", namespace: "local-cfg" },
      data: {
        default:
          "kvCacheThreshold: 0.5\nqueueLengthThreshold: 2\nkvSpareTrigger: 0.05\nqueueSpareTrigger: 1\n",
      },
    });
    const m = await env.start({ metricsSource: new ScriptedCollector() });
    await m.ready();
    // no VA there yet: the namespace is not tracked, the global (shipped default) config applies
    assert.equal(m.saturationFor("m-local", "local-cfg")?.kvCacheThreshold, 0.8);
    await createDeployment(env.client, "local-cfg", "lc", 1);
    await createVA(env.client, "local-cfg", "lc", "lc", "m-local", { labels: H100 });
    await waitFor(
      () => m.saturationFor("m-local", "local-cfg")?.kvCacheThreshold === 0.5,
      "namespace-local config",
    );
    assert.equal(
      m.saturationFor("m-local", "ns1")?.kvCacheThreshold,
      0.8,
      "other namespaces keep the global one",
    );
    await env.client.delete("/api/v1/namespaces/local-cfg/configmaps/wva-saturation-scaling-config");
    await waitFor(
      () => m.saturationFor("m-local", "local-cfg")?.kvCacheThreshold === 0.8,
      "deleted: back to global",
    );
  });

  it("stops cleanly while its caches never synced (lists keep failing) and is not ready meanwhile", async () => {
    env.cluster.faults.failNext({ verb: "list", resource: "deployments", code: 500, times: Infinity });
    try {
      const m = await env.start({ metricsSource: new ScriptedCollector() });
      assert.equal((await fetch(`${m.probeUrl}/readyz`)).status, 503);
      assert.equal((await fetch(`${m.probeUrl}/healthz`)).status, 200);
      assert.equal(m.isLeader(), false, "leadership work waits for synced caches");
      await m.stop();
    } finally {
      env.cluster.faults.clear();
    }
  });

  it("isolation: two managers with different instances each touch only their VAs", async () => {
    await createDeployment(env.client, "ns2", "iso-a", 1);
    await createDeployment(env.client, "ns2", "iso-b", 1);
    await createDeployment(env.client, "ns2", "iso-none", 1);
    await createVA(env.client, "ns2", "va-a", "iso-a", "m-iso", {
      labels: { ...H100, "wva.llmd.ai/controller-instance": "a" },
    });
    await createVA(env.client, "ns2", "va-b", "iso-b", "m-iso", {
      labels: { ...H100, "wva.llmd.ai/controller-instance": "b" },
    });
    await createVA(env.client, "ns2", "va-none", "iso-none", "m-iso", { labels: H100 });
    const a = await env.start({
      metricsSource: new ScriptedCollector(),
      env: { CONTROLLER_INSTANCE: "a" },
      flags: { leaderElect: true, ...FAST_LEASE },
    });
    const b = await env.start({
      metricsSource: new ScriptedCollector(),
      env: { CONTROLLER_INSTANCE: "b" },
      flags: { leaderElect: true, ...FAST_LEASE },
    });
    assert.notEqual(a.leaseName, b.leaseName, "each instance elects its own leader");
    await Promise.all([a.waitForLeadership(), b.waitForLeadership()]);
    await waitFor(
      async () => (await getVA(env.client, "ns2", "va-a")).status?.desiredOptimizedAlloc !== undefined,
      "va-a status",
    );
    await waitFor(
      async () => (await getVA(env.client, "ns2", "va-b")).status?.desiredOptimizedAlloc !== undefined,
      "va-b status",
    );
    await a.nextCycle();
    await b.nextCycle();
    const ta = await metricsText(a);
    const tb = await metricsText(b);
    assert.match(
      ta,
      /wva_desired_replicas\{variant_name="va-a",namespace="ns2",accelerator_type="H100",controller_instance="a"\}/,
    );
    assert.doesNotMatch(ta, /variant_name="va-b"|variant_name="va-none"/);
    assert.match(tb, /variant_name="va-b"[^}]*controller_instance="b"/);
    assert.doesNotMatch(tb, /variant_name="va-a"|variant_name="va-none"/);
    assert.equal(
      (await getVA(env.client, "ns2", "va-none")).status,
      undefined,
      "an unlabelled VA is left alone",
    );
    await a.stop();
    await b.stop();
  });

  it("namespace exclusion: the engine and the reconciler skip VAs in a namespace annotated wva.llmd.ai/exclude", async () => {
    await env.client.create("/api/v1/namespaces", {
      metadata: { name: "excl", annotations: { "wva.llmd.ai/exclude": "true" } },
    });
    await createDeployment(env.client, "excl", "ex-deploy", 1);
    await createVA(env.client, "excl", "ex-va", "ex-deploy", "m-ex", { labels: H100 });
    await createDeployment(env.client, "ns1", "in-deploy", 1);
    await createVA(env.client, "ns1", "in-va", "in-deploy", "m-in", { labels: H100 });
    const m = await env.start({ metricsSource: new ScriptedCollector() });
    await waitFor(
      async () => (await getVA(env.client, "ns1", "in-va")).status?.desiredOptimizedAlloc !== undefined,
      "in-va",
    );
    await m.nextCycle();
    assert.doesNotMatch(await metricsText(m), /variant_name="ex-va"/);
    assert.equal((await getVA(env.client, "excl", "ex-va")).status, undefined);
    await m.stop();
  });
});
