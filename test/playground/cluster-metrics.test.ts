import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import {
  externalMetricsFrom,
  PrometheusMetricsProvider,
  ScrapeMetricsProvider,
  startCluster,
  type RunningCluster,
} from "../../src/playground/cluster/index.js";
import { startPrometheus, type RunningPrometheus } from "../support/prometheus.js";
import { findPrometheus, requireTool } from "../support/tools.js";
import { waitFor } from "./cluster-fixtures.js";

let manager: Server;
let managerUrl: string;
let prom: RunningPrometheus | undefined;
let cluster: RunningCluster;

describe("playground cluster: external metrics from a Prometheus or a manager's /metrics", () => {
  before(async () => {
    // what a manager exposes: wva_desired_replicas with the VA's own namespace label
    manager = createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end(
        'wva_desired_replicas{variant_name="llama-8b-h100",namespace="llm-inference"} 4\n' +
          'wva_desired_replicas{variant_name="other",namespace="llm-inference"} 9\n',
      );
    });
    await new Promise<void>((r) => manager.listen(0, "127.0.0.1", r));
    managerUrl = `http://127.0.0.1:${(manager.address() as AddressInfo).port}/metrics`;
    cluster = await startCluster();
  });
  after(async () => {
    await prom?.stop();
    await cluster.stop();
    manager.close();
  });

  it("picks the provider from the URL and refuses other schemes", () => {
    assert.ok(externalMetricsFrom(managerUrl) instanceof ScrapeMetricsProvider);
    assert.ok(externalMetricsFrom("http://127.0.0.1:9090") instanceof PrometheusMetricsProvider);
    assert.throws(() => externalMetricsFrom("ftp://x/metrics"), /must be an http\(s\) URL/);
    assert.throws(() => externalMetricsFrom("not a url"), /Invalid URL/);
  });

  it("a real Prometheus scraping the manager serves the adapter rule's query; the API serves it", async (t) => {
    const bin = requireTool(t, "prometheus", findPrometheus(), "apt-get install prometheus");
    if (!bin) return;
    const target = new URL(managerUrl).host;
    // the scrape target's own namespace label turns the series' namespace into exported_namespace
    prom = await startPrometheus(bin, [{ target, labels: { namespace: "wva-system" } }]);
    const provider = new PrometheusMetricsProvider(prom.url);
    const selector = { variant_name: "llama-8b-h100", exported_namespace: "llm-inference" };
    const values = await waitFor(
      () =>
        provider.getExternalMetric("llm-inference", "wva_desired_replicas", selector).catch(() => undefined),
      "a scrape",
    );
    assert.deepEqual(values, [4]);
    await assert.rejects(
      provider.getExternalMetric("llm-inference", "wva_desired_replicas", { variant_name: "none" }),
      /no series of wva_desired_replicas match/,
    );
    const path =
      "/apis/external.metrics.k8s.io/v1beta1/namespaces/llm-inference/wva_desired_replicas" +
      "?labelSelector=variant_name%3Dllama-8b-h100%2Cexported_namespace%3Dllm-inference";
    const before = await fetch(`${cluster.url}${path}`);
    assert.equal(before.status, 404);
    assert.match(((await before.json()) as { message: string }).message, /no external metrics provider/);
    cluster.hpa.setProvider(provider);
    const res = await fetch(`${cluster.url}${path}`);
    assert.equal(res.status, 200);
    const list = (await res.json()) as { items: Array<{ value: string; metricLabels: unknown }> };
    assert.deepEqual(
      list.items.map((i) => i.value),
      ["4"],
    );
    const set = await fetch(`${cluster.url}${path.replace("%3Dllama", "+in+(a,b)%2Cx%3Dllama")}`);
    assert.equal(set.status, 400);
  });
});
