import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  namespaceConfigAllowed,
  serviceMonitorAction,
  vaPredicate,
  type NamespaceLookup,
} from "../../src/controller/predicates.js";
import type { KubeObject } from "../../src/controller/kube/informer.js";

const va = (ns: string, labels?: Record<string, string>): KubeObject => ({
  apiVersion: "llmd.ai/v1alpha1",
  kind: "VariantAutoscaling",
  metadata: { name: "v", namespace: ns, labels },
});
const nsWith =
  (annotations: Record<string, string>, labels?: Record<string, string>): NamespaceLookup =>
  (name) => ({
    metadata: { name, annotations, labels },
  });

describe("VA predicate", () => {
  const multi = { instance: "", watchNamespace: "" };
  it("rejects a VA in a namespace annotated exclude=true (multi-namespace)", () => {
    assert.equal(vaPredicate(va("a"), multi, nsWith({ "wva.llmd.ai/exclude": "true" })), false);
  });
  it("accepts a VA when the annotation value is false", () => {
    assert.equal(vaPredicate(va("a"), multi, nsWith({ "wva.llmd.ai/exclude": "false" })), true);
  });
  it("accepts a VA of the watched namespace even when it is excluded", () => {
    assert.equal(
      vaPredicate(va("a"), { instance: "", watchNamespace: "a" }, nsWith({ "wva.llmd.ai/exclude": "true" })),
      true,
    );
  });
  it("with CONTROLLER_INSTANCE=x accepts label x, rejects label y and no label", () => {
    const cfg = { instance: "x", watchNamespace: "" };
    const ok = nsWith({});
    assert.equal(vaPredicate(va("a", { "wva.llmd.ai/controller-instance": "x" }), cfg, ok), true);
    assert.equal(vaPredicate(va("a", { "wva.llmd.ai/controller-instance": "y" }), cfg, ok), false);
    assert.equal(vaPredicate(va("a"), cfg, ok), false);
  });
  it("accepts when the namespace lookup fails (fail-open)", () => {
    const failing: NamespaceLookup = () => {
      throw new Error("forbidden");
    };
    assert.equal(vaPredicate(va("a"), multi, failing), true);
    assert.equal(
      vaPredicate(va("a"), multi, () => undefined),
      true,
    );
  });
  it("without a config behaves as multi-namespace mode", () => {
    assert.equal(
      vaPredicate(va("a", { "wva.llmd.ai/controller-instance": "y" }), undefined, nsWith({})),
      true,
    );
    assert.equal(vaPredicate(va("a"), undefined, nsWith({ "wva.llmd.ai/exclude": "true" })), false);
  });
});

describe("namespace-local ConfigMaps", () => {
  it("are honoured in tracked or opted-in namespaces, never in excluded ones", () => {
    const tracked = (ns: string) => ns === "t";
    assert.equal(namespaceConfigAllowed("t", { watchNamespace: "", lookup: nsWith({}), tracked }), true);
    assert.equal(namespaceConfigAllowed("u", { watchNamespace: "", lookup: nsWith({}), tracked }), false);
    assert.equal(
      namespaceConfigAllowed("u", {
        watchNamespace: "",
        lookup: nsWith({}, { "wva.llmd.ai/config-enabled": "true" }),
        tracked,
      }),
      true,
    );
    assert.equal(
      namespaceConfigAllowed("t", {
        watchNamespace: "",
        lookup: nsWith({ "wva.llmd.ai/exclude": "true" }),
        tracked,
      }),
      false,
    );
    assert.equal(namespaceConfigAllowed("w", { watchNamespace: "w", tracked }), true);
    assert.equal(namespaceConfigAllowed("t", { watchNamespace: "w", tracked }), false);
  });
});

describe("ServiceMonitor handler", () => {
  const sm = (deleting: boolean): KubeObject => ({
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: {
      name: "workload-variant-autoscaler-controller-manager-metrics-monitor",
      namespace: "sys",
      deletionTimestamp: deleting ? "2026-01-01T00:00:00Z" : undefined,
    },
  });
  it("a ServiceMonitor with a deletion timestamp warns and enqueues nothing", () => {
    assert.deepEqual(serviceMonitorAction(sm(true), "sys"), { warn: true, enqueue: false });
  });
  it("a plain ServiceMonitor create does nothing", () => {
    assert.deepEqual(serviceMonitorAction(sm(false), "sys"), { warn: false, enqueue: false });
  });
  it("a non-ServiceMonitor object does nothing", () => {
    const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { ...sm(true).metadata } };
    assert.deepEqual(serviceMonitorAction(cm, "sys"), { warn: false, enqueue: false });
  });
});
