// Decision time of the token-capacity analysis ("V2") plus the cost-aware optimizer for one cycle over
// N models × 4 variants × 8 replicas, with the capacity store kept across cycles as the controller does.
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import {
  CapacityStore,
  DEFAULT_VLLM_PARAMS,
  analyzeTokenCapacity,
  type TokenCapacityConfig,
  type TokenCapacityInput,
} from "../src/analyze/token-capacity/index.js";
import { optimizeCostAware, toCostAwareModel } from "../src/optimize/cost-aware/index.js";
import { buildModels } from "./engine.bench.js";
import { median, type BenchTable } from "./table.js";

const VARIANTS = 4;
const REPLICAS = 8;
const CONFIG: TokenCapacityConfig = {
  kvCacheThreshold: 0.8,
  queueLengthThreshold: 5,
  scaleUpThreshold: 0.85,
  scaleDownBoundary: 0.7,
};
const NOW = 1_700_000_000_000;

/** The engine bench's cluster with token metrics: KV usage becomes tokens in use. */
function buildInputs(count: number): TokenCapacityInput[] {
  return buildModels(count).map((m, i) => ({
    modelID: m.modelID,
    namespace: m.namespace,
    variants: m.variants.map((v, j) => (j % 2 === 0 ? { ...v, vllmParams: { ...DEFAULT_VLLM_PARAMS } } : v)),
    replicas: m.replicas.map((r, j) => {
      const totalKv = 16_000 * (1 + (j % 3));
      return {
        pod: r.pod,
        variant: r.variant,
        queueLength: r.queueLength,
        tokensInUse: Math.round(r.kvCacheUsage * totalKv),
        totalKvCapacityTokens: totalKv,
        avgInputTokens: 200 + (j % 5) * 100,
        avgOutputTokens: 50 + (j % 7) * 100,
        prefixCacheHitRate: 0.2,
      };
    }),
    schedulerQueue: i % 4 === 0 ? { size: 3, bytes: 6000 } : undefined,
  }));
}

interface Sample {
  wall: number;
  cpu: number;
}

function timeCycle(models: TokenCapacityInput[], store: CapacityStore, now: number): Sample {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  store.evict(now);
  for (const m of models) {
    optimizeCostAware(toCostAwareModel(analyzeTokenCapacity(m, CONFIG, store, now)));
  }
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

export async function run(): Promise<BenchTable[]> {
  const rows: Array<Array<string | number>> = [];
  for (const n of [10, 100, 1000]) {
    const models = buildInputs(n);
    const store = new CapacityStore();
    const runs = n >= 1000 ? 41 : 101;
    let now = NOW;
    for (let i = 0; i < 10; i++) timeCycle(models, store, (now += 30_000)); // warm-up (JIT, store filled)
    const samples: Sample[] = [];
    for (let i = 0; i < runs; i++) samples.push(timeCycle(models, store, (now += 30_000)));
    const wall = samples.map((s) => s.wall);
    const cpu = median(samples.map((s) => s.cpu));
    rows.push([n, n * VARIANTS * REPLICAS, runs, median(wall), Math.min(...wall), cpu, store.recordCount]);
  }
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(" / ");
  return [
    {
      title: "V2 decision time per cycle (ms): token-capacity analysis + cost-aware optimizer",
      columns: ["models", "replicas", "runs", "median", "min", "CPU time median", "capacity records"],
      rows,
      note:
        `Pure decision code (no I/O): ${VARIANTS} variants × ${REPLICAS} replicas per model, capacity store ` +
        `kept across cycles; goal < 20 ms median for 1,000 models. Node ${process.version}, ` +
        `${cpus().length} CPUs, load average ${load} (1/5/15 min) at the end of the run: on a shared machine ` +
        "the median includes time the process was not running; `min` approximates an idle machine.",
    },
  ];
}
