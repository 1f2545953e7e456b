import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { escapePromQLValue } from "../../src/collect/escape.js";
import {
  PER_MODEL_TEMPLATES,
  QueryName,
  QueryRegistry,
  buildQuery,
  defaultQueryRegistry,
} from "../../src/collect/queries.js";

describe("PromQL escaping", () => {
  it('prod",malicious="attack is escaped to one literal value', () => {
    assert.equal(escapePromQLValue('prod",malicious="attack'), 'prod\\",malicious=\\"attack');
  });

  it("backslashes are doubled before quotes are escaped", () => {
    assert.equal(escapePromQLValue("a\\b"), "a\\\\b");
    // a trailing backslash must not escape the closing quote of the matcher
    assert.equal(escapePromQLValue("ns\\"), "ns\\\\");
    // backslash followed by a quote: both escaped, in that order
    assert.equal(escapePromQLValue('x\\"y'), 'x\\\\\\"y');
    assert.equal(escapePromQLValue("plain-ns"), "plain-ns");
    assert.equal(escapePromQLValue(""), "");
  });

  it("an escaped value parses back to the original as a PromQL string literal", () => {
    for (const raw of ['prod",malicious="attack', "a\\b", 'ns"\\,x="y', "\\\\", '"', "model\nid\r\t"]) {
      const literal = `"${escapePromQLValue(raw)}"`;
      // PromQL double-quoted strings use Go escapes, a subset of JSON's for these characters
      assert.equal(JSON.parse(literal), raw);
    }
  });
});

describe("query templates", () => {
  const reg = defaultQueryRegistry();

  it("builds the exact kv_cache_usage query of the spec", () => {
    assert.equal(
      reg.build(QueryName.kvCacheUsage, { namespace: "ns", modelID: "llama" }),
      'max by (pod) (max_over_time(vllm:kv_cache_usage_perc{namespace="ns",model_name="llama"}[1m]))',
    );
    assert.equal(
      reg.build(QueryName.modelRequestCount, { namespace: "ns", modelID: "m", retentionPeriod: "10m" }),
      'sum(increase(vllm:request_success_total{namespace="ns",model_name="m"}[10m]))',
    );
  });

  it("escapes every parameter on substitution", () => {
    const q = reg.build(QueryName.queueLength, { namespace: 'prod",malicious="attack', modelID: "m\\" });
    assert.equal(
      q,
      'max by (pod) (max_over_time(vllm:num_requests_waiting{namespace="prod\\",malicious=\\"attack",model_name="m\\\\"}[1m]))',
    );
  });

  it("missing parameters fail with a message naming them", () => {
    assert.throws(
      () => reg.build(QueryName.kvCacheUsage, { namespace: "ns" }),
      /missing required parameter "modelID"/,
    );
    assert.throws(
      () => reg.build(QueryName.modelRequestCount, {}),
      /missing required parameter "namespace", "modelID", "retentionPeriod"/,
    );
    assert.throws(() => reg.build("nope", {}), /unknown query "nope"/);
  });

  it("an empty string is a present parameter", () => {
    assert.match(reg.build(QueryName.schedulerQueueSize, { modelID: "" }), /target_model_name=""/);
  });

  it("registering a name twice is an error", () => {
    const r = new QueryRegistry(PER_MODEL_TEMPLATES);
    assert.throws(() => r.register(PER_MODEL_TEMPLATES[0]), /already registered/);
  });

  it("batch templates aggregate by namespace, model_name and pod and take no parameters", () => {
    const q = reg.build("kv_cache_usage:all_models");
    assert.equal(
      q,
      'max by (namespace, model_name, pod) (max_over_time(vllm:kv_cache_usage_perc{model_name!=""}[1m]))',
    );
    assert.equal(buildQuery({ name: "x", params: [], promql: "up" }), "up");
  });
});
