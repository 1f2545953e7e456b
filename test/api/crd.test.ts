import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import {
  ANNOTATION_MAX_REPLICAS,
  ANNOTATION_MIN_REPLICAS,
  ConditionType,
  LABEL_ACCELERATOR_NAME,
  LABEL_CONTROLLER_INSTANCE,
  MetricsReason,
  OptimizationReason,
  TargetResolvedReason,
  variantAutoscalingCRD,
  type JSONSchemaProps,
  type VariantAutoscalingSpec,
  type Condition,
} from "../../src/api/v1alpha1/index.js";
import { CRD_MANIFEST_PATHS, crdManifestFiles, crdYaml } from "../../src/api/v1alpha1/manifests.js";

/** Walks every schema node with its path. */
function walk(node: JSONSchemaProps, path: string, visit: (n: JSONSchemaProps, p: string) => void): void {
  visit(node, path);
  for (const [k, child] of Object.entries(node.properties ?? {})) walk(child, `${path}.${k}`, visit);
  if (node.items) walk(node.items, `${path}[]`, visit);
}

const crd = variantAutoscalingCRD();
const version = crd.spec.versions[0];
const schema = version.schema.openAPIV3Schema;

describe("VariantAutoscaling CRD", () => {
  it("has the identity of wva-core 2.1", () => {
    assert.equal(crd.apiVersion, "apiextensions.k8s.io/v1");
    assert.equal(crd.metadata.name, "variantautoscalings.llmd.ai");
    assert.equal(crd.spec.group, "llmd.ai");
    assert.deepEqual(crd.spec.names, {
      kind: "VariantAutoscaling",
      listKind: "VariantAutoscalingList",
      plural: "variantautoscalings",
      singular: "variantautoscaling",
      shortNames: ["va"],
    });
    assert.equal(crd.spec.scope, "Namespaced");
    assert.equal(crd.spec.versions.length, 1);
    assert.equal(version.name, "v1alpha1");
    assert.equal(version.served, true);
    assert.equal(version.storage, true);
    assert.deepEqual(version.subresources, { status: {} });
  });

  it("has the printer columns of wva-core 2.2 in order", () => {
    assert.deepEqual(
      version.additionalPrinterColumns.map((c) => [c.name, c.type, c.jsonPath]),
      [
        ["Target", "string", ".spec.scaleTargetRef.name"],
        ["Model", "string", ".spec.modelID"],
        ["Optimized", "string", ".status.desiredOptimizedAlloc.numReplicas"],
        ["MetricsReady", "string", ".status.conditions[?(@.type=='MetricsAvailable')].status"],
        ["Reason", "string", ".status.conditions[?(@.type=='OptimizationReady')].reason"],
        ["Age", "date", ".metadata.creationTimestamp"],
      ],
    );
  });

  it("is a structural schema: every node typed, no additionalProperties, metadata plain object", () => {
    let nodes = 0;
    walk(schema, "", (n, p) => {
      nodes++;
      assert.ok(n.type, `${p || "(root)"} has no type`);
      assert.ok(!("additionalProperties" in n), `${p} uses additionalProperties`);
      for (const banned of ["allOf", "anyOf", "oneOf", "not", "$ref", "definitions"]) {
        assert.ok(!(banned in n), `${p} uses ${banned}`);
      }
      for (const r of n.required ?? []) assert.ok(n.properties?.[r], `${p}: required ${r} is not a property`);
      if (n["x-kubernetes-list-type"] === "map") {
        // list-map keys must be scalar properties of object items that are required or defaulted
        assert.equal(n.items?.type, "object", `${p}: list-map items must be objects`);
        for (const key of n["x-kubernetes-list-map-keys"] ?? []) {
          const prop = n.items?.properties?.[key];
          assert.ok(prop && ["string", "integer", "boolean"].includes(prop.type), `${p}: bad map key ${key}`);
          assert.ok(
            n.items?.required?.includes(key) || prop.default !== undefined,
            `${p}: key ${key} optional`,
          );
        }
      }
      if (n["x-kubernetes-map-type"]) assert.equal(n.type, "object", `${p}: map-type on a non-object`);
    });
    assert.ok(nodes > 20);
    assert.deepEqual(schema.properties?.metadata, { type: "object" });
  });

  it("spec fields and validation follow wva-core 2.3", () => {
    const spec = schema.properties!.spec;
    assert.deepEqual(schema.required, ["spec"]);
    assert.deepEqual(spec.required, ["modelID", "scaleTargetRef"]);
    const ref = spec.properties!.scaleTargetRef;
    assert.deepEqual(ref.required, ["kind", "name"]);
    assert.equal(ref["x-kubernetes-map-type"], "atomic");
    assert.deepEqual(Object.keys(ref.properties!).sort(), ["apiVersion", "kind", "name"]);
    assert.equal(spec.properties!.modelID.minLength, 1);
    const cost = spec.properties!.variantCost;
    assert.equal(cost.type, "string");
    assert.equal(cost.pattern, "^\\d+(\\.\\d+)?$");
    assert.equal(cost.default, "10.0");
  });

  it("status fields follow wva-core 2.4 (conditions are a list-map keyed by type)", () => {
    const status = schema.properties!.status;
    assert.equal(status.required, undefined);
    const alloc = status.properties!.desiredOptimizedAlloc;
    assert.deepEqual(alloc.required, ["accelerator", "numReplicas"]);
    assert.equal(alloc.properties!.accelerator.minLength, 2);
    assert.equal(alloc.properties!.numReplicas.type, "integer");
    assert.equal(alloc.properties!.numReplicas.minimum, 0);
    assert.equal(alloc.properties!.lastRunTime.format, "date-time");
    assert.deepEqual(status.properties!.actuation.required, ["applied"]);
    const conditions = status.properties!.conditions;
    assert.equal(conditions["x-kubernetes-list-type"], "map");
    assert.deepEqual(conditions["x-kubernetes-list-map-keys"], ["type"]);
    const cond = conditions.items!;
    assert.deepEqual(cond.required, ["lastTransitionTime", "message", "reason", "status", "type"]);
    assert.deepEqual(Object.keys(cond.properties!).sort(), [
      "lastTransitionTime",
      "message",
      "observedGeneration",
      "reason",
      "status",
      "type",
    ]);
    assert.deepEqual(cond.properties!.status.enum, ["True", "False", "Unknown"]);
  });

  it("exports the label, annotation, condition type and reason constants of wva-core 2.3 and 2.5", () => {
    assert.equal(LABEL_ACCELERATOR_NAME, "inference.optimization/acceleratorName");
    assert.equal(LABEL_CONTROLLER_INSTANCE, "wva.llmd.ai/controller-instance");
    assert.equal(ANNOTATION_MIN_REPLICAS, "wva.llmd.ai/min-replicas");
    assert.equal(ANNOTATION_MAX_REPLICAS, "wva.llmd.ai/max-replicas");
    assert.deepEqual(Object.values(ConditionType).sort(), [
      "MetricsAvailable",
      "OptimizationReady",
      "TargetResolved",
    ]);
    assert.deepEqual(Object.values(TargetResolvedReason).sort(), ["TargetFound", "TargetNotFound"]);
    assert.deepEqual(Object.values(MetricsReason).sort(), [
      "MetricsAvailable",
      "MetricsFound",
      "MetricsMissing",
      "MetricsStale",
      "MetricsUnavailable",
      "PrometheusError",
      "ScaleFromZero",
    ]);
    assert.deepEqual(Object.values(OptimizationReason).sort(), [
      "InvalidConfiguration",
      "MetricsUnavailable",
      "OptimizationFailed",
      "OptimizationSucceeded",
      "SaturationOnlyMode",
      "SaturationSafetyOverride",
      "ScaleFromZeroMode",
      "SkippedProcessing",
    ]);
  });
});

