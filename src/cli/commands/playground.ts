import { Option, type Command } from "commander";
import { DurationError, parseDuration } from "../../util/duration.js";
import { UsageError } from "../usage-error.js";
import { DEFAULT_KNOBS, defaultScenario, type PlaygroundKnobs } from "../../playground/runner/defaults.js";
import {
  loadScenarioFile,
  NODE_SPEC_PATTERN,
  ScenarioError,
  type Scenario,
} from "../../playground/runner/scenario.js";
import { inProcessManager } from "../../playground/runner/controller.js";
import { firstScaleUp } from "../../playground/runner/report.js";
import { runPlayground } from "../../playground/runner/run.js";
import { startDashboard, type Dashboard } from "../../views/dashboard.js";

interface PlaygroundOptions {
  scenario?: string;
  report?: string;
  duration: string;
  interval: string;
  actuation: string;
  lowRate: string;
  highRate: string;
  stepAt: string;
  highFor: string;
  startupDelay: string;
  nodes: string;
  kubeconfig?: string;
  table: boolean;
  check?: boolean;
  logFile?: string;
  seed: string;
  dashboard?: string | true;
}

const fmt = (ms: number) => `${ms / 1000}s`;

function durationFlag(flag: string, text: string, allowZero = false): number {
  let v: number;
  try {
    v = parseDuration(text);
  } catch (err) {
    if (err instanceof DurationError) throw new UsageError(`${flag}: ${err.message}`);
    throw err;
  }
  if (v < 0 || (!allowZero && v === 0))
    throw new UsageError(`${flag}: must be a positive duration, got ${text}`);
  return v;
}

/** The `--dashboard [PORT]` value: a TCP port, 0 or no value for a free one. */
export function dashboardPort(value: string | true): number {
  if (value === true) return 0;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535)
    throw new UsageError(`--dashboard: must be a TCP port 0-65535 (0: a free one), got ${value}`);
  return port;
}

function rateFlag(flag: string, text: string): number {
  const v = Number(text);
  if (text.trim() === "" || !Number.isFinite(v) || v < 0)
    throw new UsageError(`${flag}: must be a number of requests per second >= 0, got ${text}`);
  return v;
}

/** Builds the trial from the flags: the scenario file (flags given explicitly override it) or the default. */
export function scenarioFromOptions(opts: PlaygroundOptions, explicit: (name: string) => boolean): Scenario {
  if (opts.actuation !== "hpa" && opts.actuation !== "direct")
    throw new UsageError(`--actuation: must be hpa or direct, got ${opts.actuation}`);
  const actuation = opts.actuation;
  if (opts.scenario !== undefined) {
    let s: Scenario;
    try {
      s = loadScenarioFile(opts.scenario);
    } catch (err) {
      if (err instanceof ScenarioError) throw new UsageError(`scenario ${opts.scenario}: ${err.message}`);
      throw err;
    }
    if (explicit("duration")) s.durationMs = durationFlag("--duration", opts.duration);
    if (explicit("interval")) s.engineIntervalMs = durationFlag("--interval", opts.interval);
    if (explicit("actuation")) s.actuation = actuation;
    return s;
  }
  const nodes = opts.nodes.split(",").map((n) => n.trim());
  for (const n of nodes)
    if (!NODE_SPEC_PATTERN.test(n))
      throw new UsageError(
        `--nodes: ${JSON.stringify(n)} must be COUNTxACCELERATOR:GPUS, for example 2xH100:8`,
      );
  const knobs: PlaygroundKnobs = {
    durationMs: durationFlag("--duration", opts.duration),
    engineIntervalMs: durationFlag("--interval", opts.interval),
    actuation,
    lowRate: rateFlag("--low-rate", opts.lowRate),
    highRate: rateFlag("--high-rate", opts.highRate),
    stepAtMs: durationFlag("--step-at", opts.stepAt),
    highForMs: durationFlag("--high-for", opts.highFor, true),
    startupDelayMs: durationFlag("--startup-delay", opts.startupDelay, true),
    nodes,
  };
  if (knobs.stepAtMs >= knobs.durationMs)
    throw new UsageError(`--step-at: must be shorter than --duration (${fmt(knobs.durationMs)})`);
  try {
    return defaultScenario(knobs);
  } catch (err) {
    if (err instanceof ScenarioError) throw new UsageError(`--nodes: ${err.message}`);
    throw err;
  }
}

