import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { InMemoryClusterLookup } from "../../src/collect/cluster.js";
import { ReplicaMetricsCollector, type VariantInfo } from "../../src/collect/collector.js";
import type { ModelGroup } from "../../src/types/decision.js";
import { PrometheusSource } from "../../src/collect/prometheus/source.js";
import { VllmEmulator } from "../../src/playground/vllm/server.js";
import { flakyTarget, type FlakyTarget } from "../support/flaky-target.js";
import { startPrometheus, type RunningPrometheus } from "../support/prometheus.js";
import { findPrometheus, requireTool } from "../support/tools.js";

/**
 * Two pods of one model scraped every second by a real Prometheus; one pod's target goes down. Its
 * `max_over_time(...[1m])` values stay in Prometheus's answers for a minute, but its current sample
 * disappears, so the collector must report it stale (not as a replica) until it is back.
 */
const NS = "wva-test";
const MODEL = "llama-8b";

describe("stale metrics against a real Prometheus", () => {
  let prom: RunningPrometheus | undefined;
  const emus: VllmEmulator[] = [];
  const targets: FlakyTarget[] = [];
  let bin: string | undefined;

  before(async () => {
    bin = findPrometheus();
    if (!bin) return;
    for (let i = 0; i < 2; i++) {
      const e = new VllmEmulator({ model: MODEL, engine: { maxBatch: 2, kvBlocks: 500, blockSize: 16 } });
      await e.start({ host: "127.0.0.1", port: 0 });
      emus.push(e);
      targets.push(await flakyTarget(e.url as string));
    }
    prom = await startPrometheus(
      bin,
      targets.map((t, i) => ({ target: t.hostPort, labels: { namespace: NS, pod: `pod-${i}` } })),
      { scrapeIntervalSec: 1 },
    );
  });

  after(async () => {
    await prom?.stop();
    for (const t of targets) await t.close();
    for (const e of emus) await e.stop();
  });

  const group: ModelGroup<VariantInfo> = {
    modelID: MODEL,
    namespace: NS,
    variants: [{ name: "va", namespace: NS, deployment: "llama" }],
  };

  it("a pod whose target went down is stale within seconds and fresh again after recovery", async (t) => {
    if (!requireTool(t, "prometheus", bin, "apt-get install -y prometheus")) return;
    const source = new PrometheusSource({ config: { baseURL: prom!.url } });
    const lookup = new InMemoryClusterLookup()
      .addReadyPod(NS, "llama", "pod-0")
      .addReadyPod(NS, "llama", "pod-1");
    const collector = new ReplicaMetricsCollector({ source, lookup, scrapeIntervalMs: 1000 });
    const collect = async () => {
      const r = await collector.collect(group);
      assert.ok(r.ok, !r.ok ? r.error : "");
      return { fresh: r.replicas.map((x) => x.pod), stale: r.stale };
    };
    try {
      await until(async () => (await collect()).fresh.length === 2, "both pods fresh");
      targets[1].down = true;
      const downAt = Date.now();
      await until(async () => (await collect()).stale.length === 1, "pod-1 stale");
      const staleAfterMs = Date.now() - downAt;
      const during = await collect();
      assert.deepEqual(during.fresh, ["pod-0"]);
      assert.equal(during.stale[0].pod, "pod-1");
      assert.equal(during.stale[0].variant, "va");
      assert.match(during.stale[0].reason, /no current sample|newest sample/);
      // detected within the bound of three scrape intervals (plus one scrape to notice the failure)
      assert.ok(staleAfterMs <= 5000, `stale after ${staleAfterMs} ms`);
      targets[1].down = false;
      const upAt = Date.now();
      await until(async () => (await collect()).fresh.length === 2, "pod-1 fresh again");
      assert.ok(Date.now() - upAt <= 5000, `fresh again after ${Date.now() - upAt} ms`);
      assert.deepEqual((await collect()).stale, []);
    } finally {
      source.close();
    }
  });
});

async function until(f: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
