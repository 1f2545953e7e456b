import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { parseExposition } from "../../src/collect/podscrape/exposition.js";
import { InMemoryClusterLookup } from "../../src/collect/cluster.js";
import { ReplicaMetricsCollector } from "../../src/collect/collector.js";
import { ALL_METRICS_QUERY, PodScrapingSource, StaticTargets } from "../../src/collect/podscrape/source.js";
import { QueryName, batchQueryName } from "../../src/collect/queries.js";
import { VllmEmulator } from "../../src/playground/vllm/server.js";

describe("exposition parsing", () => {
  it("keeps every labelled histogram series with its family and type", () => {
    const text = [
      "# HELP h h",
      "# TYPE h histogram",
      'h_bucket{le="1",m="a"} 2',
      'h_bucket{le="+Inf",m="a"} 3',
      'h_sum{m="a"} 5',
      'h_count{m="a"} 3',
      'h_bucket{le="+Inf",m="b"} 1',
      'h_sum{m="b"} 1',
      'h_count{m="b"} 1',
      "# TYPE g gauge",
      'g{ns="a\\"b\\\\c"} NaN',
      "u 5",
    ].join("\n");
    const s = parseExposition(text);
    const counts = s.filter((x) => x.name === "h_count");
    assert.deepEqual(
      counts.map((x) => [x.labels.m, x.value, x.family, x.type]),
      [
        ["a", 3, "h", "histogram"],
        ["b", 1, "h", "histogram"],
      ],
    );
    const g = s.find((x) => x.name === "g");
    assert.equal(g?.labels.ns, 'a"b\\c');
    assert.ok(Number.isNaN(g?.value));
    assert.equal(s.find((x) => x.name === "u")?.value, 5, "last line without newline is kept");
  });
});

