import { normalizeScenario, type Scenario } from "./scenario.js";

/** Knobs of the default playground (`npm start` / `wva playground` without `--scenario`). */
export interface PlaygroundKnobs {
  durationMs: number;
  engineIntervalMs: number;
  actuation: "hpa" | "direct";
  lowRate: number;
  highRate: number;
  /** When the load steps from the low to the high rate, ms. */
  stepAtMs: number;
  /** How long the high rate lasts, ms; afterwards the load returns to the low rate. */
  highForMs: number;
  startupDelayMs: number;
  nodes: string[];
}

export const DEFAULT_KNOBS: PlaygroundKnobs = {
  durationMs: 180_000,
  engineIntervalMs: 5_000,
  actuation: "hpa",
  lowRate: 2,
  highRate: 24,
  stepAtMs: 20_000,
  highForMs: 100_000,
  startupDelayMs: 8_000,
  nodes: ["2xH100:8", "2xA100:8"],
};

/** Emulator parameters small enough that one replica saturates at a few requests per second. */
export const PLAYGROUND_EMULATOR = {
  maxBatch: 16,
  kvBlocks: 400,
  blockSize: 16,
  alpha: 6,
  beta: 0.05,
  gamma: 0.0006,
};

const sec = (ms: number) => `${ms}ms`;

/**
 * The default trial: one model served by two variants (A100 cheaper than H100), a low load that
 * steps up, stays high, then drops back.
 */
export function defaultScenario(k: PlaygroundKnobs): Scenario {
  const highEnd = k.stepAtMs + k.highForMs;
  const schedule = [{ rate: k.lowRate, duration: sec(k.stepAtMs) }];
  if (k.highForMs > 0) schedule.push({ rate: k.highRate, duration: sec(k.highForMs) });
  if (k.durationMs > highEnd) schedule.push({ rate: k.lowRate, duration: sec(k.durationMs - highEnd) });
  const emulator = PLAYGROUND_EMULATOR;
  return normalizeScenario({
    name: "playground",
    engineInterval: sec(k.engineIntervalMs),
    actuation: k.actuation,
    hpa: { stabilizationWindow: sec(2 * k.engineIntervalMs), tolerance: 0.1 },
    nodes: k.nodes,
    duration: sec(k.durationMs),
    models: [
      {
        modelID: "llama-3-8b",
        namespace: "playground",
        variants: [
          {
            name: "llama-3-8b-a100",
            accelerator: "A100",
            cost: 20,
            initialReplicas: 1,
            maxReplicas: 6,
            startupDelay: sec(k.startupDelayMs),
            emulator,
          },
          {
            name: "llama-3-8b-h100",
            accelerator: "H100",
            cost: 40,
            initialReplicas: 1,
            maxReplicas: 6,
            startupDelay: sec(k.startupDelayMs),
            emulator: { ...emulator, alpha: emulator.alpha * 0.6, gamma: emulator.gamma * 0.6 },
          },
        ],
        load: { tokens: { input: 256, output: 128 }, arrival: "poisson", schedule },
      },
    ],
  });
}
