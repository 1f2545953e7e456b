import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { stringify } from "yaml";
import { DEFAULT_SETTINGS } from "../../config/settings.js";
import { DurationError, parseDuration } from "../../util/duration.js";
import { checkTimerDelay, TimerDelayError } from "../../util/timer.js";
import { captureSnapshot } from "../snapshot/capture.js";
import { UsageError } from "../usage-error.js";

interface SnapshotCliOptions {
  kubeconfig?: string;
  prometheus?: string;
  output?: string;
  namespace: string;
  configMap: string;
  saturationConfigMap: string;
  controllerInstance: string;
  watchNamespace: string;
  timeout: string;
}

/** `wva snapshot`: the live state a controller would decide on, as a `wva decide` snapshot. */
export function register(program: Command): void {
  program
    .command("snapshot")
    .description(
      "capture VAs, Deployments, the saturation config and current metrics from a cluster into a `wva decide` snapshot",
    )
    .option("--kubeconfig <file>", "kubeconfig of the cluster (default: KUBECONFIG, then in-cluster)")
    .option("--prometheus <url>", "read metrics from this Prometheus (default: scrape the serving pods)")
    .option("-o, --output <file>", "write the snapshot here (.json: JSON, otherwise YAML; default: stdout)")
    .option(
      "--namespace <ns>",
      "namespace of the controller and its ConfigMaps",
      DEFAULT_SETTINGS.systemNamespace,
    )
    .option(
      "--config-map <name>",
      "the controller's main ConfigMap (CONFIG_MAP_NAME)",
      DEFAULT_SETTINGS.mainConfigMapName,
    )
    .option(
      "--saturation-config-map <name>",
      "the controller's saturation ConfigMap (SATURATION_CONFIG_MAP_NAME)",
      DEFAULT_SETTINGS.saturationConfigMapName,
    )
    .option(
      "--controller-instance <name>",
      "only the VAs of this controller instance (CONTROLLER_INSTANCE)",
      "",
    )
    .option("--watch-namespace <ns>", "only this namespace, as a namespace-scoped controller", "")
    .option("--timeout <duration>", "how long to wait for the cluster's listings", "30s")
    .action(async (opts: SnapshotCliOptions) => {
      let timeoutMs: number;
      try {
        timeoutMs = parseDuration(opts.timeout);
      } catch (err) {
        if (err instanceof DurationError) throw new UsageError(`--timeout: ${err.message}`);
        throw err;
      }
      if (timeoutMs <= 0) throw new UsageError(`--timeout: must be a positive duration, got ${opts.timeout}`);
      try {
        checkTimerDelay(timeoutMs, "--timeout");
      } catch (err) {
        if (err instanceof TimerDelayError) throw new UsageError(err.message);
        throw err;
      }
      if (opts.prometheus !== undefined) {
        try {
          const u = new URL(opts.prometheus);
          if (u.protocol !== "http:" && u.protocol !== "https:") throw new TypeError("scheme");
        } catch {
          throw new UsageError(`--prometheus: must be an http(s) URL, got "${opts.prometheus}"`);
        }
      }
      // the controller's settings as its environment would carry them; PROMETHEUS_* TLS and token
      // settings of this shell apply to --prometheus
      const env: Record<string, string | undefined> = {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("PROMETHEUS_"))),
        PROMETHEUS_BASE_URL: opts.prometheus,
        POD_NAMESPACE: opts.namespace,
        CONFIG_MAP_NAME: opts.configMap,
        SATURATION_CONFIG_MAP_NAME: opts.saturationConfigMap,
        CONTROLLER_INSTANCE: opts.controllerInstance,
        WATCH_NAMESPACE: opts.watchNamespace,
      };
      const result = await captureSnapshot({
        kubeconfig: opts.kubeconfig,
        env,
        metricsSource: opts.prometheus === undefined ? "pods" : "prometheus",
        timeoutMs,
      });
      const doc = result.document;
      const text = opts.output?.endsWith(".json")
        ? `${JSON.stringify(doc, null, 2)}\n`
        : `# wva snapshot taken ${new Date().toISOString()}; metrics: ${result.source}\n${stringify(doc)}`;
      if (opts.output) writeFileSync(opts.output, text);
      else process.stdout.write(text);
      const models = new Set(doc.variants.map((v) => `${v.modelID}|${v.namespace}`)).size;
      process.stderr.write(
        `wva snapshot: ${doc.variants.length} variant(s) of ${models} model(s), metrics from ${result.source}${opts.output ? `, written to ${opts.output}` : ""}\n`,
      );
      for (const f of result.failedGroups)
        process.stderr.write(
          `wva snapshot: no metrics for ${f.group} (${f.error}); the controller holds such a model's replicas\n`,
        );
    });
}
