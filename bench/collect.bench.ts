// Metrics collection against a real Prometheus: Prometheus queries per engine cycle and collection time for
// 5, 50 and 500 models (2 pods each), batch mode (one query per metric for all models) versus per-model mode
// (one query per metric and model). A synthetic exporter serves vLLM's metric names for all pods.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { InMemoryClusterLookup } from "../src/collect/cluster.js";
import { ReplicaMetricsCollector, type VariantInfo } from "../src/collect/collector.js";
import { PrometheusSource } from "../src/collect/prometheus/source.js";
import type { ModelGroup } from "../src/types/decision.js";
import { findPrometheus } from "../test/support/tools.js";
import { promQuery, startPrometheus } from "../test/support/prometheus.js";
import { median, type BenchTable } from "./table.js";

const PODS_PER_MODEL = 2;
const CYCLES = 5;

function exposition(models: number, tick: number): string {
  const lines: string[] = [];
  const fam = (
    name: string,
    type: string,
    f: (ns: string, m: string, pod: string, i: number) => string[],
  ) => {
    lines.push(`# HELP ${name} synthetic`, `# TYPE ${name} ${type}`);
    for (let i = 0; i < models; i++) {
      for (let p = 0; p < PODS_PER_MODEL; p++) {
        lines.push(...f(`ns-${i % 10}`, `model-${i}`, `model-${i}-pod-${p}`, i * PODS_PER_MODEL + p));
      }
    }
  };
  const L = (ns: string, m: string, pod: string) => `namespace="${ns}",model_name="${m}",pod="${pod}"`;
  fam("vllm:kv_cache_usage_perc", "gauge", (ns, m, pod, i) => [
    `vllm:kv_cache_usage_perc{${L(ns, m, pod)}} ${((i * 7 + tick) % 100) / 100}`,
  ]);
  fam("vllm:num_requests_waiting", "gauge", (ns, m, pod, i) => [
    `vllm:num_requests_waiting{${L(ns, m, pod)}} ${(i + tick) % 5}`,
  ]);
  fam("vllm:cache_config_info", "gauge", (ns, m, pod) => [
    `vllm:cache_config_info{${L(ns, m, pod)},num_gpu_blocks="2000",block_size="16"} 1`,
  ]);
  for (const h of ["vllm:request_prompt_tokens", "vllm:request_generation_tokens"]) {
    fam(h, "histogram", (ns, m, pod) => [
      `${h}_bucket{${L(ns, m, pod)},le="+Inf"} ${tick * 10}`,
      `${h}_sum{${L(ns, m, pod)}} ${tick * 10 * 256}`,
      `${h}_count{${L(ns, m, pod)}} ${tick * 10}`,
    ]);
  }
  fam("vllm:prefix_cache_queries_total", "counter", (ns, m, pod) => [
    `vllm:prefix_cache_queries_total{${L(ns, m, pod)}} ${tick * 100}`,
  ]);
  fam("vllm:prefix_cache_hits_total", "counter", (ns, m, pod) => [
    `vllm:prefix_cache_hits_total{${L(ns, m, pod)}} ${tick * 30}`,
  ]);
  return `${lines.join("\n")}\n`;
}

async function exporter(models: number): Promise<{ target: string; close: () => Promise<void> }> {
  let tick = 1;
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(exposition(models, tick++));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    target: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export async function run(): Promise<BenchTable[]> {
  const bin = findPrometheus();
  if (!bin) {
    return [
      {
        title: "Metrics collection (skipped)",
        columns: ["note"],
        rows: [["prometheus binary not found; apt-get install -y prometheus"]],
      },
    ];
  }
  const rows: Array<Array<string | number>> = [];
  for (const models of [5, 50, 500]) {
    const exp = await exporter(models);
    const prom = await startPrometheus(bin, [{ target: exp.target }]);
    try {
      // rate() needs two samples in its window
      for (;;) {
        const r = await promQuery(prom.url, "count_over_time(vllm:prefix_cache_hits_total[5m])");
        if (r.length === models * PODS_PER_MODEL && r.every((s) => Number(s.value[1]) >= 2)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const lookup = new InMemoryClusterLookup();
      const groups: ModelGroup<VariantInfo>[] = [];
      for (let i = 0; i < models; i++) {
        const ns = `ns-${i % 10}`;
        for (let p = 0; p < PODS_PER_MODEL; p++)
          lookup.addDeploymentPod(ns, `model-${i}-v`, `model-${i}-pod-${p}`);
        groups.push({
          modelID: `model-${i}`,
          namespace: ns,
          variants: [{ name: `model-${i}-va`, namespace: ns, deployment: `model-${i}-v` }],
        });
      }
      for (const mode of ["batch", "per-model"] as const) {
        const source = new PrometheusSource({ config: { baseURL: prom.url } });
        const collector = new ReplicaMetricsCollector({ source, lookup, mode });
        const times: number[] = [];
        let replicas = 0;
        let requests = 0;
        let failed = 0;
        for (let c = 0; c < CYCLES; c++) {
          const before = source.requestCount;
          const t0 = performance.now();
          const out = await collector.collectAll(groups);
          times.push(performance.now() - t0);
          requests = source.requestCount - before;
          replicas = 0;
          failed = 0;
          for (const r of out.values()) {
            if (r.ok) replicas += r.replicas.length;
            else failed++;
          }
        }
        source.close();
        rows.push([
          models,
          mode,
          collector.lastQueryCount,
          requests,
          replicas,
          failed,
          median(times),
          Math.min(...times),
        ]);
      }
    } finally {
      await prom.stop();
      await exp.close();
    }
  }
  return [
    {
      title: "Metrics collection per engine cycle against a real Prometheus 2.42 (2 pods per model)",
      columns: [
        "models",
        "mode",
        "queries/cycle",
        "HTTP requests",
        "replicas",
        "failed groups",
        "median ms",
        "min ms",
      ],
      rows,
      note: `Median and minimum over ${CYCLES} cycles; per-model mode runs at most 16 queries at once. A cycle refreshes KV, queue, cache config, input/output tokens and prefix hit rate.`,
    },
  ];
}
