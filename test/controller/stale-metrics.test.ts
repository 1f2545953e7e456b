import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import type { CycleReport } from "../../src/controller/engine-loop.js";
import type { KubeObject } from "../../src/controller/kube/informer.js";
import { runLoad } from "../../src/playground/load/runner.js";
import { VllmEmulator } from "../../src/playground/vllm/server.js";
import {
  condition,
  createDeployment,
  createVA,
  getVA,
  startEnv,
  waitFor,
  type TestEnv,
} from "../support/controller.js";
import { flakyTarget, type FlakyTarget } from "../support/flaky-target.js";
import { promQuery, startPrometheus, type RunningPrometheus } from "../support/prometheus.js";
import { findPrometheus, requireTool } from "../support/tools.js";

/**
 * A model saturated on two pods scraped every second by a real Prometheus; then every pod's target goes
 * down while Prometheus keeps running. The outage is compressed: 15 s with a 1 s scrape interval (so the
 * freshness bound is 3 s) stands for minutes at a 15 s interval, and covers the time Prometheus keeps
 * answering `max_over_time(...[1m])` from before the outage only partly; the collector-level test checks
 * the per-pod detection itself. During the outage no target may go down and `MetricsAvailable` must name
 * the stale pods; after recovery the engine decides again within two cycles.
 */
const NS = "ns1";
const MODEL = "m-stale";
const OUTAGE_MS = 15_000;

interface Pod extends KubeObject {
  status?: { phase?: string; conditions?: Array<{ type?: string; status?: string }> };
}

describe("no scale-down on stale metrics (real Prometheus)", () => {
  let env: TestEnv;
  let prom: RunningPrometheus | undefined;
  const emus: VllmEmulator[] = [];
  const targets: FlakyTarget[] = [];
  const load = new AbortController();
  let bin: string | undefined;

  before(async () => {
    env = await startEnv();
    bin = findPrometheus();
  });
  afterEach(async () => {
    await env.stopAll();
  });
  after(async () => {
    load.abort();
    await prom?.stop();
    for (const t of targets) await t.close();
    for (const e of emus) await e.stop();
    await env.close();
  });

  it("an outage of every pod: no lower target, a condition naming the stale pods, recovery within two cycles", async (t) => {
    if (!requireTool(t, "prometheus", bin, "apt-get install -y prometheus")) return;
    await createDeployment(env.client, NS, "stale", 2);
    await createVA(env.client, NS, "stale", "stale", MODEL, {
      labels: { "inference.optimization/acceleratorName": "H100" },
    });
    let pods: string[] = [];
    await waitFor(async () => {
      const list = await env.client.get<{ items: Pod[] }>(`/api/v1/namespaces/${NS}/pods`);
      pods = list.items
        .filter((p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"))
        .map((p) => p.metadata?.name ?? "")
        .sort();
      return pods.length === 2;
    }, "two ready pods");
    // each pod is an emulator with a full batch and a waiting queue: saturated
    for (const pod of pods) {
      const e = new VllmEmulator({ model: MODEL, engine: { maxBatch: 2, kvBlocks: 300, blockSize: 16 } });
      await e.start({ host: "127.0.0.1", port: 0 });
      emus.push(e);
      targets.push(await flakyTarget(e.url as string));
      const arrivals = Array.from({ length: 6 }, (_, i) => ({
        t: i * 10,
        inputTokens: 1000,
        outputTokens: 20_000,
      }));
      void runLoad({ target: e.url as string, model: MODEL, arrivals, signal: load.signal });
      void pod;
    }
    prom = await startPrometheus(
      bin!,
      pods.map((pod, i) => ({ target: targets[i].hostPort, labels: { namespace: NS, pod } })),
      { scrapeIntervalSec: 1 },
    );
    const m = await env.start({
      metricsSource: "prometheus",
      env: { PROMETHEUS_BASE_URL: prom.url, METRICS_SCRAPE_INTERVAL: "1s", GLOBAL_OPT_INTERVAL: "1s" },
    });
    let before: CycleReport | undefined;
    await waitFor(
      async () => {
        before = await m.nextCycle();
        return before.variants[0]?.path === "engine";
      },
      "decisions from fresh metrics",
      30_000,
    );
    const held = before!.variants[0].desired;

    for (const target of targets) target.down = true;
    const end = Date.now() + OUTAGE_MS;
    let stalePath = 0;
    while (Date.now() < end) {
      const r = await m.nextCycle();
      for (const v of r.variants)
        assert.ok(v.desired >= held, `target ${v.desired} < ${held} during the outage`);
      if (r.variants[0]?.path === "stale") stalePath++;
    }
    assert.ok(stalePath > 0, "the outage was detected");
    const va = await getVA(env.client, NS, "stale");
    const metrics = condition(va, "MetricsAvailable");
    assert.equal(metrics?.status, "False");
    assert.equal(metrics?.reason, "MetricsStale");
    for (const pod of pods) assert.match(metrics!.message, new RegExp(pod));

    for (const target of targets) target.down = false;
    // once Prometheus has a fresh sample of both pods, at most two cycles until the engine decides again
    await waitFor(async () => {
      const r = await promQuery(prom!.url, `timestamp(vllm:num_requests_waiting{namespace="${NS}"})`);
      return r.length === 2 && r.every((s) => Date.now() - Number(s.value[1]) * 1000 < 1500);
    }, "fresh samples of both pods");
    let cycles = 0;
    let r: CycleReport;
    do {
      r = await m.nextCycle();
      cycles++;
    } while (r.variants[0]?.path !== "engine" && cycles < 5);
    assert.ok(cycles <= 2, `normal decisions after ${cycles} cycles`);
  });
});
