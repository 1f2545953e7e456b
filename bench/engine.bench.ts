// Decision time of the pure engine (analysis → targets → enforcer → GPU limiter) for one cycle over
// N models × 4 variants × 8 replicas, median of several runs after a warm-up.
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { decideCycle, type ModelInput } from "../src/engine/pipeline.js";
import { DEFAULT_SATURATION_CONFIG, type ReplicaMetric, type VariantState } from "../src/engine/types.js";
import { median, type BenchTable } from "./table.js";

const VARIANTS = 4;
const REPLICAS = 8;
const ACCELERATORS = ["A100", "H100", "L40S", "MI300X"];

/** Deterministic pseudo-random numbers (LCG), so every run sees the same cluster. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function buildModels(count: number, seed = 42): ModelInput[] {
  const rand = rng(seed);
  const models: ModelInput[] = [];
  for (let m = 0; m < count; m++) {
    const modelID = `model-${m}`;
    const namespace = `ns-${m % 10}`;
    const variants: VariantState[] = [];
    const replicas: ReplicaMetric[] = [];
    for (let v = 0; v < VARIANTS; v++) {
      const name = `${modelID}-v${v}`;
      variants.push({
        name,
        namespace,
        modelID,
        accelerator: ACCELERATORS[v],
        cost: 5 + 5 * v,
        gpusPerReplica: 1 + (v % 2),
        current: REPLICAS,
        ready: REPLICAS,
        desired: rand() < 0.1 ? REPLICAS + 1 : 0,
      });
      for (let r = 0; r < REPLICAS; r++) {
        replicas.push({
          pod: `${name}-${r}`,
          variant: name,
          kvCacheUsage: Math.round(rand() * 100) / 100,
          queueLength: Math.floor(rand() * 8),
        });
      }
    }
    models.push({ modelID, namespace, variants, replicas, config: { ...DEFAULT_SATURATION_CONFIG } });
  }
  return models;
}

interface Sample {
  wall: number;
  cpu: number;
}

function timeCycle(models: ModelInput[], limiter: boolean): Sample {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  decideCycle(
    {
      models,
      enableLimiter: limiter,
      gpuInventory: limiter ? { A100: 5000, H100: 5000, L40S: 5000, MI300X: 5000 } : undefined,
    },
    { now: 1_700_000_000_000 },
  );
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

function measure(): Array<Array<string | number>> {
  const rows: Array<Array<string | number>> = [];
  for (const n of [10, 100, 1000]) {
    const models = buildModels(n);
    const runs = n >= 1000 ? 41 : 101;
    for (let i = 0; i < 10; i++) timeCycle(models, true); // warm-up (JIT)
    // off/on interleaved so that both see the same machine load
    const samples: Record<"off" | "on", Sample[]> = { off: [], on: [] };
    for (let i = 0; i < runs; i++) {
      samples.off.push(timeCycle(models, false));
      samples.on.push(timeCycle(models, true));
    }
    for (const mode of ["off", "on"] as const) {
      const wall = samples[mode].map((s) => s.wall);
      rows.push([
        n,
        n * VARIANTS * REPLICAS,
        mode,
        runs,
        median(wall),
        Math.min(...wall),
        median(samples[mode].map((s) => s.cpu)),
      ]);
    }
  }
  return rows;
}

export async function run(): Promise<BenchTable[]> {
  const rows = measure();
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(" / ");
  return [
    {
      title: "Engine decision time per cycle (ms)",
      columns: ["models", "replicas", "GPU limiter", "runs", "median", "min", "CPU time median"],
      rows,
      note:
        `Pure engine only (no I/O): ${VARIANTS} variants × ${REPLICAS} replicas per model; goal < 20 ms for ` +
        `1,000 models. Node ${process.version}, ${cpus().length} CPUs, load average ${load} (1/5/15 min) ` +
        "at the end of the run: on a shared machine the median includes time the process was not running; " +
        "`min` approximates an idle machine. CPU time includes garbage-collector threads.",
    },
  ];
}
