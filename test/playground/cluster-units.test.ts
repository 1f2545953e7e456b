import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jsonPatch, mergePatch, strategicMergePatch } from "../../src/playground/cluster/patch.js";
import {
  parseFieldSelector,
  matchesFields,
  parseLabelSelector,
} from "../../src/playground/cluster/selectors.js";
import { compileSchema } from "../../src/playground/cluster/schema.js";
import { evalJsonPath } from "../../src/playground/cluster/jsonpath.js";
import { parsePrometheusText, ScrapeMetricsProvider } from "../../src/playground/cluster/metrics.js";
import { parseNodeSpec, NodeSpecError, productLabel } from "../../src/playground/cluster/nodes.js";
import { ApiError } from "../../src/playground/cluster/errors.js";
import { ClusterApi } from "../../src/playground/cluster/api.js";

describe("playground cluster: patches", () => {
  it("JSON merge patch (RFC 7386) merges maps, replaces lists, deletes with null", () => {
    const out = mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { b: { c: null, e: 4 }, l: [3], z: "x" });
    assert.deepEqual(out, { a: 1, b: { d: 3, e: 4 }, l: [3], z: "x" });
  });

  it("JSON patch (RFC 6902): add, replace, remove, move, copy, test", () => {
    const doc = { a: { b: [1, 2] }, c: "x" };
    const out = jsonPatch(doc, [
      { op: "add", path: "/a/b/-", value: 3 },
      { op: "replace", path: "/c", value: "y" },
      { op: "copy", from: "/c", path: "/d" },
      { op: "move", from: "/d", path: "/e" },
      { op: "remove", path: "/a/b/0" },
      { op: "test", path: "/e", value: "y" },
      { op: "add", path: "/a~1b", value: true },
    ]);
    assert.deepEqual(out, { a: { b: [2, 3] }, c: "y", e: "y", "a/b": true });
    assert.deepEqual(doc, { a: { b: [1, 2] }, c: "x" }, "input untouched");
  });

  it("JSON patch errors: failed test, missing path, bad index, not an array", () => {
    assert.throws(
      () => jsonPatch({ a: 1 }, [{ op: "test", path: "/a", value: 2 }]),
      (e: unknown) => e instanceof ApiError && e.code === 422,
    );
    assert.throws(() => jsonPatch({ a: 1 }, [{ op: "replace", path: "/x/y", value: 2 }]), /does not exist/);
    assert.throws(() => jsonPatch({ a: [1] }, [{ op: "remove", path: "/a/5" }]), /out of range/);
    assert.throws(
      () => jsonPatch({}, { op: "add" }),
      (e: unknown) => e instanceof ApiError && e.code === 400,
    );
    assert.throws(() => jsonPatch({}, [{ op: "frobnicate", path: "/a" }]), /unknown operation/);
  });

  it("strategic merge patch merges containers by name, env by name, and honours $patch directives", () => {
    const base = {
      spec: {
        containers: [
          {
            name: "a",
            image: "a:1",
            env: [{ name: "X", value: "1" }],
            ports: [{ containerPort: 80, name: "http" }],
          },
          { name: "b", image: "b:1" },
        ],
        tolerations: [{ key: "t1" }],
      },
      metadata: { finalizers: ["f1"] },
    };
    const out = strategicMergePatch(
      base,
      {
        $setElementOrder: undefined,
        spec: {
          "$setElementOrder/containers": [{ name: "a" }, { name: "b" }],
          containers: [
            { name: "a", env: [{ name: "Y", value: "2" }], ports: [{ containerPort: 80, protocol: "TCP" }] },
            { name: "b", $patch: "delete" },
          ],
          tolerations: [{ key: "t2" }],
        },
        metadata: { finalizers: ["f2"] },
      },
      "Deployment",
    ) as typeof base;
    assert.deepEqual(out.spec.containers, [
      {
        name: "a",
        image: "a:1",
        env: [
          { name: "X", value: "1" },
          { name: "Y", value: "2" },
        ],
        ports: [{ containerPort: 80, name: "http", protocol: "TCP" }],
      },
    ]);
    assert.deepEqual(out.spec.tolerations, [{ key: "t2" }], "lists without a merge key are replaced");
    assert.deepEqual(out.metadata.finalizers, ["f1", "f2"], "finalizers merge as a set");
    const replaced = strategicMergePatch(
      base,
      { spec: { $patch: "replace", containers: [{ name: "c", image: "c" }] } },
      "Deployment",
    ) as typeof base;
    assert.deepEqual(replaced.spec, { containers: [{ name: "c", image: "c" }] });
  });

  it("strategic merge patch uses port as the merge key of Service ports", () => {
    const out = strategicMergePatch(
      { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } },
      { spec: { ports: [{ port: 80, name: "http" }] } },
      "Service",
    );
    assert.deepEqual(out, { spec: { ports: [{ port: 80, targetPort: 8080, name: "http" }, { port: 443 }] } });
  });
});

