// `wva simulate` speed and memory: the one-hour Azure code trace (examples/scenarios/trace-replay.yaml,
// two variants) through all five policies, and a synthetic 24-hour Poisson load at 50 req/s through
// three variants (the wva policy). Simulated seconds per wall second count every policy's trial.
import { performance } from "node:perf_hooks";
import { loadScenarioFile, normalizeScenario, type Scenario } from "../src/playground/runner/scenario.js";
import { POLICY_NAMES } from "../src/simulate/policies.js";
import { simulate } from "../src/simulate/simulate.js";
import type { BenchTable } from "./table.js";

/** A day of Poisson arrivals at 50 req/s on one model served by three variants. */
export function syntheticDay(hours = 24): Scenario {
  const emulator = { maxBatch: 64, kvBlocks: 4000, blockSize: 16 };
  return normalizeScenario({
    name: "synthetic-day",
    engineInterval: "15s",
    nodes: ["8xL40S:8", "8xA100:8", "8xH100:8"],
    duration: `${hours}h`,
    models: [
      {
        modelID: "m",
        namespace: "bench",
        slo: { ttftMs: 1000, itlMs: 60 },
        variants: [
          {
            name: "m-l40s",
            accelerator: "L40S",
            cost: 10,
            maxReplicas: 32,
            startupDelay: "60s",
            emulator: { ...emulator, alpha: 8, beta: 0.06, gamma: 0.0008 },
          },
          {
            name: "m-a100",
            accelerator: "A100",
            cost: 20,
            maxReplicas: 32,
            startupDelay: "60s",
            emulator: { ...emulator, alpha: 6, beta: 0.05, gamma: 0.0006 },
          },
          {
            name: "m-h100",
            accelerator: "H100",
            cost: 40,
            maxReplicas: 32,
            startupDelay: "60s",
            emulator: { ...emulator, alpha: 4, beta: 0.04, gamma: 0.0004 },
          },
        ],
        load: { tokens: { input: 256, output: 64 }, schedule: [{ rate: 50, duration: `${hours}h` }] },
      },
    ],
  });
}

function measure(title: string, scenario: Scenario, policies: readonly string[]): Array<string | number> {
  const t0 = performance.now();
  const r = simulate(scenario, { policies, seed: 1 });
  const wall = (performance.now() - t0) / 1000;
  const simulated = (scenario.durationMs / 1000) * policies.length;
  const requests = r.policies.reduce((s, p) => s + p.requests.sent, 0);
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  return [title, policies.length, requests, wall, Math.round(simulated / wall), Math.round(peakRssMb)];
}

export async function run(): Promise<BenchTable[]> {
  const rows = [
    measure(
      "trace-replay.yaml (1 h trace, 2 variants)",
      loadScenarioFile("examples/scenarios/trace-replay.yaml"),
      POLICY_NAMES,
    ),
    measure(
      "synthetic 24 h Poisson 50 req/s (3 variants)",
      syntheticDay(Number(process.env.WVA_BENCH_HOURS ?? 24)),
      ["wva"],
    ),
  ];
  return [
    {
      title: "wva simulate",
      columns: ["trial", "policies", "requests", "wall s", "simulated s / wall s", "peak RSS MB"],
      rows,
      note: "Goals: the trace under 20 s; the day under 180 s with a peak RSS under 1 GB.",
    },
  ];
}
