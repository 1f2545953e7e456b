import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  eppMetricsPort,
  InferencePoolError,
  PoolDatastore,
  poolSpec,
  selectPool,
  toInferencePool,
  type InferencePool,
} from "../../src/collect/inference-pool.js";

const service = (ports: Array<{ name?: string; port: number; targetPort?: number | string }>) => ({
  metadata: { name: "epp", namespace: "ns" },
  spec: { ports },
});

const pool = (name: string, selector: Record<string, string>, namespace = "ns"): InferencePool => ({
  namespace,
  name,
  selector,
  endpointPicker: { serviceName: `${name}-epp`, namespace, port: 9090, targetPort: 9090 },
});

describe("InferencePool objects of both API groups", () => {
  it("v1: selector from spec.selector.matchLabels, EPP from spec.endpointPickerRef", () => {
    const obj = {
      metadata: { name: "p", namespace: "ns" },
      spec: {
        selector: { matchLabels: { app: "m" } },
        targetPorts: [{ number: 8000 }],
        endpointPickerRef: { name: "p-epp", port: { number: 9002 } },
      },
    };
    assert.deepEqual(poolSpec(obj, "inference.networking.k8s.io"), {
      selector: { app: "m" },
      serviceName: "p-epp",
    });
    const p = toInferencePool(
      obj,
      "inference.networking.k8s.io",
      service([{ name: "http-metrics", port: 9090 }]),
    );
    assert.deepEqual(p, {
      namespace: "ns",
      name: "p",
      selector: { app: "m" },
      endpointPicker: { serviceName: "p-epp", namespace: "ns", port: 9090, targetPort: 9090 },
    });
  });

  it("v1alpha2: selector is a plain label map, EPP from spec.extensionRef", () => {
    const obj = {
      metadata: { name: "p", namespace: "ns" },
      spec: { selector: { app: "m", tier: "gpu" }, targetPortNumber: 8000, extensionRef: { name: "x" } },
    };
    assert.deepEqual(poolSpec(obj, "inference.networking.x-k8s.io"), {
      selector: { app: "m", tier: "gpu" },
      serviceName: "x",
    });
    // the same object read as v1 has no endpointPickerRef
    assert.throws(
      () => poolSpec(obj, "inference.networking.k8s.io"),
      /InferencePool ns\/p: spec.endpointPickerRef.name is required/,
    );
  });

  it("a missing selector is the empty selector", () => {
    const obj = { metadata: { name: "p", namespace: "ns" }, spec: { extensionRef: { name: "x" } } };
    assert.deepEqual(poolSpec(obj, "inference.networking.x-k8s.io").selector, {});
  });
});

describe("EPP metrics port", () => {
  it("is the first Service port whose name contains 'metric'; a numeric targetPort is the pod port", () => {
    assert.deepEqual(
      eppMetricsPort(
        service([
          { name: "grpc-ext-proc", port: 9002 },
          { name: "http-metrics", port: 9090, targetPort: 19090 },
          { name: "metrics-2", port: 9091 },
        ]),
      ),
      { port: 9090, targetPort: 19090 },
    );
    assert.deepEqual(eppMetricsPort(service([{ name: "metrics", port: 9090, targetPort: "http" }])), {
      port: 9090,
      targetPort: 9090,
    });
  });

  it("is an error naming the Service when no port name contains 'metric'", () => {
    assert.throws(
      () => eppMetricsPort(service([{ name: "grpc", port: 9002 }, { port: 9090 }])),
      (e: unknown) =>
        e instanceof InferencePoolError && /Service ns\/epp: metrics port not found/.test(e.message),
    );
  });
});

describe("pool datastore", () => {
  it("is keyed by namespace and name: equal names in two namespaces do not collide", () => {
    const ds = new PoolDatastore();
    ds.set(pool("p", { app: "a" }, "ns1"));
    ds.set(pool("p", { app: "b" }, "ns2"));
    assert.equal(ds.size, 2);
    assert.deepEqual(ds.get("ns1", "p")?.selector, { app: "a" });
    assert.equal(ds.delete("ns1", "p"), true);
    assert.deepEqual(ds.get("ns2", "p")?.selector, { app: "b" });
    assert.equal(ds.get("ns1", "p"), undefined);
  });
});

describe("pool selection", () => {
  const labels = { app: "m", tier: "gpu", variant: "m-h100" };

  it("several matching pools: the most specific selector wins, then the name", () => {
    const pools = [
      pool("z-wide", { app: "m" }),
      pool("b", { app: "m", tier: "gpu" }),
      pool("a", { tier: "gpu", app: "m" }),
    ];
    const c = selectPool(pools, "ns", labels);
    assert.equal(c.pool?.name, "a");
    assert.deepEqual(
      c.matches.map((p) => p.name),
      ["a", "b", "z-wide"],
    );
    // the order the pools are listed in does not matter
    assert.equal(selectPool([...pools].reverse(), "ns", labels).pool?.name, "a");
  });

  it("an empty selector matches every pod but loses to any specific one", () => {
    assert.equal(selectPool([pool("all", {})], "ns", labels).pool?.name, "all");
    assert.equal(selectPool([pool("all", {}), pool("zz", { app: "m" })], "ns", labels).pool?.name, "zz");
  });

  it("pools of other namespaces and pools whose selector does not match are never chosen", () => {
    const c = selectPool([pool("other", { app: "m" }, "ns2"), pool("wrong", { app: "x" })], "ns", labels);
    assert.equal(c.pool, undefined);
    assert.deepEqual(c.matches, []);
  });
});