describe("playground cluster: selectors and JSONPath", () => {
  it("a malformed label selector is a 400 naming the selector", () => {
    assert.throws(
      () => parseLabelSelector("app=(x"),
      (e: unknown) => e instanceof ApiError && e.code === 400 && /app=\(x/.test(e.message),
    );
  });

  it("field selectors read any dotted path", () => {
    const pod = {
      metadata: { name: "p", namespace: "ns" },
      spec: { nodeName: "n1" },
      status: { phase: "Pending" },
    };
    assert.equal(matchesFields(parseFieldSelector("status.phase=Pending,spec.nodeName=n1"), pod), true);
    assert.equal(matchesFields(parseFieldSelector("status.phase!=Pending"), pod), false);
    assert.equal(
      matchesFields(parseFieldSelector("spec.schedulerName="), pod),
      true,
      "a missing field equals the empty string",
    );
    assert.throws(
      () => parseFieldSelector("nonsense"),
      (e: unknown) => e instanceof ApiError && e.code === 400,
    );
  });

  it("JSONPath as printer columns use it: fields, indexes, wildcards, filters", () => {
    const o = {
      status: {
        conditions: [
          { type: "A", status: "False" },
          { type: "Ready", status: "True" },
        ],
      },
      spec: { l: [1, 2, 3] },
    };
    assert.deepEqual(evalJsonPath(o, '.status.conditions[?(@.type=="Ready")].status'), ["True"]);
    assert.deepEqual(evalJsonPath(o, ".status.conditions[?(@.type=='A')].status"), ["False"]);
    assert.deepEqual(evalJsonPath(o, ".spec.l[-1]"), [3]);
    assert.deepEqual(evalJsonPath(o, ".status.conditions[*].type"), ["A", "Ready"]);
    assert.deepEqual(evalJsonPath(o, ".missing.field"), []);
  });
});

describe("playground cluster: CRD structural schema", () => {
  const schema = compileSchema({
    type: "object",
    properties: {
      spec: {
        type: "object",
        required: ["size"],
        properties: {
          size: { type: "integer", minimum: 1, maximum: 10 },
          name: { type: "string", minLength: 2, pattern: "^[a-z]+$" },
          mode: { type: "string", enum: ["a", "b"], default: "a" },
          port: { "x-kubernetes-int-or-string": true },
          nested: { type: "object", properties: { keep: { type: "string", default: "k" } } },
          free: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
          map: {
            type: "object",
            additionalProperties: { type: "object", properties: { v: { type: "integer" } } },
          },
          items: {
            type: "array",
            maxItems: 2,
            items: { type: "object", properties: { id: { type: "string" } } },
          },
          when: { type: "string", format: "date-time" },
        },
      },
    },
  });

  it("prunes unknown fields (reporting their paths), keeps preserved ones, applies defaults", () => {
    const obj: Record<string, unknown> = {
      apiVersion: "x/v1",
      kind: "X",
      metadata: { name: "n" },
      spec: {
        size: 2,
        bogus: 1,
        nested: {},
        free: { anything: 1 },
        map: { k: { v: 1, junk: 2 } },
        items: [{ id: "a", extra: 1 }],
      },
      top: 1,
    };
    const removed = schema.normalize(obj);
    assert.deepEqual(removed.sort(), ["spec.bogus", "spec.items[0].extra", "spec.map.k.junk", "top"]);
    assert.deepEqual(obj.spec, {
      size: 2,
      nested: { keep: "k" },
      free: { anything: 1 },
      map: { k: { v: 1 } },
      items: [{ id: "a" }],
      mode: "a",
    });
    assert.deepEqual(schema.validate(obj), []);
  });

  it("reports every violation with the field and the API server's wording", () => {
    const causes = schema.validate({
      spec: { size: 11, name: "A", mode: "c", port: true, items: [{}, {}, {}], when: "yesterday" },
    });
    const byField = Object.fromEntries(causes.map((c) => [c.field, c.message]));
    assert.match(
      byField["spec.size"],
      /Invalid value: 11: spec.size in body should be less than or equal to 10/,
    );
    assert.ok(
      causes.some((c) => c.field === "spec.name" && /should be at least 2 chars long/.test(c.message)),
    );
    assert.ok(causes.some((c) => c.field === "spec.name" && /should match '\^\[a-z\]\+\$'/.test(c.message)));
    assert.match(byField["spec.mode"], /Unsupported value: "c": supported values: "a", "b"/);
    assert.match(byField["spec.items"], /should have at most 2 items/);
    assert.match(byField["spec.when"], /must be of type date-time/);
    assert.ok(
      causes.some((c) => c.field === "spec.port"),
      "int-or-string rejects a boolean",
    );
    const missing = schema.validate({ spec: {} });
    assert.deepEqual(missing, [
      { reason: "FieldValueRequired", message: "Required value", field: "spec.size" },
    ]);
    const wrongType = schema.validate({ spec: { size: "two" } });
    assert.match(wrongType[0].message, /Invalid value: "string": spec.size in body must be of type integer/);
  });

  it("an unusable schema is an error naming the problem", () => {
    assert.throws(
      () => compileSchema({ type: "object", properties: { a: { type: "no-such-type" } } }),
      /invalid openAPIV3Schema/,
    );
  });
});

describe("playground cluster: nodes and metrics parsing", () => {
  it("parses node SPECs and rejects malformed ones naming the field", () => {
    assert.deepEqual(parseNodeSpec("2xH100:8, 1xA100:4"), [
      { count: 2, product: "H100", gpus: 8 },
      { count: 1, product: "A100", gpus: 4 },
    ]);
    assert.deepEqual(parseNodeSpec(["1xL40S:2"], "nodes"), [{ count: 1, product: "L40S", gpus: 2 }]);
    for (const bad of ["H100:8", "2xH100", "2x:8", "-1xH100:8", "2xH100:100", "2xH100:8,"]) {
      if (bad === "2xH100:8,") {
        assert.equal(parseNodeSpec(bad).length, 1, "a trailing comma is tolerated");
        continue;
      }
      assert.throws(
        () => parseNodeSpec(bad),
        (e: unknown) => e instanceof NodeSpecError && e.message.startsWith("--gpu-nodes:"),
        bad,
      );
    }
    assert.equal(productLabel("H100"), "NVIDIA-H100-80GB-HBM3");
    assert.equal(productLabel("MI300X"), "NVIDIA-MI300X");
    assert.equal(productLabel("AMD-MI300X-192G"), "AMD-MI300X-192G");
  });

  it("parses Prometheus text and serves an external metric like prometheus-adapter", async () => {
    const text = [
      "# HELP wva_desired_replicas desired",
      "# TYPE wva_desired_replicas gauge",
      'wva_desired_replicas{variant_name="a",namespace="ns1",accelerator_type="H100"} 3',
      'wva_desired_replicas{variant_name="b",namespace="ns1",accelerator_type="A100"} 1 1700000000000',
      'other{x="y \\"q\\""} +Inf',
    ].join("\n");
    const samples = parsePrometheusText(text);
    assert.equal(samples.length, 3);
    assert.equal(samples[2].labels.x, 'y "q"');
    assert.equal(samples[2].value, Infinity);
    const provider = new ScrapeMetricsProvider(
      "http://metrics.invalid/metrics",
      (async () => new Response(text)) as typeof fetch,
    );
    assert.deepEqual(
      await provider.getExternalMetric("ns1", "wva_desired_replicas", {
        variant_name: "a",
        exported_namespace: "ns1",
      }),
      [3],
    );
    await assert.rejects(
      provider.getExternalMetric("ns1", "wva_desired_replicas", { variant_name: "zzz" }),
      /no series of wva_desired_replicas/,
    );
    const down = new ScrapeMetricsProvider(
      "http://metrics.invalid/metrics",
      (async () => new Response("", { status: 503 })) as typeof fetch,
    );
    await assert.rejects(down.getExternalMetric("ns1", "x", {}), /HTTP 503/);
  });
});

describe("playground cluster: store indexes", () => {
  it("pages through namespaces in (namespace, name) order without gaps or repeats", () => {
    const api = new ClusterApi();
    const ns = api.typeFor("v1", "Namespace");
    const cm = api.typeFor("v1", "ConfigMap");
    // "a-b" sorts after "a" as a namespace but "a-b/x" before "a/x" as a string
    for (const n of ["a", "a-b", "b"]) {
      api.create(ns, { metadata: { name: n } });
      for (const name of ["y", "x"]) api.create(cm, { metadata: { name, namespace: n } });
    }
    const seen: string[] = [];
    let cont: string | undefined;
    do {
      const page = api.list(cm, { limit: 2, continue: cont });
      seen.push(...page.items.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`));
      cont = page.continue;
    } while (cont);
    assert.deepEqual(seen, ["a/x", "a/y", "a-b/x", "a-b/y", "b/x", "b/y"]);
  });

  it("finds objects by owner and by uid, following updates and deletes", () => {
    const api = new ClusterApi();
    const cm = api.typeFor("v1", "ConfigMap");
    api.create(api.typeFor("v1", "Namespace"), { metadata: { name: "default" } });
    const owner = api.create(cm, { metadata: { name: "owner", namespace: "default" } });
    const uid = owner.metadata!.uid!;
    const ref = { apiVersion: "v1", kind: "ConfigMap", name: "owner", uid, controller: true };
    const child = api.create(cm, {
      metadata: { name: "child", namespace: "default", ownerReferences: [ref] },
    });
    assert.deepEqual(
      api.peekControlled(cm, "default", uid).map((o) => o.metadata?.name),
      ["child"],
    );
    assert.deepEqual(api.peekControlled(cm, "other", uid), []);
    assert.equal(api.dependentsOf(uid).length, 1);
    api.update(cm, { ...child, metadata: { ...child.metadata, ownerReferences: [] } }, "default");
    assert.deepEqual(api.peekControlled(cm, "default", uid), []);
    assert.ok(api.uidExists(uid));
    api.delete(cm, "default", "owner");
    assert.equal(api.uidExists(uid), false);
  });
});

describe("playground cluster: discovery", () => {
  it("resource metrics are read-only: discovery lists only get and list for them", async () => {
    const { apiResourceList } = await import("../../src/playground/cluster/discovery.js");
    const { builtinResources } = await import("../../src/playground/cluster/resources.js");
    const list = apiResourceList(builtinResources(), "metrics.k8s.io", "v1beta1") as {
      resources: { name: string; verbs: string[] }[];
    };
    assert.deepEqual(
      list.resources.map((r) => [r.name, r.verbs]),
      [
        ["pods", ["get", "list"]],
        ["nodes", ["get", "list"]],
      ],
    );
  });
});
