import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { DurationError, parseDuration } from "../../util/duration.js";
import {
  LOAD_LIMITS,
  LoadSpecError,
  checkRate,
  constantArrivals,
  parseSchedule,
  parseTokenDist,
  poissonArrivals,
  seededRandom,
  stepArrivals,
  traceArrivals,
  type Arrival,
} from "../../playground/load/patterns.js";
import { formatReport, runLoad, type LoadProgress } from "../../playground/load/runner.js";
import { formatEta, ProgressLine } from "../../util/progress.js";
import { UsageError } from "../usage-error.js";

interface LoadCliOptions {
  target?: string;
  model?: string;
  pattern: string;
  rate?: string;
  duration?: string;
  schedule?: string;
  trace?: string;
  timeCompression: string;
  rateScale: string;
  maxInputTokens?: string;
  maxOutputTokens?: string;
  input: string;
  output: string;
  seed: string;
  endpoint: string;
  timeout: string;
  json?: boolean;
  progress?: boolean;
}

/** The progress line of `wva load`: counts, elapsed time and the time left until the last request is sent. */
export function loadProgressText(p: LoadProgress): string {
  const inFlight = p.sent - p.completed - p.failed;
  const eta =
    p.sent < p.total ? `ETA ${formatEta(p.lastArrivalMs - p.elapsedMs)}` : `finishing ${inFlight} in flight`;
  return (
    `load: sent ${p.sent}/${p.total}, completed ${p.completed}, failed ${p.failed}, in flight ${inFlight}, ` +
    `${formatEta(p.elapsedMs)} elapsed, ${eta}`
  );
}

const PATTERNS = ["constant", "poisson", "step", "trace"];

function positive(field: string, v: string | undefined, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(v);
  if (v === undefined || v.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`--${field}: must be a number > 0, got "${v ?? ""}"`);
  }
  if (n > max) throw new UsageError(`--${field}: must be at most ${max}, got "${v}"`);
  return n;
}

function duration(field: string, v: string | undefined, maxMs: number, maxText: string): number {
  if (v === undefined) throw new UsageError(`--${field}: required (a duration such as 60s or 2m)`);
  let ms: number;
  try {
    ms = parseDuration(v);
    if (ms <= 0) throw new DurationError("must be > 0");
  } catch (e) {
    throw new UsageError(`--${field}: ${(e as Error).message}`);
  }
  if (ms > maxMs) throw new UsageError(`--${field}: must be at most ${maxText}, got "${v}"`);
  return ms;
}

const runDuration = (v: string | undefined) => duration("duration", v, LOAD_LIMITS.maxDurationMs, "24h");

/** Rate and duration of the constant and Poisson patterns, checked against the limits with the flags named. */
function rateAndDuration(o: LoadCliOptions): [number, number] {
  const rate = positive("rate", o.rate, LOAD_LIMITS.maxRate);
  const ms = runDuration(o.duration);
  try {
    checkRate(rate, ms);
  } catch (e) {
    throw new UsageError(`--${(e as Error).message.replace("rate × duration", "rate × --duration")}`);
  }
  return [rate, ms];
}

