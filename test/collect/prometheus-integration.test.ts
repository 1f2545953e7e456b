import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { InMemoryClusterLookup } from "../../src/collect/cluster.js";
import {
  ReplicaMetricsCollector,
  type ReplicaMetrics,
  type VariantInfo,
} from "../../src/collect/collector.js";
import { PodScrapingSource, StaticTargets } from "../../src/collect/podscrape/source.js";
import { PrometheusSource } from "../../src/collect/prometheus/source.js";
import { QueryName, batchQueryName } from "../../src/collect/queries.js";
import { runLoad } from "../../src/playground/load/runner.js";
import type { ModelGroup } from "../../src/types/decision.js";
import { VllmEmulator } from "../../src/playground/vllm/server.js";
import { findPrometheus, requireTool } from "../support/tools.js";
import { promQuery, startPrometheus, type RunningPrometheus } from "../support/prometheus.js";

/**
 * Two emulated vLLM pods of one model (plus a third in a namespace full of PromQL metacharacters) are put
 * under load, then frozen, and scraped by a real Prometheus every second. Frozen means the values no longer
 * move, so the Prometheus source, the pod-scraping source and the emulators themselves can be compared
 * exactly. Stated tolerance: KV usage within 0.001 absolute, queue length equal.
 */
const KV_TOLERANCE = 0.001;
const NS = "wva-test";
const EVIL_NS = 'ns"\\,x="y';
const MODEL = "llama-8b";

