// Decision time of the engine with the token-capacity analyzer ("V2", analyzerName: saturation): analysis,
// cost-aware optimizer and enforcer for one cycle over N models × 4 variants × 8 replicas, with the
// capacity store kept across cycles as the controller does.
import { execFileSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { CapacityStore, DEFAULT_VLLM_PARAMS } from "../src/analyze/token-capacity/index.js";
import { MANAGER_NODE_FLAGS } from "../src/config/node-runtime.js";
import { applySaturationDefaults } from "../src/config/saturation.js";
import { decideCycle, type ModelInput } from "../src/engine/pipeline.js";
import { DEFAULT_SATURATION_CONFIG, type SaturationConfig } from "../src/engine/types.js";
import { buildModels } from "./engine.bench.js";
import { median, type BenchTable } from "./table.js";

const VARIANTS = 4;
const REPLICAS = 8;
const CONFIG: SaturationConfig = applySaturationDefaults({
  ...DEFAULT_SATURATION_CONFIG,
  analyzerName: "saturation",
});
const NOW = 1_700_000_000_000;

/** The engine bench's cluster with token metrics: KV usage becomes tokens in use. */
function buildInputs(count: number): ModelInput[] {
  return buildModels(count).map((m, i) => ({
    modelID: m.modelID,
    namespace: m.namespace,
    config: CONFIG,
    variants: m.variants,
    vllmParams: Object.fromEntries(
      m.variants.filter((_, j) => j % 2 === 0).map((v) => [v.name, { ...DEFAULT_VLLM_PARAMS }]),
    ),
    replicas: m.replicas.map((r, j) => {
      const totalKv = 16_000 * (1 + (j % 3));
      return {
        pod: r.pod,
        variant: r.variant,
        kvCacheUsage: r.kvCacheUsage,
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

function timeCycle(models: ModelInput[], store: CapacityStore, now: number): Sample {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  decideCycle({ models, enableLimiter: false }, { now, capacityStore: store });
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

/** One table row per model count, measured in this process. */
function measure(): Array<Array<string | number>> {
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
  return rows;
}

const CHILD = "--v2-bench-child";
if (process.argv.includes(CHILD)) process.stdout.write(JSON.stringify(measure()));

/** Measures in a fresh Node process started with `flags` (V8 heap flags apply only at start-up). */
function measureWith(flags: readonly string[]): Array<Array<string | number>> {
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx", ...flags, fileURLToPath(import.meta.url), CHILD],
    { encoding: "utf8", maxBuffer: 1 << 20 },
  );
  return JSON.parse(out) as Array<Array<string | number>>;
}

export async function run(): Promise<BenchTable[]> {
  const runtimes: Array<[string, readonly string[]]> = [
    [`manager (${MANAGER_NODE_FLAGS.join(" ")})`, MANAGER_NODE_FLAGS],
    ["node defaults", []],
  ];
  const rows: Array<Array<string | number>> = [];
  for (const [label, flags] of runtimes) for (const r of measureWith(flags)) rows.push([label, ...r]);
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(" / ");
  return [
    {
      title: "V2 decision time per cycle (ms): the engine with analyzerName saturation",
      columns: [
        "runtime",
        "models",
        "replicas",
        "runs",
        "median",
        "min",
        "CPU time median",
        "capacity records",
      ],
      rows,
      note:
        `Pure decision code (no I/O), through the engine pipeline (analysis, cost-aware optimizer, enforcer): ` +
        `${VARIANTS} variants × ${REPLICAS} replicas per model, capacity store ` +
        `kept across cycles; goal < 20 ms median for 1,000 models with the manager's runtime flags ` +
        `(docs/design/runtime.md); "node defaults" shows the same code without them. Node ${process.version}, ` +
        `${cpus().length} CPUs, load average ${load} (1/5/15 min) at the end of the run: on a shared machine ` +
        "the median includes time the process was not running; `min` approximates an idle machine.",
    },
  ];
}