export function register(program: Command): void {
  const d = DEFAULT_KNOBS;
  program
    .command("playground")
    .description(
      "Run WVA end to end on this machine against emulators: a loopback Kubernetes API emulator with GPU " +
        "nodes, one vLLM emulator per pod, a load generator, and the WVA controller manager in-process. " +
        "Without --scenario: one model, two variants of different cost, a load step, and a live table. " +
        "It is an emulator for trying WVA out and for scripted trials, never a production cluster.",
    )
    .option(
      "--scenario <file>",
      "run a scripted trial from a scenario YAML file (see docs/user-guide/playground.md)",
    )
    .option("--report <file>", "write the trial report (JSON) to this file when the run ends")
    .option(
      "--duration <duration>",
      "how long to run before stopping by itself (Ctrl-C stops earlier)",
      fmt(d.durationMs),
    )
    .option("--interval <duration>", "engine interval (GLOBAL_OPT_INTERVAL)", fmt(d.engineIntervalMs))
    .addOption(
      new Option(
        "--actuation <mode>",
        "hpa: emulated HPA follows wva_desired_replicas; direct: WVA scales itself",
      )
        .choices(["hpa", "direct"])
        .default(d.actuation),
    )
    .option("--low-rate <req/s>", "request rate before and after the load step", String(d.lowRate))
    .option("--high-rate <req/s>", "request rate during the load step", String(d.highRate))
    .option("--step-at <duration>", "when the load steps up", fmt(d.stepAtMs))
    .option("--high-for <duration>", "how long the high rate lasts", fmt(d.highForMs))
    .option(
      "--startup-delay <duration>",
      "pod start-up time before Ready (model loading)",
      fmt(d.startupDelayMs),
    )
    .option("--nodes <spec>", "GPU nodes, COUNTxACCELERATOR:GPUS separated by commas", d.nodes.join(","))
    .option("--kubeconfig <file>", "also write the emulator's kubeconfig here (for kubectl get va)")
    .option("--check", "validate the scenario (or flags), print it with defaults applied as JSON, and exit")
    .option(
      "--log-file <file>",
      "write the manager's and the emulator's logs (readable text lines) to this file",
    )
    .option("--seed <n>", "seed of the random arrivals and token sizes", "1")
    .option("--no-table", "print one line per variant and cycle instead of refreshing the table")
    .option(
      "--dashboard [port]",
      "serve a live dashboard on 127.0.0.1 (a free port unless PORT is given) and print its URL",
    )
    .addHelpText(
      "after",
      "\nWith --scenario, --duration, --interval and --actuation given on the command line override the file;" +
        "\nthe other load and node flags apply to the default playground only. Exit status: 0 done, 2 invalid" +
        "\nscenario or flag (one line naming the field), 1 runtime failure.",
    )
    .action(async (opts: PlaygroundOptions, cmd: Command) => {
      const scenario = scenarioFromOptions(opts, (name) => cmd.getOptionValueSource(name) === "cli");
      if (opts.check) {
        process.stdout.write(`${JSON.stringify(scenario, null, 2)}\n`);
        return;
      }
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed)) throw new UsageError(`--seed: must be an integer, got ${opts.seed}`);
      const port = opts.dashboard === undefined ? undefined : dashboardPort(opts.dashboard);
      let dashboard: Dashboard | undefined;
      if (port !== undefined) {
        try {
          dashboard = await startDashboard({ port });
        } catch (err) {
          throw new UsageError(`--dashboard: cannot listen on 127.0.0.1:${port}: ${(err as Error).message}`);
        }
        process.stdout.write(`playground: live dashboard at ${dashboard.url}\n`);
      }
      const stopped = new AbortController();
      const onSignal = () => {
        if (stopped.signal.aborted) process.exit(130); // a second Ctrl-C does not wait
        process.stderr.write("\nstopping...\n");
        stopped.abort();
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      try {
        const report = await runPlayground(scenario, {
          reportPath: opts.report,
          kubeconfigPath: opts.kubeconfig,
          logFile: opts.logFile,
          seed,
          table: opts.table && process.stdout.isTTY === true,
          out: process.stdout,
          signal: stopped.signal,
          handleSignals: false,
          controller: inProcessManager,
          observer: dashboard,
        });
        dashboard?.end(report);
        const lines = [
          "",
          `${scenario.name}: ${stopped.signal.aborted ? "stopped early" : "done"} after ${report.duration}s, ${report.cycles.length} engine cycles`,
        ];
        for (const m of report.models) {
          lines.push(
            `  ${m.namespace}/${m.modelID}: requests sent ${m.requests.sent}, completed ${m.requests.completed}, failed ${m.requests.failed}; ` +
              `TTFT p50/p95/p99 ${m.ttftMs.p50}/${m.ttftMs.p95}/${m.ttftMs.p99} ms; ITL p50/p95/p99 ${m.itlMs.p50}/${m.itlMs.p95}/${m.itlMs.p99} ms`,
          );
        }
        const first = [...firstScaleUp(report)]
          .filter(([, t]) => t !== undefined)
          .sort((a, b) => a[1]! - b[1]!);
        if (first.length > 0)
          lines.push(`  first scale-up: ${first.map(([v, t]) => `${v} at ${t}s`).join(", ")}`);
        if (opts.report) lines.push(`  report written to ${opts.report}`);
        process.stdout.write(`${lines.join("\n")}\n`);
      } finally {
        await dashboard?.close();
        process.removeListener("SIGINT", onSignal);
        process.removeListener("SIGTERM", onSignal);
      }
    });
}
