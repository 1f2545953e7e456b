import { resolve } from "node:path";
import type { Command } from "commander";
import {
  externalMetricsFrom,
  NodeSpecError,
  parseNodeSpec,
  startCluster,
  type NodeGroup,
} from "../../playground/cluster/index.js";
import { DurationError, parseDuration } from "../../util/duration.js";
import { UsageError } from "../usage-error.js";

interface UpOptions {
  kubeconfig?: string;
  port: string;
  gpuNodes: string;
  podStartupDelay: string;
  https?: boolean;
  requireAuth?: boolean;
  externalMetricsFrom?: string;
  hpaSyncPeriod: string;
}

export const DEFAULT_GPU_NODES = "2xH100:8";

function parsePort(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535)
    throw new UsageError(`--port: "${text}" must be an integer between 0 and 65535`);
  return Number(text);
}

function parseNodes(text: string): NodeGroup[] {
  try {
    const groups = parseNodeSpec(text);
    if (groups.length === 0)
      throw new UsageError("--gpu-nodes: must name at least one node group, e.g. 2xH100:8");
    return groups;
  } catch (err) {
    if (err instanceof NodeSpecError) throw new UsageError(err.message);
    throw err;
  }
}

function durationOption(flag: string, text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    if (err instanceof DurationError) throw new UsageError(`${flag}: ${err.message}`);
    throw err;
  }
}

/** `wva cluster up`: runs the playground API emulator in the foreground until SIGINT/SIGTERM. */
export function register(program: Command): void {
  const cluster = program
    .command("cluster")
    .description("the playground cluster: a loopback Kubernetes API emulator for tests and trials");
  cluster
    .command("up")
    .description("run the emulated cluster in the foreground and write a kubeconfig for kubectl")
    .option("--kubeconfig <file>", "where to write the kubeconfig (required)")
    .option("--port <port>", "TCP port on 127.0.0.1 (0 picks a free one)", "0")
    .option("--gpu-nodes <spec>", "nodes as COUNTxACCELERATOR:GPUS, comma separated", DEFAULT_GPU_NODES)
    .option("--pod-startup-delay <duration>", "time from container start to Ready (Go duration)", "5s")
    .option("--https", "serve HTTPS with a generated self-signed CA (written into the kubeconfig)")
    .option("--require-auth", "reject requests without the kubeconfig's bearer token")
    .option(
      "--external-metrics-from <url>",
      "serve external metrics (HPA, external.metrics.k8s.io) from a manager's /metrics URL or a Prometheus URL",
    )
    .option(
      "--hpa-sync-period <duration>",
      "how often the emulated HPA controller syncs (Go duration)",
      "15s",
    )
    .action(async (opts: UpOptions) => {
      if (!opts.kubeconfig) throw new UsageError("--kubeconfig: is required (the file to write)");
      const port = parsePort(opts.port);
      const nodes = parseNodes(opts.gpuNodes);
      const podStartupDelayMs = durationOption("--pod-startup-delay", opts.podStartupDelay);
      const syncPeriodMs = durationOption("--hpa-sync-period", opts.hpaSyncPeriod);
      if (syncPeriodMs <= 0)
        throw new UsageError(`--hpa-sync-period: "${opts.hpaSyncPeriod}" must be positive`);
      let provider;
      if (opts.externalMetricsFrom !== undefined) {
        try {
          provider = externalMetricsFrom(opts.externalMetricsFrom);
        } catch (err) {
          throw new UsageError(
            `--external-metrics-from: ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      }
      const kubeconfigPath = resolve(opts.kubeconfig);
      const c = await startCluster({
        port,
        kubeconfigPath,
        nodes,
        podStartupDelayMs,
        https: opts.https ?? false,
        requireAuth: opts.requireAuth ?? false,
        hpa: { syncPeriodMs, provider },
        log: (m) => process.stderr.write(`${m}\n`),
      });
      const total = nodes.reduce((a, g) => a + g.count, 0);
      process.stdout.write(
        `playground cluster (an emulator, not a real cluster) serving at ${c.url}\n` +
          `nodes: ${total} (${nodes.map((g) => `${g.count}x${g.product}:${g.gpus}`).join(", ")})\n` +
          `kubeconfig: ${kubeconfigPath}\n` +
          `external metrics: ${opts.externalMetricsFrom ?? "none (--external-metrics-from URL)"}\n` +
          `try: kubectl --kubeconfig ${kubeconfigPath} get nodes\n`,
      );
      await new Promise<void>((done) => {
        const shutdown = (signal: string) => {
          process.stdout.write(`${signal}: shutting down\n`);
          process.off("SIGINT", onInt);
          process.off("SIGTERM", onTerm);
          void c.stop().then(done, done);
        };
        const onInt = () => shutdown("SIGINT");
        const onTerm = () => shutdown("SIGTERM");
        process.on("SIGINT", onInt);
        process.on("SIGTERM", onTerm);
      });
    });
}
