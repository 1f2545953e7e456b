import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import {
  API_VERSION,
  KIND,
  LABEL_ACCELERATOR_NAME,
  validateVariantAutoscaling,
  type VariantAutoscaling,
} from "../../src/api/v1alpha1/index.js";
import { k8sTools } from "../support/tools.js";

const dir = "config/samples";

function docs(file: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(join(dir, file), "utf8")).map((d) => {
    assert.deepEqual(d.errors, [], `${file}: YAML errors`);
    return d.toJS() as Record<string, unknown>;
  });
}

function allVAs(): Array<{ file: string; va: VariantAutoscaling }> {
  const out: Array<{ file: string; va: VariantAutoscaling }> = [];
  for (const file of readdirSync(dir).filter((f) => f.startsWith("variantautoscaling"))) {
    for (const doc of docs(file)) out.push({ file, va: doc as unknown as VariantAutoscaling });
  }
  return out;
}

describe("config/samples", () => {
  it("holds the samples the release guide and the docs name", () => {
    const files = readdirSync(dir);
    for (const f of [
      "variantautoscaling-with-cost.yaml",
      "variantautoscaling-minimal.yaml",
      "variantautoscaling-with-accelerator.yaml",
      "hpa-integration.yaml",
      "namespaces.yaml",
    ]) {
      assert.ok(files.includes(f), `${f} missing`);
    }
  });

  it("namespaces.yaml creates every namespace the samples use, and kustomize lists it first", () => {
    const created = docs("namespaces.yaml").map((d) => {
      assert.equal(d.kind, "Namespace");
      return (d.metadata as { name: string }).name;
    });
    const used = new Set<string>();
    for (const sub of ["", "integrations"]) {
      for (const file of readdirSync(join(dir, sub)).filter((f) => f.endsWith(".yaml"))) {
        if (sub === "" && (file === "namespaces.yaml" || file === "kustomization.yaml")) continue;
        for (const d of docs(join(sub, file))) {
          const ns = (d.metadata as { namespace?: string } | undefined)?.namespace;
          if (ns !== undefined) used.add(ns);
        }
      }
    }
    assert.ok(used.size > 0);
    assert.deepEqual(
      [...used].filter((ns) => ns !== "default" && !created.includes(ns)),
      [],
    );
    const kustomization = docs("kustomization.yaml")[0] as { resources: string[] };
    assert.equal(kustomization.resources[0], "namespaces.yaml");
  });

  it("every VariantAutoscaling sample passes the CRD schema, with no unknown fields", () => {
    const vas = allVAs();
    assert.ok(vas.length >= 8, `only ${vas.length} VAs found`);
    for (const { file, va } of vas) {
      assert.equal(va.apiVersion, API_VERSION, file);
      assert.equal(va.kind, KIND, file);
      const r = validateVariantAutoscaling(va, { rejectUnknownFields: true });
      assert.deepEqual(r.errors, [], `${file} ${va.metadata?.name}`);
    }
  });

  it("variantautoscaling-with-cost.yaml: six cost-ranked variants, one relying on the default cost", () => {
    const vas = docs("variantautoscaling-with-cost.yaml") as unknown as VariantAutoscaling[];
    assert.equal(vas.length, 6);
    const costs = vas.map((va) => validateVariantAutoscaling(va).object.spec.variantCost);
    assert.deepEqual(costs, ["80.0", "40.0", "5.0", "25.0", "15.0", "10.0"]);
    assert.equal(vas[5].spec.variantCost, undefined, "the last sample shows the default");
    for (const va of vas)
      assert.ok(va.metadata?.labels?.[LABEL_ACCELERATOR_NAME], `${va.metadata?.name}: label`);
  });

  it("the minimal sample has no optional field and the accelerator sample carries the label", () => {
    const [minimal] = docs("variantautoscaling-minimal.yaml") as unknown as VariantAutoscaling[];
    assert.deepEqual(Object.keys(minimal.spec).sort(), ["modelID", "scaleTargetRef"]);
    assert.deepEqual(Object.keys(minimal.spec.scaleTargetRef).sort(), ["kind", "name"]);
    const [withAcc] = docs("variantautoscaling-with-accelerator.yaml") as unknown as VariantAutoscaling[];
    assert.equal(withAcc.metadata?.labels?.[LABEL_ACCELERATOR_NAME], "H100");
  });

  it("hpa-integration.yaml: an autoscaling/v2 HPA on the external metric wva_desired_replicas of a sample VA", () => {
    const [hpa] = docs("hpa-integration.yaml") as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(hpa.apiVersion, "autoscaling/v2");
    assert.equal(hpa.kind, "HorizontalPodAutoscaler");
    assert.equal(hpa.spec.metrics.length, 1);
    const m = hpa.spec.metrics[0];
    assert.equal(m.type, "External");
    assert.equal(m.external.metric.name, "wva_desired_replicas");
    assert.deepEqual(m.external.target, { type: "AverageValue", averageValue: "1" });
    const selector = m.external.metric.selector.matchLabels as Record<string, string>;
    assert.deepEqual(Object.keys(selector).sort(), ["exported_namespace", "variant_name"]);
    // the selector names an existing sample VA, and the HPA scales that VA's target
    const va = allVAs().find(
      ({ va }) =>
        va.metadata?.name === selector.variant_name && va.metadata?.namespace === selector.exported_namespace,
    )?.va;
    assert.ok(va, `no sample VA ${selector.exported_namespace}/${selector.variant_name}`);
    assert.equal(hpa.metadata.namespace, va.metadata?.namespace);
    assert.equal(hpa.spec.scaleTargetRef.name, va.spec.scaleTargetRef.name);
    assert.equal(hpa.spec.scaleTargetRef.kind, "Deployment");
    assert.ok(hpa.spec.minReplicas >= 1 && hpa.spec.maxReplicas >= hpa.spec.minReplicas);
  });

  it("kubectl kustomize config/samples renders every sample (real kubectl)", () => {
    const { kubectl } = k8sTools();
    const out = execFileSync(kubectl, ["kustomize", dir], { encoding: "utf8" });
    const rendered = parseAllDocuments(out).map((d) => d.toJS() as { kind: string });
    assert.equal(rendered.filter((d) => d.kind === KIND).length, allVAs().length);
    assert.equal(rendered.filter((d) => d.kind === "HorizontalPodAutoscaler").length, 1);
  });
});
