// Model-based optimizer: time to choose one allocation per model among its variants' sized candidates
// (unlimited and GPU-limited greedy), for N models × 4 variants (every third model with a maximum on one
// variant, so some candidates are mixes), median of several runs after a warm-up;
// and the time to size the candidates (queue-model binary searches), which the choice runs on.
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import {
  candidateAllocations,
  type ModelDemand,
  type VariantProfile,
} from "../src/optimize/allocation/allocation.js";
import {
  chooseAllocations,
  type ModelCandidates,
  type SolverOptions,
} from "../src/optimize/allocation/solver.js";
import { median, type BenchTable } from "./table.js";

const ACCELERATORS: Array<[string, number, number]> = [
  // accelerator, cost per replica, relative speed
  ["A100", 40, 1],
  ["H100", 100, 1.8],
  ["L40S", 32, 0.6],
  ["MI300X", 65, 1.4],
];

/** Deterministic pseudo-random numbers (LCG), so every run sees the same models. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function buildDemands(count: number, seed = 42): ModelDemand[] {
  const rand = rng(seed);
  const out: ModelDemand[] = [];
  for (let m = 0; m < count; m++) {
    const size = 0.5 + rand() * 2;
    const variants: VariantProfile[] = ACCELERATORS.map(([accelerator, cost, speed]) => ({
      name: `model-${m}-${accelerator.toLowerCase()}`,
      accelerator,
      costPerReplica: cost,
      gpusPerReplica: 1 + (m % 2),
      maxBatchSize: 64,
      params: { alpha: (6 * size) / speed, beta: (0.03 * size) / speed, gamma: (0.0002 * size) / speed },
      // every third model has a maximum of 2 on its A100 variant, so some candidates are mixes
      ...(m % 3 === 0 &&
        accelerator === "A100" && { bounds: [{ source: "annotation" as const, maxReplicas: 2 }] }),
    }));
    out.push({
      modelID: `model-${m}`,
      namespace: `ns-${m % 10}`,
      priority: 1 + (m % 3),
      targets: { ttftMs: 400 + Math.round(rand() * 600), itlMs: 40 + Math.round(rand() * 40) },
      load: {
        arrivalRatePerSec: Math.round(rand() * 400) / 10,
        avgInputTokens: 128 + Math.round(rand() * 1000),
        avgOutputTokens: 64 + Math.round(rand() * 400),
      },
      minReplicas: 1,
      current:
        rand() < 0.5 ? [{ variant: variants[m % 4].name, replicas: 1 + Math.floor(rand() * 6) }] : undefined,
      variants,
    });
  }
  return out;
}

function timeIt(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

export async function run(): Promise<BenchTable[]> {
  const rows: Array<Array<string | number>> = [];
  const sizing: Array<Array<string | number>> = [];
  for (const n of [100, 1000]) {
    const demands = buildDemands(n);
    // Sizing is memoised per (parameters, request size, targets): every timed pass shifts the prompt
    // length a little so that it sizes afresh; the last column repeats a pass (memo hits only).
    const size = (pass: number): ModelCandidates[] =>
      demands
        .map((d) => ({ ...d, load: { ...d.load, avgInputTokens: d.load.avgInputTokens + pass * 1e-3 } }))
        .map((demand) => ({ demand, ...candidateAllocations(demand) }));
    size(0); // warm-up (JIT)
    let models: ModelCandidates[] = [];
    const sizeRuns = 3;
    const sizeMs = median(Array.from({ length: sizeRuns }, (_, i) => timeIt(() => (models = size(i + 1)))));
    const memoMs = timeIt(() => size(sizeRuns));
    const candidates = models.reduce((s, m) => s + m.allocations.length, 0);
    sizing.push([
      n,
      n * ACCELERATORS.length,
      candidates,
      sizeRuns,
      sizeMs,
      (sizeMs / (n * ACCELERATORS.length)).toFixed(3),
      memoMs,
    ]);
    const modes: Array<[string, SolverOptions]> = [
      ["unlimited", {}],
      ["limited (None)", { gpuInventory: { A100: 2 * n, H100: n, L40S: n, MI300X: n } }],
      [
        "limited (PriorityRoundRobin)",
        {
          gpuInventory: { A100: n, H100: n / 2, L40S: n / 2, MI300X: n / 2 },
          bestEffort: "PriorityRoundRobin",
        },
      ],
    ];
    for (const [label, options] of modes) {
      for (let i = 0; i < 5; i++) chooseAllocations(models, options); // warm-up (JIT)
      const runs = 41;
      const samples = Array.from({ length: runs }, () => timeIt(() => chooseAllocations(models, options)));
      rows.push([n, n * ACCELERATORS.length, label, runs, median(samples), Math.min(...samples)]);
    }
  }
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(" / ");
  const machine = `Node ${process.version}, ${cpus().length} CPUs, load average ${load} (1/5/15 min).`;
  return [
    {
      title: "Model-based solver: choice of one allocation per model (ms)",
      columns: ["models", "variants", "mode", "runs", "median", "min"],
      rows,
      note: `Pure code on sized candidates; goal < 50 ms median for 1,000 models × 4 variants. ${machine}`,
    },
    {
      title: "Model-based solver: sizing the candidates (ms)",
      columns: ["models", "variants", "feasible candidates", "runs", "median", "per variant", "memoised"],
      rows: sizing,
      note:
        "Two binary searches on the queue model per variant (TTFT and ITL targets, relative tolerance 1e-6, " +
        "queue of 10 requests per batch slot). Depends only on the variant's own inputs. " +
        "Each timed pass sizes afresh; 'memoised' repeats a pass whose sizings are all remembered. " +
        "On a shared machine the medians include time the process was not running.",
    },
  ];
}