/** Builds the arrivals from the CLI options; throws UsageError naming the field on bad input. */
export function arrivalsFromOptions(o: LoadCliOptions): {
  arrivals: Arrival[];
  info?: Record<string, unknown>;
} {
  if (!PATTERNS.includes(o.pattern))
    throw new UsageError(`--pattern: must be one of ${PATTERNS.join(", ")}, got "${o.pattern}"`);
  const seed = Number(o.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed: must be an integer, got "${o.seed}"`);
  const rng = seededRandom(seed);
  try {
    const tokens = {
      input: parseTokenDist(o.input, "--input"),
      output: parseTokenDist(o.output, "--output"),
    };
    switch (o.pattern) {
      case "constant":
        return { arrivals: constantArrivals(...rateAndDuration(o), tokens, rng) };
      case "poisson":
        return { arrivals: poissonArrivals(...rateAndDuration(o), tokens, rng) };
      case "step": {
        if (!o.schedule)
          throw new UsageError(
            '--schedule: required for --pattern step, e.g. "[[30,2],[60,20]]" ([seconds, req/s])',
          );
        return { arrivals: stepArrivals(parseSchedule(o.schedule), tokens, rng) };
      }
      default: {
        if (!o.trace)
          throw new UsageError(
            "--trace: required for --pattern trace (a CSV with TIMESTAMP,ContextTokens,GeneratedTokens)",
          );
        let csv: string;
        try {
          csv = readFileSync(o.trace, "utf8");
        } catch (e) {
          throw new UsageError(`--trace: cannot read "${o.trace}": ${(e as Error).message}`);
        }
        const { arrivals, info } = traceArrivals(
          csv,
          {
            timeCompression: positive("time-compression", o.timeCompression),
            rateScale: positive("rate-scale", o.rateScale, LOAD_LIMITS.maxRateScale),
            durationMs: o.duration ? runDuration(o.duration) : undefined,
            maxInputTokens: o.maxInputTokens
              ? positive("max-input-tokens", o.maxInputTokens, LOAD_LIMITS.maxTokens)
              : undefined,
            maxOutputTokens: o.maxOutputTokens
              ? positive("max-output-tokens", o.maxOutputTokens, LOAD_LIMITS.maxTokens)
              : undefined,
          },
          rng,
        );
        return { arrivals, info: { ...info } };
      }
    }
  } catch (e) {
    if (e instanceof LoadSpecError) {
      // errors of the pattern's own input (schedule, trace) are prefixed with its flag
      const flag = o.pattern === "step" ? "--schedule" : "--trace";
      throw new UsageError(e.message.startsWith("--") ? e.message : `${flag}: ${e.message}`);
    }
    throw e;
  }
}

/** `wva load`: drives an OpenAI-compatible server with a load pattern and prints a summary. */
export function register(program: Command): void {
  program
    .command("load")
    .description("send load to an OpenAI-compatible server (vLLM or the emulator) and report latencies")
    .option("--target <url>", "server base URL, e.g. http://127.0.0.1:8000 (required)")
    .option("--model <model>", "model id (required)")
    .option("--pattern <p>", `arrival pattern: ${PATTERNS.join("|")}`, "constant")
    .option("--rate <r>", "requests per second (constant, poisson)")
    .option("--duration <d>", "how long to send, e.g. 60s (constant, poisson; optional cut-off for trace)")
    .option("--schedule <json>", "step pattern: [[seconds, req/s], ...]")
    .option("--trace <file>", "trace pattern: CSV with TIMESTAMP,ContextTokens,GeneratedTokens")
    .option("--time-compression <c>", "trace: divide the trace's time axis by c", "1")
    .option("--rate-scale <s>", "trace: requests per trace row on average", "1")
    .option("--max-input-tokens <n>", "trace: cap prompt tokens")
    .option("--max-output-tokens <n>", "trace: cap output tokens")
    .option("--input <dist>", "prompt tokens: N | uniform:A-B | normal:M,SD | exp:M", "256")
    .option("--output <dist>", "output tokens: N | uniform:A-B | normal:M,SD | exp:M", "128")
    .option("--seed <n>", "random seed", "1")
    .option("--endpoint <e>", "completions | chat", "completions")
    .option("--timeout <d>", "per-request timeout", "180s")
    .option("--json", "print the report as JSON")
    .option("--progress", "show a progress line with an ETA on stderr (default: only on a terminal)")
    .option("--no-progress", "never show the progress line")
    .action(async (o: LoadCliOptions, cmd: Command) => {
      if (!o.target) throw new UsageError("--target: required (server base URL)");
      try {
        const u = new URL(o.target);
        if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("scheme");
      } catch {
        throw new UsageError(`--target: must be an http(s) URL, got "${o.target}"`);
      }
      if (!o.model) throw new UsageError("--model: required (the model id)");
      if (o.endpoint !== "completions" && o.endpoint !== "chat") {
        throw new UsageError(`--endpoint: must be completions or chat, got "${o.endpoint}"`);
      }
      const { arrivals, info } = arrivalsFromOptions(o);
      const timeoutMs = duration("timeout", o.timeout, LOAD_LIMITS.maxTimeoutMs, "1h");
      const ac = new AbortController();
      const onSignal = () => ac.abort(new Error("interrupted"));
      process.once("SIGINT", onSignal);
      const tty = process.stderr.isTTY === true;
      const line = (o.progress ?? tty) ? new ProgressLine(process.stderr, { tty }) : undefined;
      let latest: LoadProgress | undefined;
      const show = () =>
        latest && line?.update(loadProgressText({ ...latest, elapsedMs: performance.now() - t0 }));
      const t0 = performance.now();
      const ticker = line ? setInterval(show, 1000) : undefined;
      const report = await runLoad({
        target: o.target,
        model: o.model,
        arrivals,
        pattern: o.pattern,
        endpoint: o.endpoint,
        timeoutMs,
        signal: ac.signal,
        info,
        onProgress: (p) => {
          latest = p;
          show();
        },
      }).finally(() => {
        clearInterval(ticker);
        line?.clear();
      });
      process.off("SIGINT", onSignal);
      const json = o.json || (cmd.optsWithGlobals() as { json?: boolean }).json;
      process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
      if (report.requests.sent > 0 && report.requests.completed === 0) {
        throw new Error(`all ${report.requests.sent} request(s) failed`);
      }
    });
}