describe("pod-scraping source", () => {
  const emus: VllmEmulator[] = [];
  let auth: string | undefined;
  let protectedUrl = "";
  let server: http.Server;
  before(async () => {
    for (let i = 0; i < 2; i++) {
      const e = new VllmEmulator({
        model: "llama",
        timeMode: "virtual",
        engine: { maxBatch: 1, kvBlocks: 100, blockSize: 16 },
      });
      await e.start();
      emus.push(e);
    }
    // pod-a: 1 running (KV 7 blocks for 100+1 tokens), 2 waiting; pod-b idle
    emus[0].submit(100, 10);
    emus[0].submit(100, 10);
    emus[0].submit(100, 10);
    server = http.createServer((req, res) => {
      auth = req.headers.authorization;
      res.writeHead(auth === "Bearer s3cret" ? 200 : 401);
      res.end('# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{model_name="llama"} 4\n');
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    protectedUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  });
  after(async () => {
    for (const e of emus) await e.stop();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const targets = () =>
    new StaticTargets([
      { pod: "pod-a", namespace: "ns", url: `${emus[0].url}/metrics` },
      { pod: "pod-b", namespace: "ns", url: `${emus[1].url}/metrics` },
      { pod: "pod-c", namespace: "ns", url: `${emus[1].url}/metrics`, ready: false },
      { pod: "pod-d", namespace: "ns", url: "" },
    ]);

  it("answers the per-model queries per pod from the scraped samples", async () => {
    const src = new PodScrapingSource({ targets: targets() });
    try {
      const res = await src.refresh(
        [QueryName.kvCacheUsage, QueryName.queueLength, QueryName.cacheConfigInfo],
        { namespace: "ns", modelID: "llama" },
      );
      const kv = res.get(QueryName.kvCacheUsage);
      assert.equal(kv?.error, undefined);
      assert.deepEqual(kv?.values.map((x) => [x.labels.pod, x.value]).sort(), [
        ["pod-a", 0.07],
        ["pod-b", 0],
      ]);
      assert.deepEqual(
        res
          .get(QueryName.queueLength)
          ?.values.map((x) => [x.labels.pod, x.value])
          .sort(),
        [
          ["pod-a", 2],
          ["pod-b", 0],
        ],
      );
      const cfg = res.get(QueryName.cacheConfigInfo)?.values.find((x) => x.labels.pod === "pod-a");
      assert.deepEqual(cfg?.labels, { pod: "pod-a", num_gpu_blocks: "100", block_size: "16" });
      assert.equal(src.scrapeCount, 2, "the not-ready pod is not scraped");
      assert.deepEqual(
        src.lastFailures.map((f) => f.pod),
        ["pod-d"],
      );
      // other namespace or model: nothing
      const none = await src.refresh([QueryName.kvCacheUsage], { namespace: "ns2", modelID: "llama" });
      assert.deepEqual(none.get(QueryName.kvCacheUsage)?.values, []);
      assert.ok(src.get(QueryName.kvCacheUsage, { namespace: "ns", modelID: "llama" }));
    } finally {
      src.close();
    }
  });

  it("max over the last minute: a peak stays visible after the queue drains", async () => {
    let t = 1_000_000;
    const e = emus[0];
    const src = new PodScrapingSource({ targets: targets(), clock: () => t });
    try {
      await src.refresh([QueryName.queueLength], { namespace: "ns", modelID: "llama" });
      e.advance(1_000_000); // everything completes
      assert.equal(e.stats().waiting, 0);
      t += 30_000;
      let r = await src.refresh([QueryName.queueLength], { namespace: "ns", modelID: "llama" });
      assert.equal(r.get(QueryName.queueLength)?.values.find((x) => x.labels.pod === "pod-a")?.value, 2);
      t += 40_000;
      r = await src.refresh([QueryName.queueLength], { namespace: "ns", modelID: "llama" });
      assert.equal(r.get(QueryName.queueLength)?.values.find((x) => x.labels.pod === "pod-a")?.value, 0);
      // token averages from the histograms: 3 requests of 100 in / 10 out
      const avg = await src.refresh([QueryName.avgInputTokens, QueryName.avgOutputTokens], {
        namespace: "ns",
        modelID: "llama",
      });
      // the window's oldest scrape already counted nothing, so the increase covers all three requests
      assert.equal(
        avg.get(QueryName.avgInputTokens)?.values.find((x) => x.labels.pod === "pod-a")?.value,
        100,
      );
      assert.equal(
        avg.get(QueryName.avgOutputTokens)?.values.find((x) => x.labels.pod === "pod-a")?.value,
        10,
      );
      const count = await src.refresh([QueryName.modelRequestCount], {
        namespace: "ns",
        modelID: "llama",
        retentionPeriod: "1m",
      });
      assert.equal(count.get(QueryName.modelRequestCount)?.values[0].value, 3);
    } finally {
      src.close();
    }
  });

  it("refreshes within the minimum scrape interval reuse the last scrape", async () => {
    let t = 5_000_000;
    const src = new PodScrapingSource({ targets: targets(), clock: () => t });
    try {
      await src.refresh([QueryName.kvCacheUsage], { namespace: "ns", modelID: "llama" });
      await src.refresh([QueryName.queueLength], { namespace: "ns", modelID: "other-model" });
      assert.equal(src.scrapeCount, 2, "one scrape per pod for both refreshes");
      t += 1000;
      await src.refresh([QueryName.kvCacheUsage], { namespace: "ns", modelID: "llama" });
      assert.equal(src.scrapeCount, 4);
    } finally {
      src.close();
    }
  });

  it("batch queries group by namespace, model_name and pod; all_metrics has every sample", async () => {
    const src = new PodScrapingSource({ targets: targets() });
    try {
      const r = await src.refresh([batchQueryName(QueryName.kvCacheUsage), ALL_METRICS_QUERY]);
      const kv = r.get(batchQueryName(QueryName.kvCacheUsage));
      assert.deepEqual(
        kv?.values.map((x) => x.labels).sort((a, b) => a.pod.localeCompare(b.pod)),
        [
          { namespace: "ns", model_name: "llama", pod: "pod-a" },
          { namespace: "ns", model_name: "llama", pod: "pod-b" },
        ],
      );
      const all = r.get(ALL_METRICS_QUERY)?.values ?? [];
      const ttft = all.filter((x) => x.labels.__name__ === "vllm:time_to_first_token_seconds");
      assert.equal(ttft.length, 2, "a histogram contributes its sample count once per pod");
    } finally {
      src.close();
    }
  });

  it("missing parameters and failed pods are reported, not thrown", async () => {
    const src = new PodScrapingSource({ targets: targets() });
    try {
      const r = await src.refresh([QueryName.kvCacheUsage, "nope"], { namespace: "ns" });
      assert.match(r.get(QueryName.kvCacheUsage)?.error ?? "", /missing required parameter "modelID"/);
      assert.match(r.get("nope")?.error ?? "", /unknown query/);
      const failing = new PodScrapingSource({
        targets: { listTargets: async () => Promise.reject(new Error("api down")) },
      });
      const f = await failing.refresh([QueryName.kvCacheUsage], { namespace: "ns", modelID: "llama" });
      assert.match(f.get(QueryName.kvCacheUsage)?.error ?? "", /listing pods to scrape failed: api down/);
      failing.close();
    } finally {
      src.close();
    }
  });

  it("a pod answering HTTP 500 is a stale pod with that status, not a pod that may not be ready", async () => {
    const broken = http.createServer((_req, res) => {
      res.writeHead(500);
      res.end("internal error");
    });
    await new Promise<void>((r) => broken.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(broken.address() as AddressInfo).port}/metrics`;
    const src = new PodScrapingSource({
      targets: new StaticTargets([
        { pod: "pod-a", namespace: "ns", url: `${emus[0].url}/metrics` },
        { pod: "pod-500", namespace: "ns", url },
      ]),
    });
    try {
      const collector = new ReplicaMetricsCollector({
        source: src,
        lookup: new InMemoryClusterLookup()
          .addDeploymentPod("ns", "llama-d", "pod-a")
          .addDeploymentPod("ns", "llama-d", "pod-500"),
      });
      const r = await collector.collect({
        modelID: "llama",
        namespace: "ns",
        variants: [{ name: "va", namespace: "ns", deployment: "llama-d" }],
      });
      assert.ok(r.ok);
      assert.deepEqual(
        r.replicas.map((x) => x.pod),
        ["pod-a"],
      );
      assert.deepEqual(r.stale, [{ pod: "pod-500", variant: "va", reason: `HTTP 500 from ${url}` }]);
    } finally {
      src.close();
      await new Promise<void>((r) => broken.close(() => r()));
    }
  });

  it("sends the bearer token (adding the Bearer prefix once) and skips pods answering non-200", async () => {
    const t = new StaticTargets([{ pod: "p", namespace: "ns", url: protectedUrl }]);
    for (const token of ["s3cret", "Bearer s3cret"]) {
      const src = new PodScrapingSource({ targets: t, bearerToken: token });
      const r = await src.refresh([QueryName.queueLength], { namespace: "ns", modelID: "llama" });
      assert.equal(auth, "Bearer s3cret");
      assert.equal(r.get(QueryName.queueLength)?.values[0].value, 4);
      src.close();
    }
    const src = new PodScrapingSource({ targets: t });
    const r = await src.refresh([QueryName.queueLength], { namespace: "ns", modelID: "llama" });
    assert.deepEqual(r.get(QueryName.queueLength)?.values, []);
    assert.match(src.lastFailures[0].error, /HTTP 401/);
    src.close();
  });
});

describe("pod-scraping request count", () => {
  it("counts the increase within the retention window only", async () => {
    let served = 0;
    const server = http.createServer((_req, res) => {
      res.end(`vllm:request_success_total{model_name="m",finished_reason="stop"} ${served}\n`);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    let t = 1_000_000;
    const src = new PodScrapingSource({
      targets: new StaticTargets([{ pod: "p", namespace: "ns", url }]),
      clock: () => t,
      minScrapeIntervalMs: 0,
    });
    const count = async (retentionPeriod: string) =>
      (
        await src.refresh([QueryName.modelRequestCount], { namespace: "ns", modelID: "m", retentionPeriod })
      ).get(QueryName.modelRequestCount)?.values[0]?.value;
    try {
      served = 4;
      assert.equal(await count("30s"), undefined, "unknown before one whole window was watched");
      t += 20_000;
      assert.equal(await count("30s"), undefined);
      t += 20_000; // the first scrape (4 served) is now 40 s old
      assert.equal(await count("30s"), 0, "no request within the last 30 s");
      served = 6;
      t += 5_000;
      assert.equal(await count("30s"), 2);
      assert.equal(await count("10m"), undefined, "10 minutes not watched yet");
      t += 590_000; // the scrape at 20 s (4 served) is the last one at or before the window's start
      assert.equal(await count("10m"), 2, "the history is kept for the longest window asked");
    } finally {
      src.close();
      await new Promise((r) => server.close(r));
    }
  });
});

describe("pod-scraping source: the queueing-model's inputs", () => {
  it("request rate over the minute, average TTFT and ITL from the histograms", async () => {
    const e = new VllmEmulator({
      model: "llama",
      timeMode: "virtual",
      engine: { maxBatch: 4, kvBlocks: 100, blockSize: 16, alpha: 10, beta: 0, gamma: 0 },
    });
    await e.start();
    let t = 5_000_000;
    const src = new PodScrapingSource({
      targets: new StaticTargets([{ pod: "p", namespace: "ns", url: `${e.url}/metrics` }]),
      clock: () => t,
    });
    const q = [QueryName.requestRate, QueryName.avgTtft, QueryName.avgItl];
    const value = (r: Map<string, { values: Array<{ value: number }> }>, n: string) =>
      r.get(n)?.values[0]?.value;
    try {
      const first = await src.refresh(q, { namespace: "ns", modelID: "llama" });
      assert.deepEqual(first.get(QueryName.requestRate)?.values, [], "a rate needs two scrapes");
      // iterations of 10 ms: the first request starts alone (TTFT: its prefill iteration, 10 ms), the
      // other two join at the next boundary and get their first token at the end of it (20 ms)
      for (let i = 0; i < 3; i++) e.submit(100, 5);
      e.advance(1_000);
      t += 10_000;
      const r = await src.refresh(q, { namespace: "ns", modelID: "llama" });
      assert.equal(value(r, QueryName.requestRate), 0.3);
      assert.ok(
        Math.abs(value(r, QueryName.avgTtft)! - 0.05 / 3) < 1e-9,
        `TTFT ${value(r, QueryName.avgTtft)}`,
      );
      assert.ok(Math.abs(value(r, QueryName.avgItl)! - 0.01) < 1e-9, `ITL ${value(r, QueryName.avgItl)}`);
      const batch = await src.refresh([batchQueryName(QueryName.requestRate)]);
      assert.deepEqual(batch.get(batchQueryName(QueryName.requestRate))?.values[0].labels, {
        namespace: "ns",
        model_name: "llama",
        pod: "p",
      });
    } finally {
      src.close();
      await e.stop();
    }
  });
});
