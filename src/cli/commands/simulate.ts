import type { Command } from "commander";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { loadScenarioFile, ScenarioError, type Scenario } from "../../playground/runner/scenario.js";
import { defaultPolicies, POLICY_NAMES } from "../../simulate/policies.js";
import { selectPolicies, simulate, UnknownPolicyError } from "../../simulate/simulate.js";
import { renderReportTable } from "../../simulate/table.js";
import { renderSimulationPage } from "../../views/page.js";
import { UsageError } from "../usage-error.js";

interface SimulateOptions {
  scenario?: string;
  policies?: string;
  seed: string;
  report?: string;
  html?: string;
  check?: boolean;
}

/** Validates the flags and the scenario; throws UsageError naming the field. */
export function simulateInput(opts: SimulateOptions): {
  scenario: Scenario;
  policies: string[];
  seed: number;
} {
  if (opts.scenario === undefined) throw new UsageError("--scenario: required (a scenario YAML file)");
  const given =
    opts.policies === undefined
      ? undefined
      : opts.policies
          .split(",")
          .map((p) => p.trim())
          .filter((p) => p !== "");
  if (given !== undefined) {
    if (given.length === 0)
      throw new UsageError(`--policies: give at least one of ${POLICY_NAMES.join(", ")}`);
    try {
      selectPolicies(given);
    } catch (err) {
      if (err instanceof UnknownPolicyError) throw new UsageError(`--policies: ${err.message}`);
      throw err;
    }
    if (new Set(given).size !== given.length) throw new UsageError("--policies: a policy is listed twice");
  }
  const seed = Number(opts.seed);
  if (opts.seed.trim() === "" || !Number.isSafeInteger(seed) || seed < 0)
    throw new UsageError(`--seed: must be an integer >= 0, got ${opts.seed}`);
  let scenario: Scenario;
  try {
    scenario = loadScenarioFile(opts.scenario);
  } catch (err) {
    if (err instanceof ScenarioError) throw new UsageError(`scenario ${opts.scenario}: ${err.message}`);
    throw err;
  }
  const policies = given ?? defaultPolicies(scenario);
  return { scenario, policies, seed };
}

export function register(program: Command): void {
  program
    .command("simulate")
    .description(
      "Replay a playground scenario in virtual time through a discrete-event simulator (the vLLM " +
        "emulator's performance model, the WVA decision engine, the emulated HPA) and compare the cost " +
        "and SLO attainment of several autoscaling policies on identical arrivals.",
    )
    .option("--scenario <file>", "scenario YAML file (see docs/user-guide/simulate.md)")
    .option(
      "--policies <list>",
      `policies to compare, comma-separated, of ${POLICY_NAMES.join(", ")} (default: all; wva-always-on only for a scenario with scale-to-zero)`,
    )
    .option("--seed <n>", "seed of the random arrivals and token sizes", "1")
    .option("--report <file>", "write the report (JSON) with per-cycle timelines to this file")
    .option("--html <file>", "write the comparison as a self-contained HTML page (as wva report view does)")
    .option("--check", "validate the scenario and flags, print the scenario with defaults applied, and exit")
    .addHelpText(
      "after",
      "\nExit status: 0 done, 2 invalid scenario or flag (one line naming the field), 1 runtime failure.",
    )
    .action((opts: SimulateOptions) => {
      const { scenario, policies, seed } = simulateInput(opts);
      if (opts.check) {
        process.stdout.write(`${JSON.stringify(scenario, null, 2)}\n`);
        return;
      }
      const started = performance.now();
      const tty = process.stderr.isTTY === true;
      let lastLine = 0;
      const report = simulate(scenario, {
        policies,
        seed,
        onProgress: (policy, f) => {
          const now = performance.now();
          if (now - lastLine < (tty ? 200 : 5000) && f < 1) return;
          lastLine = now;
          const text = `simulate: ${policy} ${Math.round(f * 100)}% (${((now - started) / 1000).toFixed(1)}s)`;
          process.stderr.write(tty ? `\r\x1b[K${text}` : `${text}\n`);
        },
      });
      const wall = (performance.now() - started) / 1000;
      process.stderr.write(
        `${tty ? "\r\x1b[K" : ""}simulate: ${policies.length} policies, ${scenario.durationMs / 1000}s simulated in ${wall.toFixed(1)}s\n`,
      );
      process.stdout.write(`${renderReportTable(report)}\n`);
      if (opts.report) {
        mkdirSync(dirname(opts.report), { recursive: true });
        writeFileSync(opts.report, `${JSON.stringify(report)}\n`);
        process.stdout.write(`report written to ${opts.report}\n`);
      }
      if (opts.html) {
        mkdirSync(dirname(opts.html), { recursive: true });
        writeFileSync(opts.html, renderSimulationPage(report));
        process.stdout.write(`page written to ${opts.html}\n`);
      }
    });
}