describe("metrics collection against a real Prometheus", () => {
  let prom: RunningPrometheus | undefined;
  const emus: Record<string, VllmEmulator> = {};
  const load = new AbortController();
  let skipped = false;

  before(async () => {
    const bin = findPrometheus();
    if (!bin) {
      skipped = true;
      return;
    }
    const engine = { maxBatch: 2, kvBlocks: 500, blockSize: 16, alpha: 20, beta: 0.05, gamma: 0.0005 };
    for (const pod of ["llama-a100-7d9f-abcde", "llama-h100-5c8b-fghij", "evil-pod"]) {
      emus[pod] = new VllmEmulator({ model: MODEL, engine });
      await emus[pod].start({ host: "127.0.0.1", port: 0 });
    }
    prom = await startPrometheus(bin, [
      {
        target: hostPort(emus["llama-a100-7d9f-abcde"]),
        labels: { namespace: NS, pod: "llama-a100-7d9f-abcde" },
      },
      {
        target: hostPort(emus["llama-h100-5c8b-fghij"]),
        labels: { namespace: NS, pod: "llama-h100-5c8b-fghij" },
      },
      { target: hostPort(emus["evil-pod"]), labels: { namespace: EVIL_NS, pod: "evil-pod" } },
    ]);
    // load: 5 long requests to the first pod, 3 to the second, 1 to the third (2 run at once, the rest wait)
    const sends: Array<[string, number]> = [
      ["llama-a100-7d9f-abcde", 5],
      ["llama-h100-5c8b-fghij", 3],
      ["evil-pod", 1],
    ];
    for (const [pod, n] of sends) {
      const arrivals = Array.from({ length: n }, (_, i) => ({
        t: i * 20,
        inputTokens: 200,
        outputTokens: 5000,
      }));
      void runLoad({ target: emus[pod].url as string, model: MODEL, arrivals, signal: load.signal });
    }
    for (const [pod, n] of sends) {
      await until(
        () => emus[pod].stats().running + emus[pod].stats().waiting === n,
        `${pod} has ${n} requests`,
      );
    }
    // let the batches generate for a while, then freeze every emulator
    await sleep(1500);
    const frozenAt = Date.now();
    for (const e of Object.values(emus)) e.pause();
    // wait until Prometheus has scraped every target at least once after the freeze
    await until(async () => {
      const r = await promQuery(prom!.url, "timestamp(vllm:kv_cache_usage_perc)");
      return r.length === 3 && r.every((s) => Number(s.value[1]) * 1000 > frozenAt + 100);
    }, "a scrape after the freeze");
    // increase() needs two samples in its window
    await until(async () => {
      const r = await promQuery(prom!.url, "count_over_time(vllm:request_success_total[10m])");
      return r.length === 3 && r.every((s) => Number(s.value[1]) >= 2);
    }, "two samples of every counter");
  });

  after(async () => {
    load.abort();
    await prom?.stop();
    for (const e of Object.values(emus)) await e.stop();
  });

  const group: ModelGroup<VariantInfo> = {
    modelID: MODEL,
    namespace: NS,
    variants: [
      { name: "llama-a100", namespace: NS, deployment: "llama-a100", accelerator: "A100", cost: 20 },
      { name: "llama-h100", namespace: NS, deployment: "llama-h100", accelerator: "H100", cost: 40 },
    ],
  };
  const lookup = new InMemoryClusterLookup()
    .addReplicaSet(NS, "llama-a100-7d9f", "llama-a100")
    .addPod(NS, "llama-a100-7d9f-abcde", "llama-a100-7d9f")
    .addReplicaSet(NS, "llama-h100-5c8b", "llama-h100")
    .addPod(NS, "llama-h100-5c8b-fghij", "llama-h100-5c8b");

  const expected = () =>
    ["llama-a100-7d9f-abcde", "llama-h100-5c8b-fghij"].map((pod) => {
      const s = emus[pod].stats();
      return { pod, kv: s.kvUsage, queue: s.waiting };
    });

  function assertAgrees(replicas: ReplicaMetrics[], label: string): void {
    const exp = expected();
    assert.deepEqual(
      replicas.map((r) => r.pod),
      exp.map((e) => e.pod),
      label,
    );
    for (const [i, r] of replicas.entries()) {
      assert.ok(
        Math.abs(r.kvCacheUsage - exp[i].kv) <= KV_TOLERANCE,
        `${label} ${r.pod} KV ${r.kvCacheUsage} vs emulator ${exp[i].kv}`,
      );
      assert.equal(r.queueLength, exp[i].queue, `${label} ${r.pod} queue`);
      assert.ok(r.kvCacheUsage > 0);
      assert.equal(r.numGpuBlocks, 500);
      assert.equal(r.blockSize, 16);
    }
    assert.deepEqual(
      replicas.map((r) => [r.variant, r.accelerator, r.cost]),
      [
        ["llama-a100", "A100", 20],
        ["llama-h100", "H100", 40],
      ],
    );
    // the load made queues: 5 requests with batch 2 leave 3 waiting, 3 leave 1
    assert.deepEqual(
      replicas.map((r) => r.queueLength),
      [3, 1],
    );
  }

  it("Prometheus source (batch and per-model) and pod scraping agree with the emulators", async (t) => {
    if (skipped) {
      requireTool(t, "prometheus", undefined, "apt-get install -y prometheus");
      return;
    }
    const promSource = new PrometheusSource({ config: { baseURL: prom!.url } });
    const scrape = new PodScrapingSource({
      targets: new StaticTargets(
        ["llama-a100-7d9f-abcde", "llama-h100-5c8b-fghij"].map((pod) => ({
          pod,
          namespace: NS,
          url: `${emus[pod].url}/metrics`,
        })),
      ),
    });
    try {
      await promSource.waitUntilReachable(10_000);
      for (const [name, source] of [
        ["prometheus", promSource],
        ["pod-scraping", scrape],
      ] as const) {
        for (const mode of ["batch", "per-model"] as const) {
          const c = new ReplicaMetricsCollector({ source, lookup, mode });
          const r = await c.collect(group);
          assert.ok(r.ok, `${name}/${mode}: ${!r.ok ? r.error : ""}`);
          assertAgrees(r.replicas, `${name}/${mode}`);
        }
      }
    } finally {
      promSource.close();
      scrape.close();
    }
  });

  it('a namespace with ", \\ and ,x="y injects nothing into the PromQL', async (t) => {
    if (skipped) {
      requireTool(t, "prometheus", undefined, "apt-get install -y prometheus");
      return;
    }
    const src = new PrometheusSource({ config: { baseURL: prom!.url } });
    try {
      // the exact odd namespace matches exactly its own series, nothing else
      let r = await src.refresh([QueryName.kvCacheUsage, QueryName.queueLength], {
        namespace: EVIL_NS,
        modelID: MODEL,
      });
      const kv = r.get(QueryName.kvCacheUsage);
      assert.equal(kv?.error, undefined);
      assert.deepEqual(
        kv?.values.map((v) => v.labels),
        [{ pod: "evil-pod" }],
      );
      assert.ok(Math.abs((kv?.values[0].value ?? -1) - emus["evil-pod"].stats().kvUsage) <= KV_TOLERANCE);
      // injection attempts that would widen the selector if substituted raw return nothing, and no error
      for (const attempt of [
        `${NS}",x="y`,
        `${NS}"\\,x="y`,
        `x",namespace=~".*`,
        `x"} or vllm:kv_cache_usage_perc{namespace=~".+`,
        `${NS}\\`,
      ]) {
        r = await src.refresh([QueryName.kvCacheUsage], { namespace: attempt, modelID: MODEL });
        const res = r.get(QueryName.kvCacheUsage);
        assert.equal(res?.error, undefined, attempt);
        assert.deepEqual(res?.values, [], `namespace ${attempt} must match nothing`);
      }
      // the batch query keeps the odd namespace as one label value
      r = await src.refresh([batchQueryName(QueryName.kvCacheUsage)]);
      const namespaces = (r.get(batchQueryName(QueryName.kvCacheUsage))?.values ?? [])
        .map((v) => v.labels.namespace)
        .sort();
      assert.deepEqual(namespaces, [EVIL_NS, NS, NS].sort());
    } finally {
      src.close();
    }
  });

  it("the model request count, token averages and the queueing-model inputs come through Prometheus", async (t) => {
    if (skipped) {
      requireTool(t, "prometheus", undefined, "apt-get install -y prometheus");
      return;
    }
    const src = new PrometheusSource({ config: { baseURL: prom!.url } });
    try {
      const r = await src.refresh([QueryName.modelRequestCount, QueryName.cacheConfigInfo], {
        namespace: NS,
        modelID: MODEL,
        retentionPeriod: "10m",
      });
      // nothing completed yet (the requests are long), so the count is 0 — but the query works
      assert.equal(r.get(QueryName.modelRequestCount)?.error, undefined);
      assert.equal(r.get(QueryName.modelRequestCount)?.values[0].value, 0);
      assert.equal(r.get(QueryName.cacheConfigInfo)?.values.length, 2);
      // the queueing-model's inputs are valid PromQL, per model and batched; nothing completed, so the
      // request rate is 0 on both pods
      const names = [QueryName.requestRate, QueryName.avgTtft, QueryName.avgItl];
      const m = await src.refresh(names, { namespace: NS, modelID: MODEL });
      const b = await src.refresh(names.map(batchQueryName));
      for (const n of names) {
        assert.equal(m.get(n)?.error, undefined, n);
        assert.equal(b.get(batchQueryName(n))?.error, undefined, n);
      }
      assert.deepEqual(
        m
          .get(QueryName.requestRate)
          ?.values.map((v) => [v.labels.pod, v.value])
          .sort(),
        [
          ["llama-a100-7d9f-abcde", 0],
          ["llama-h100-5c8b-fghij", 0],
        ],
      );
    } finally {
      src.close();
    }
  });
});

function hostPort(e: VllmEmulator): string {
  return (e.url as string).replace(/^http:\/\//, "");
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls a condition (generous deadline: this machine is shared); throws naming what was awaited. */
async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
