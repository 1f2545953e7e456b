import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InMemoryClusterLookup } from "../../src/collect/cluster.js";
import { ReplicaMetricsCollector, type VariantInfo } from "../../src/collect/collector.js";
import { groupKey, type ModelGroup } from "../../src/types/decision.js";
import { batchQueryName, QueryName } from "../../src/collect/queries.js";
import type { MetricResult, MetricsSource, MetricValue, QueryParams } from "../../src/collect/types.js";

/** A source answering from plain data, recording each refresh. */
class DataSource implements MetricsSource {
  readonly name = "data";
  calls: Array<{ names: readonly string[]; params: QueryParams }> = [];
  constructor(
    private readonly data: Record<string, MetricValue[]>,
    private readonly errors: Record<string, string> = {},
  ) {}
  queryNames() {
    return Object.keys(this.data);
  }
  async refresh(names: readonly string[], params: QueryParams = {}) {
    this.calls.push({ names, params });
    const out = new Map<string, MetricResult>();
    for (const n of names) {
      const match = (v: MetricValue) =>
        params.namespace === undefined ||
        (v.labels.namespace === params.namespace && v.labels.model_name === params.modelID);
      const base = n.replace(":all_models", "");
      out.set(n, {
        queryName: n,
        values: (this.data[base] ?? []).filter(match),
        collectedAt: 1000,
        error: this.errors[base],
      });
    }
    return out;
  }
  get() {
    return undefined;
  }
  close() {}
}

const v = (value: number, labels: Record<string, string>): MetricValue => ({
  value,
  timestamp: 1000,
  labels,
});
const L = (pod: string, extra: Record<string, string> = {}) => ({
  namespace: "ns",
  model_name: "llama",
  pod,
  ...extra,
});

const group: ModelGroup<VariantInfo> = {
  modelID: "llama",
  namespace: "ns",
  variants: [
    { name: "va-a100", namespace: "ns", deployment: "llama-a100", accelerator: "A100", cost: 20 },
    { name: "va-h100", namespace: "ns", deployment: "llama-h100", accelerator: "H100" },
  ],
};

const lookup = new InMemoryClusterLookup()
  .addDeploymentPod("ns", "llama-a100", "p1")
  .addDeploymentPod("ns", "llama-h100", "p2")
  .addDeploymentPod("ns", "other-deploy", "p3")
  .addPod("ns", "p4", "some-statefulset", "StatefulSet");

const data = {
  [QueryName.kvCacheUsage]: [
    v(0.5, L("p1")),
    v(0.25, L("p2")),
    v(0.9, L("p3")),
    v(0.1, L("p4")),
    v(0.3, { namespace: "ns", model_name: "llama" }),
  ],
  [QueryName.queueLength]: [v(3.9, L("p1")), v(1, { namespace: "ns", model_name: "llama", pod_name: "p5" })],
  [QueryName.cacheConfigInfo]: [
    v(1, L("p1", { num_gpu_blocks: "1000", block_size: "16" })),
    v(1, L("p2", { num_gpu_blocks: "0", block_size: "16" })),
  ],
  [QueryName.avgInputTokens]: [v(512, L("p1"))],
  [QueryName.avgOutputTokens]: [v(128, L("p1"))],
  [QueryName.prefixCacheHitRate]: [v(0.4, L("p1")), v(1.5, L("p2"))],
  // newest sample of each pod, in seconds as Prometheus's timestamp() answers
  [QueryName.sampleTime]: [
    v(1, L("p1")),
    v(1, L("p2")),
    v(1, L("p3")),
    v(1, { namespace: "ns", model_name: "llama", pod_name: "p5" }),
  ],
};

