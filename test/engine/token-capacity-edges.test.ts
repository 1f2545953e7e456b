import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MetricResult, MetricsSource } from "../../src/collect/types.js";
import { SourceCollector } from "../../src/controller/collection.js";
import type { ReplicaMetricsCollector } from "../../src/collect/collector.js";
import { deploymentVllmParams } from "../../src/controller/vllm-params.js";
import type { Deployment } from "../../src/controller/types.js";
import { trialManifests } from "../../src/playground/runner/manifests.js";
import { normalizeScenario, ScenarioError } from "../../src/playground/runner/scenario.js";
import { validDoc } from "../playground/scenario-cases.js";

/** The edges that feed the token-capacity analyzer: Deployments, scenarios and the metrics source. */
describe("token-capacity inputs at the edges", () => {
  it("an emulated Deployment runs vllm serve with the emulator's sizes, and the controller parses it back", () => {
    const scenario = normalizeScenario(validDoc());
    const dep = trialManifests(scenario).find((m) => m.kind === "Deployment" && m.metadata.name === "m-a100");
    const params = deploymentVllmParams(dep as unknown as Deployment);
    assert.ok(params);
    assert.equal(params.maxNumSeqs, 8);
    assert.equal(params.blockSize, scenario.models[0].variants[0].emulator.blockSize);
    assert.equal(params.numGpuBlocksOverride, scenario.models[0].variants[0].emulator.kvBlocks);
    assert.equal(params.gpuMemoryUtilization, 0.9);
  });

  it("a Deployment without a vLLM container has no parameters; a shell -c line is read", () => {
    const dep = (containers: unknown[]) => ({ spec: { template: { spec: { containers } } } }) as Deployment;
    assert.equal(deploymentVllmParams(dep([{ name: "sidecar", args: ["--port", "9"] }])), undefined);
    const p = deploymentVllmParams(
      dep([{ name: "server", command: ["/bin/sh", "-c", "exec vllm serve m --max-num-seqs=12"] }]),
    );
    assert.equal(p?.maxNumSeqs, 12);
  });

  it("scenarios select the analyzer; an unknown name or inverted thresholds name the field", () => {
    const doc = validDoc() as { saturation?: Record<string, unknown> };
    doc.saturation = { analyzerName: "saturation", scaleUpThreshold: 0.9 };
    assert.equal(normalizeScenario(doc).saturation.analyzerName, "saturation");
    const bad = (saturation: Record<string, unknown>, field: string) =>
      assert.throws(
        () => normalizeScenario({ ...validDoc(), saturation }),
        (e: unknown) => e instanceof ScenarioError && e.message.includes(field),
      );
    bad({ analyzerName: "v3" }, "saturation.analyzerName");
    bad(
      { analyzerName: "saturation", scaleUpThreshold: 0.5, scaleDownBoundary: 0.6 },
      "saturation.scaleUpThreshold",
    );
  });

  it("the scheduler queue comes from the metrics source; none reported = undefined", async () => {
    let values: Record<string, number> = { scheduler_queue_size: 4, scheduler_queue_bytes: 2048 };
    const source: MetricsSource = {
      name: "fake",
      queryNames: () => [],
      refresh: async (names) =>
        new Map(
          names.map((n): [string, MetricResult] => [
            n,
            {
              queryName: n,
              collectedAt: 0,
              values: n in values ? [{ value: values[n], timestamp: 0, labels: {} }] : [],
            },
          ]),
        ),
      get: () => undefined,
      close: () => undefined,
    };
    const c = new SourceCollector({} as ReplicaMetricsCollector, source);
    const group = { modelID: "m", namespace: "ns", variants: [] };
    assert.deepEqual(await c.schedulerQueue(group), { size: 4, bytes: 2048 });
    values = {};
    assert.equal(await c.schedulerQueue(group), undefined);
  });
});
