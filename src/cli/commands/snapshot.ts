import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { stringify } from "yaml";
import { PrometheusConfigError, resolvePrometheusConfig } from "../../collect/prometheus/config.js";
import { DEFAULT_SYSTEM_NAMESPACE, MAIN_CONFIG_MAP, SATURATION_CONFIG_MAP } from "../../config/main.js";
import { DurationError, parseDuration } from "../../util/duration.js";
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
    .option("--namespace <ns>", "namespace of the controller and its ConfigMaps", DEFAULT_SYSTEM_NAMESPACE)
    .option("--config-map <name>", "the controller's main ConfigMap (CONFIG_MAP_NAME)", MAIN_CONFIG_MAP)
    .option(
      "--saturation-config-map <name>",
      "the controller's saturation ConfigMap (SATURATION_CONFIG_MAP_NAME)",
      SATURATION_CONFIG_MAP,
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
      let prometheus;
      if (opts.prometheus !== undefined) {
        try {
          prometheus = resolvePrometheusConfig({ ...process.env, PROMETHEUS_BASE_URL: opts.prometheus });
          new URL(prometheus.baseURL);
        } catch (err) {
          if (err instanceof PrometheusConfigError || err instanceof TypeError)
            throw new UsageError(`--prometheus: ${err.message}`);
          throw err;
        }
      }
      const result = await captureSnapshot({
        kubeconfig: opts.kubeconfig,
        prometheus,
        systemNamespace: opts.namespace,
        mainConfigMap: opts.configMap,
        saturationConfigMap: opts.saturationConfigMap,
        instance: opts.controllerInstance,
        watchNamespace: opts.watchNamespace,
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
