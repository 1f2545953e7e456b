import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import type { Deployment } from "../../src/controller/accelerator.js";
import type { GroupCollection, GroupCollector } from "../../src/controller/engine-loop.js";
import {
  ScriptedCollector,
  acceleratorLabel,
  condition,
  createDeployment,
  createVA,
  eventsWithReason,
  getVA,
  useTestEnv,
  waitFor,
} from "../support/controller.js";

/** A logger whose entries the test can read. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: "info", base: undefined },
    { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
  );
  return { logger, lines };
}

const deployment = (env: ReturnType<typeof useTestEnv>, ns: string, name: string) =>
  env.client.get<Deployment>(`/apis/apps/v1/namespaces/${ns}/deployments/${name}`);

describe("decisions visible and bounded", () => {
  const env = useTestEnv();

  it("a target change is one info log line (model, variant, from, to, reason) and a DesiredReplicasChanged Event", async () => {
    const collector = new ScriptedCollector();
    await createDeployment(env.client, "ns1", "vis", 1);
    await createVA(env.client, "ns1", "vis", "vis", "m-vis", { labels: acceleratorLabel("H100") });
    collector.set("vis", 0.95, 10); // saturated: one more replica
    const { logger, lines } = capturingLogger();
    const m = await env.start({ metricsSource: collector, logger });
    await waitFor(() => lines.some((l) => l.msg === "desired replicas changed"), "the change log line");
    const line = lines.find((l) => l.msg === "desired replicas changed")!;
    assert.equal(line.level, 30, "info level");
    assert.deepEqual(
      [line.model, line.namespace, line.variant, line.from, line.to],
      ["m-vis", "ns1", "vis", 1, 2],
    );
    assert.match(String(line.reason), /\S/);
    await waitFor(
      async () => (await eventsWithReason(env.client, "ns1", "DesiredReplicasChanged")).length > 0,
      "the Event",
    );
    const [ev] = await eventsWithReason(env.client, "ns1", "DesiredReplicasChanged");
    assert.equal(ev.type, "Normal");
    assert.equal(ev.involvedObject.name, "vis");
    assert.match(ev.message, /^desired replicas 1 -> 2: /);
    // an unchanged target logs nothing more
    const changes = lines.filter((l) => l.msg === "desired replicas changed").length;
    await m.nextCycle();
    await m.nextCycle();
    assert.equal(lines.filter((l) => l.msg === "desired replicas changed").length, changes);
  });

  it("the direct actuator keeps 5 replicas through its scale-down window although the engine recommends fewer", async () => {
    const collector = new ScriptedCollector();
    await createDeployment(env.client, "ns1", "calm", 5);
    await createVA(env.client, "ns1", "calm", "calm", "m-calm", { labels: acceleratorLabel("H100") });
    await waitFor(async () => (await deployment(env, "ns1", "calm")).status?.readyReplicas === 5, "5 ready");
    collector.set("calm", 0.05, 0); // idle: the engine recommends scaling down
    const m = await env.start({
      metricsSource: collector,
      flags: { actuator: "direct" },
      env: { DIRECT_SCALE_DOWN_STABILIZATION_WINDOW: "300s" },
    });
    let recommended = 5;
    for (let i = 0; i < 8; i++) {
      const r = await m.nextCycle();
      const v = r.variants.find((x) => x.variant === "calm")!;
      assert.equal(v.desired, 5, `cycle ${i}: ${v.reason}`);
      const held = /scale-down to (\d+) held at 5 by the 300 s stabilisation window/.exec(v.reason);
      if (held) recommended = Number(held[1]);
    }
    assert.ok(recommended < 5, "the engine did recommend fewer replicas");
    assert.equal((await deployment(env, "ns1", "calm")).spec?.replicas, 5);
  });

  it("idle fresh replicas and one stale pod: no scale-down, MetricsStale names the pod; fresh again, it scales down", async () => {
    await createDeployment(env.client, "ns2", "part", 3);
    await createVA(env.client, "ns2", "part", "part", "m-part", { labels: acceleratorLabel("A100") });
    await waitFor(async () => (await deployment(env, "ns2", "part")).status?.readyReplicas === 3, "3 ready");
    const scripted = new ScriptedCollector();
    scripted.set("part", 0.05, 0); // idle: the engine recommends fewer replicas
    let stale = true;
    const collector: GroupCollector = {
      collectAll: async (groups) => {
        const out = await scripted.collectAll(groups);
        for (const [k, r] of out) {
          if (!r.ok || !stale) continue;
          // the busiest pod went silent: the others are idle
          out.set(k, {
            ok: true,
            replicas: r.replicas.slice(1),
            stale: [{ pod: "part-0", variant: "part", reason: "no current sample" }],
          });
        }
        return out;
      },
      requestCount: async () => scripted.requestCount(),
    };
    const m = await env.start({ metricsSource: collector, flags: { actuator: "direct" } });
    for (let i = 0; i < 4; i++) {
      const r = await m.nextCycle();
      const v = r.variants.find((x) => x.variant === "part")!;
      assert.equal(v.desired, 3, v.reason);
    }
    assert.equal((await deployment(env, "ns2", "part")).spec?.replicas, 3);
    await waitFor(
      async () =>
        condition(await getVA(env.client, "ns2", "part"), "MetricsAvailable")?.reason === "MetricsStale",
      "MetricsStale",
    );
    const c = condition(await getVA(env.client, "ns2", "part"), "MetricsAvailable")!;
    assert.equal(c.status, "False");
    assert.match(c.message, /1 pod\(s\) without fresh metrics: part-0 \(no current sample\)/);
    stale = false;
    await waitFor(
      async () => (await deployment(env, "ns2", "part")).spec?.replicas === 2,
      "a scale-down once fresh",
    );
  });

  it("failing cycles: the condition's count is the log's count; a hanging collector ends at the budget", async () => {
    await createDeployment(env.client, "ns2", "fail", 1);
    await createVA(env.client, "ns2", "fail", "fail", "m-fail", { labels: acceleratorLabel("A100") });
    let hang = false;
    const scripted = new ScriptedCollector();
    scripted.fail = "KV cache query failed: connect ECONNREFUSED";
    const collector: GroupCollector = {
      collectAll: (groups) =>
        hang ? new Promise<Map<string, GroupCollection>>(() => undefined) : scripted.collectAll(groups),
      requestCount: async () => scripted.requestCount(),
    };
    const { logger, lines } = capturingLogger();
    const m = await env.start({ metricsSource: collector, logger });
    for (let i = 0; i < 3; i++) {
      await m.nextCycle();
      const failures = lines.filter((l) => l.msg === "metrics collection failed; safety net").pop()?.failures;
      await waitFor(
        async () =>
          condition(await getVA(env.client, "ns2", "fail"), "MetricsAvailable")?.message.includes(
            `(${String(failures)} cycle(s) in a row)`,
          ) ?? false,
        `the condition says ${String(failures)} cycle(s)`,
      );
    }
    hang = true;
    await m.nextCycle(); // the cycle that was running
    const r = await m.nextCycle();
    assert.ok(r.durationMs < 3000, `a cycle with a hanging collector took ${r.durationMs} ms`);
    assert.match(r.variants[0].reason, /metrics collection exceeded its budget of 1000 ms/);
  });
});