describe("replica metrics collector", () => {
  for (const mode of ["batch", "per-model"] as const) {
    it(`${mode}: maps pods through ReplicaSet and Deployment to VAs, with cost, accelerator and V2 extras`, async () => {
      const lk = new InMemoryClusterLookup()
        .addDeploymentPod("ns", "llama-a100", "p1")
        .addDeploymentPod("ns", "llama-h100", "p2")
        .addDeploymentPod("ns", "other-deploy", "p3")
        .addPod("ns", "p4", "some-statefulset", "StatefulSet")
        .addDeploymentPod("ns", "llama-h100", "p5");
      const c = new ReplicaMetricsCollector({
        source: new DataSource(data),
        lookup: lk,
        mode,
        clock: () => 1000,
      });
      const r = await c.collect(group);
      assert.ok(r.ok);
      assert.deepEqual(
        r.replicas.map((x) => [x.pod, x.variant, x.accelerator, x.cost, x.kvCacheUsage, x.queueLength]),
        [
          ["p1", "va-a100", "A100", 20, 0.5, 3], // queue truncated
          ["p2", "va-h100", "H100", 10, 0.25, 0], // missing queue = 0, default cost 10
          ["p5", "va-h100", "H100", 10, 0, 1], // pod_name fallback, missing KV = 0
        ],
      );
      const p1 = r.replicas[0];
      assert.equal(p1.numGpuBlocks, 1000);
      assert.equal(p1.blockSize, 16);
      assert.equal(p1.totalKvCapacityTokens, 16000);
      assert.equal(p1.tokensInUse, 8000);
      assert.equal(p1.avgInputTokens, 512);
      assert.equal(p1.avgOutputTokens, 128);
      assert.equal(p1.prefixCacheHitRate, 0.4);
      assert.equal(p1.sampledAt, 1000);
      assert.deepEqual(r.stale, []);
      const p2 = r.replicas[1];
      assert.equal(p2.numGpuBlocks, undefined, "num_gpu_blocks 0 means no cache config");
      assert.equal(p2.totalKvCapacityTokens, 0);
      assert.equal(p2.tokensInUse, 0);
      assert.equal(p2.prefixCacheHitRate, undefined, "hit rate outside [0,1] is dropped");
    });
  }

  it("a failed KV or queue query fails the group; failed V2 queries are ignored", async () => {
    for (const [failing, msg] of [
      [QueryName.kvCacheUsage, /KV cache query failed: boom/],
      [QueryName.queueLength, /queue length query failed: boom/],
      [QueryName.sampleTime, /sample time query failed: boom/],
    ] as const) {
      const c = new ReplicaMetricsCollector({
        source: new DataSource(data, { [failing]: "boom" }),
        lookup,
        mode: "per-model",
      });
      const r = await c.collect(group);
      assert.equal(r.ok, false);
      assert.match(!r.ok ? r.error : "", msg);
    }
    const c = new ReplicaMetricsCollector({
      source: new DataSource(data, { [QueryName.avgInputTokens]: "x" }),
      lookup,
      clock: () => 1000,
    });
    const r = await c.collect(group);
    assert.ok(r.ok);
    assert.equal(r.replicas[0].avgInputTokens, undefined);
  });

  it("batch mode sends 10 queries per cycle whatever the number of models; per-model sends 10 per model", async () => {
    const groups: ModelGroup<VariantInfo>[] = Array.from({ length: 7 }, (_, i) => ({
      modelID: `m${i}`,
      namespace: "ns",
      variants: [],
    }));
    const batchSrc = new DataSource({});
    const batch = new ReplicaMetricsCollector({ source: batchSrc, lookup, mode: "batch" });
    const out = await batch.collectAll(groups);
    assert.equal(batch.lastQueryCount, 10);
    assert.equal(batchSrc.calls.length, 1);
    assert.ok(batchSrc.calls[0].names.includes(batchQueryName(QueryName.kvCacheUsage)));
    assert.equal(out.size, 7);
    assert.deepEqual(out.get(groupKey("m3", "ns")), { ok: true, replicas: [], stale: [] });
    const perSrc = new DataSource({});
    const per = new ReplicaMetricsCollector({ source: perSrc, lookup, mode: "per-model" });
    await per.collectAll(groups);
    assert.equal(per.lastQueryCount, 70);
    assert.deepEqual(perSrc.calls[0].params, { namespace: "ns", modelID: "m0" });
  });

  it("batch results are sliced per model group by namespace and model_name", async () => {
    const d = {
      [QueryName.kvCacheUsage]: [
        v(0.5, L("p1")),
        v(0.7, { namespace: "other", model_name: "llama", pod: "p1" }),
        v(0.8, { namespace: "ns", model_name: "mistral", pod: "p2" }),
      ],
      [QueryName.queueLength]: [],
      [QueryName.sampleTime]: [v(1, L("p1")), v(1, { namespace: "ns", model_name: "mistral", pod: "p2" })],
    };
    const c = new ReplicaMetricsCollector({ source: new DataSource(d), lookup, clock: () => 1000 });
    const r = await c.collect(group);
    assert.ok(r.ok);
    assert.deepEqual(
      r.replicas.map((x) => [x.pod, x.kvCacheUsage]),
      [["p1", 0.5]],
    );
  });

  for (const mode of ["batch", "per-model"] as const) {
    it(`${mode}: a pod with an old sample, without a current sample or ready without any is stale, not a replica`, async () => {
      const lk = new InMemoryClusterLookup()
        .addReadyPod("ns", "llama-a100", "fresh")
        .addReadyPod("ns", "llama-a100", "old")
        .addReadyPod("ns", "llama-h100", "marked-stale")
        .addReadyPod("ns", "llama-h100", "never-scraped");
      const d = {
        [QueryName.kvCacheUsage]: [v(0.5, L("fresh")), v(0.9, L("old")), v(0.9, L("marked-stale"))],
        [QueryName.queueLength]: [v(0, L("fresh")), v(9, L("old")), v(9, L("marked-stale"))],
        // `marked-stale` answers max_over_time from before its outage but has no current sample
        [QueryName.sampleTime]: [v(100, L("fresh")), v(40, L("old"))],
      };
      const c = new ReplicaMetricsCollector({
        source: new DataSource(d),
        lookup: lk,
        mode,
        clock: () => 100_000,
        scrapeIntervalMs: 10_000,
      });
      const r = await c.collect(group);
      assert.ok(r.ok);
      assert.deepEqual(
        r.replicas.map((x) => x.pod),
        ["fresh"],
      );
      assert.deepEqual(r.stale, [
        { pod: "marked-stale", variant: "va-h100", reason: "no current sample" },
        { pod: "never-scraped", variant: "va-h100", reason: "no current sample" },
        { pod: "old", variant: "va-a100", reason: "newest sample 60 s old (bound 30 s)" },
      ]);
    });
  }

  it("a pod the source could not read is stale with what happened", async () => {
    const src = new DataSource(data);
    const failing = Object.assign(src, {
      podFailures: () => [
        { pod: "p2", namespace: "ns", error: "HTTP 500 from http://10.0.0.2:8000/metrics" },
        { pod: "p2", namespace: "other-ns", error: "ignored: another namespace" },
      ],
    });
    const c = new ReplicaMetricsCollector({ source: failing, lookup, clock: () => 1000 });
    const r = await c.collect(group);
    assert.ok(r.ok);
    assert.deepEqual(r.stale, [
      { pod: "p2", variant: "va-h100", reason: "HTTP 500 from http://10.0.0.2:8000/metrics" },
    ]);
    assert.deepEqual(
      r.replicas.map((x) => x.pod),
      ["p1"],
    );
  });

  it("group keys are modelID|namespace", () => {
    assert.equal(groupKey("llama-8b", "default"), "llama-8b|default");
  });
});
