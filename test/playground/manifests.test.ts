import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateVariantAutoscaling } from "../../src/api/v1alpha1/index.js";
import { poolSelects, poolSpec, toInferencePool } from "../../src/collect/inference-pool.js";
import {
  costString,
  inferencePoolManifest,
  poolName,
  trialManifests,
} from "../../src/playground/runner/manifests.js";
import { normalizeScenario } from "../../src/playground/runner/scenario.js";
import { validDoc } from "./scenario-cases.js";

/* eslint-disable @typescript-eslint/no-explicit-any */
describe("playground trial manifests", () => {
  it("hpa actuation: a namespace, then per variant a Deployment, a VA and an HPA on wva_desired_replicas", () => {
    const s = normalizeScenario(validDoc());
    const objs = (trialManifests(s) as any[]).slice(2);
    const pool = poolName(s.models[0]);
    assert.deepEqual(
      objs.map((o) => `${o.kind}/${o.metadata.name}`),
      [
        "Namespace/ns",
        "Deployment/m-a100",
        "Deployment/m-h100",
        "VariantAutoscaling/m-a100",
        "VariantAutoscaling/m-h100",
        "HorizontalPodAutoscaler/m-a100-hpa",
        "HorizontalPodAutoscaler/m-h100-hpa",
        `Deployment/${pool}-epp`,
        `Service/${pool}-epp`,
        `InferencePool/${pool}`,
      ],
    );
    const dep = objs[1];
    assert.equal(dep.spec.replicas, 1);
    assert.deepEqual(dep.spec.template.spec.containers[0].resources.requests, { "nvidia.com/gpu": "1" });
    assert.equal(dep.spec.template.spec.nodeSelector["nvidia.com/gpu.product"], "A100");
    const va = objs[3];
    assert.equal(va.spec.modelID, "m");
    assert.equal(va.spec.variantCost, "20.0");
    assert.equal(va.metadata.labels["inference.optimization/acceleratorName"], "A100");
    assert.equal(va.metadata.annotations["wva.llmd.ai/max-replicas"], "4");
    const hpa = objs[5];
    assert.equal(hpa.spec.maxReplicas, 4);
    assert.equal(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds, 10);
    assert.deepEqual(hpa.spec.metrics[0].external.metric.selector.matchLabels, {
      variant_name: "m-a100",
      exported_namespace: "ns",
    });
    assert.deepEqual(hpa.spec.metrics[0].external.target, { type: "AverageValue", averageValue: "1" });
    assert.equal(hpa.spec.minReplicas, 1);
  });

  it("the InferencePool selects every variant's pods and names the endpoint picker's metrics port", () => {
    const s = normalizeScenario(validDoc());
    const objs = trialManifests(s) as any[];
    assert.deepEqual(
      objs.slice(0, 2).map((o) => o.metadata.name),
      ["inferencepools.inference.networking.k8s.io", "inferencepools.inference.networking.x-k8s.io"],
    );
    const svc = objs.find((o) => o.kind === "Service");
    for (const group of ["inference.networking.k8s.io", "inference.networking.x-k8s.io"] as const) {
      const pool = toInferencePool(inferencePoolManifest(s.models[0], group), group, svc);
      assert.equal(pool.endpointPicker.serviceName, svc.metadata.name);
      assert.equal(pool.endpointPicker.port, 9090);
      for (const dep of objs.filter((o) => o.kind === "Deployment" && !o.metadata.name.endsWith("-epp")))
        assert.ok(poolSelects(pool, dep.spec.template.metadata.labels), dep.metadata.name);
      assert.ok(Object.keys(poolSpec(inferencePoolManifest(s.models[0], group), group).selector).length > 0);
    }
    assert.match(
      poolName({ ...s.models[0], modelID: "Meta/Llama-3.1 8B" }),
      /^meta-llama-3-1-8b-[0-9a-f]{6}$/,
    );
  });

  it("a model with scale-to-zero gets variants and HPAs with minReplicas 0", () => {
    const d = validDoc();
    (d.models as any[])[0].scaleToZero = { retention: "20s" };
    const s = normalizeScenario(d);
    assert.deepEqual(s.models[0].scaleToZero, { retentionMs: 20_000 });
    const hpas = trialManifests(s).filter((o) => o.kind === "HorizontalPodAutoscaler") as any[];
    assert.deepEqual(
      hpas.map((h) => h.spec.minReplicas),
      [0, 0],
    );
    (d.models as any[])[0].scaleToZero = { retention: "500ms" };
    assert.throws(() => normalizeScenario(d), /models\[0\]\.scaleToZero\.retention: must be at least 1s/);
  });

  it("the VAs pass the CRD schema strictly (no unknown fields)", () => {
    const s = normalizeScenario(validDoc());
    const vas = trialManifests(s).filter((o) => o.kind === "VariantAutoscaling");
    assert.equal(vas.length, 2);
    for (const va of vas) {
      const r = validateVariantAutoscaling(va, { rejectUnknownFields: true });
      assert.deepEqual(r.errors, [], va.metadata.name);
    }
  });

  it("direct actuation creates no HPA", () => {
    const d = validDoc();
    d.actuation = "direct";
    const kinds = trialManifests(normalizeScenario(d)).map((o) => o.kind);
    assert.ok(!kinds.includes("HorizontalPodAutoscaler"));
    assert.equal(kinds.filter((k) => k === "VariantAutoscaling").length, 2);
  });

  it("costs are written as decimal strings the CRD pattern accepts", () => {
    for (const c of [0, 20, 7.5, 0.0000001, 1e21]) assert.match(costString(c), /^\d+(\.\d+)?$/, String(c));
    assert.equal(costString(7.5), "7.5");
  });
});