describe("VariantAutoscaling TypeScript types", () => {
  it("derive required and optional fields from the schema (checked by tsc)", () => {
    // @ts-expect-error modelID is required by the schema, so by the type
    const bad: VariantAutoscalingSpec = { scaleTargetRef: { kind: "Deployment", name: "d" } };
    const ok: VariantAutoscalingSpec = { scaleTargetRef: { kind: "Deployment", name: "d" }, modelID: "m" };
    // @ts-expect-error status is an enum of True, False, Unknown
    const cond: Condition = { type: "T", status: "Yes", reason: "R", message: "", lastTransitionTime: "" };
    assert.equal(ok.variantCost, undefined);
    assert.equal(bad.modelID, undefined);
    assert.equal(cond.status, "Yes");
  });
});

describe("generated CRD manifests", () => {
  it("the committed files equal the generator output (run `make manifests` when this fails)", () => {
    for (const [path, expected] of Object.entries(crdManifestFiles())) {
      const actual = readFileSync(path, "utf8");
      assert.equal(actual, expected, `${path} is stale: run make manifests`);
    }
  });

  it("the generated YAML parses back to the CRD object and says it is generated", () => {
    const text = crdYaml();
    assert.match(text.split("\n")[0], /^# Generated by `make manifests`.*Do not edit\.$/);
    assert.deepEqual(parse(text), JSON.parse(JSON.stringify(crd)));
    assert.equal(crdYaml(), text, "output is deterministic");
  });

  it("make manifests twice leaves the files unchanged (and git clean on a clean checkout)", () => {
    const git = () =>
      execFileSync("git", ["status", "--porcelain", "--", ...CRD_MANIFEST_PATHS], { encoding: "utf8" });
    const before = git();
    const contents = CRD_MANIFEST_PATHS.map((p) => readFileSync(p, "utf8"));
    for (let i = 0; i < 2; i++) execFileSync("make", ["manifests"], { stdio: "pipe" });
    assert.deepEqual(
      CRD_MANIFEST_PATHS.map((p) => readFileSync(p, "utf8")),
      contents,
    );
    assert.equal(git(), before);
    // in CI the checkout is clean, so the committed files must be exactly what the generator writes
    if (process.env.CI === "true") assert.equal(git(), "", "make manifests changed committed files");
  });

  it("scripts/generate-manifests.ts rejects unknown arguments with exit 2", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/generate-manifests.ts", "--bogus"], {
      encoding: "utf8",
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /usage: generate-manifests \[--out DIR\]/);
  });

  it("scripts/generate-manifests.ts writes both files with the generator output", () => {
    const dir = mkdtempSync(join(tmpdir(), "wva-manifests-"));
    try {
      const r = spawnSync(
        process.execPath,
        ["--import", "tsx", "scripts/generate-manifests.ts", "--out", dir],
        {
          encoding: "utf8",
        },
      );
      assert.equal(r.status, 0, r.stderr);
      for (const path of CRD_MANIFEST_PATHS) {
        assert.equal(readFileSync(join(dir, path), "utf8"), crdYaml());
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
