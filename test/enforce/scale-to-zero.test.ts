import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  parseScaleToZeroConfigMap,
  resolveScaleToZero,
  retentionPeriodMs,
} from "../../src/config/scale-to-zero.js";
import { buildQuery, PER_MODEL_TEMPLATES, QueryName } from "../../src/collect/queries.js";
import { enforceScaleToZero } from "../../src/enforce/scale-to-zero.js";
import { formatPrometheusDuration } from "../../src/util/prometheus-duration.js";
import { MAX_TIMER_DELAY_MS } from "../../src/util/timer.js";

const targets = (t: Record<string, number>, cost: Record<string, number> = {}) =>
  Object.entries(t).map(([variant, target]) => ({ variant, target, cost: cost[variant] }));
const asMap = (r: ReturnType<typeof enforceScaleToZero>) =>
  Object.fromEntries(r.targets.map((t) => [t.variant, t.target]));
const TEN_MIN = 10 * 60_000;

describe("scale-to-zero enforcer (docs/design/scale-to-zero.md)", () => {
  it("enabled and no requests in the retention window ⇒ every target 0", () => {
    const r = enforceScaleToZero(targets({ a: 2, b: 1 }), {
      enabled: true,
      requestCount: 0,
      retentionMs: TEN_MIN,
    });
    assert.deepEqual(asMap(r), { a: 0, b: 0 });
    assert.equal(r.applied, true);
    assert.equal(r.policy, "scale-to-zero");
    assert.equal(r.reason, "No requests in retention period in the last 10m, scaling to zero");
  });

  it("enabled with requests ⇒ unchanged", () => {
    const r = enforceScaleToZero(targets({ a: 2, b: 1 }), { enabled: true, requestCount: 10 });
    assert.deepEqual(asMap(r), { a: 2, b: 1 });
    assert.equal(r.applied, false);
  });

  it("enabled but the request-count query failed ⇒ unchanged (never scale to zero on uncertainty)", () => {
    const r = enforceScaleToZero(targets({ a: 2, b: 1 }), {
      enabled: true,
      requestCount: null,
      retentionMs: TEN_MIN,
      error: "prometheus unavailable",
    });
    assert.deepEqual(asMap(r), { a: 2, b: 1 });
    assert.equal(r.applied, false);
    assert.match(r.reason, /request count is unknown \(prometheus unavailable\)/);
  });

  it("disabled and all targets 0 ⇒ the cheapest variant gets 1", () => {
    const r = enforceScaleToZero(targets({ a: 0, b: 0 }, { a: 2, b: 1 }), {
      enabled: false,
      requestCount: null,
    });
    assert.deepEqual(asMap(r), { a: 0, b: 1 });
    assert.equal(r.applied, true);
    assert.equal(r.policy, "minimum-replica");
  });

  it("disabled and some replicas left ⇒ unchanged", () => {
    const r = enforceScaleToZero(targets({ a: 2, b: 0 }), { enabled: false, requestCount: null });
    assert.deepEqual(asMap(r), { a: 2, b: 0 });
    assert.equal(r.applied, false);
  });

  it("equal cost ⇒ the alphabetically first variant gets the minimum replica", () => {
    const r = enforceScaleToZero(
      targets({ "variant-z": 0, "variant-a": 0 }, { "variant-z": 1, "variant-a": 1 }),
      {
        enabled: false,
        requestCount: null,
      },
    );
    assert.deepEqual(asMap(r), { "variant-z": 0, "variant-a": 1 });
  });

  it("a missing cost counts as 10", () => {
    const r = enforceScaleToZero(targets({ a: 0, b: 0 }, { b: 11 }), { enabled: false, requestCount: null });
    assert.deepEqual(asMap(r), { a: 1, b: 0 });
  });

  it("a per-model entry without enable_scale_to_zero inherits default's true", () => {
    const map = parseScaleToZeroConfigMap({
      default: "enable_scale_to_zero: true\nretention_period: 15m\n",
      llama: "model_id: meta/llama\nnamespace: prod\nretention_period: 5m\n",
    });
    assert.deepEqual(resolveScaleToZero(map, "meta/llama"), { enabled: true, retentionMs: 5 * 60_000 });
    assert.deepEqual(resolveScaleToZero(map, "other"), { enabled: true, retentionMs: 15 * 60_000 });
  });

  it("no entries and env WVA_SCALE_TO_ZERO=TRUE ⇒ enabled (case-insensitive)", () => {
    const map = parseScaleToZeroConfigMap({});
    assert.equal(resolveScaleToZero(map, "m", "TRUE").enabled, true);
    assert.equal(resolveScaleToZero(map, "m", "yes").enabled, false);
    assert.equal(resolveScaleToZero(map, "m").enabled, false);
  });

  it("an explicit false in the model entry wins over default and env", () => {
    const map = parseScaleToZeroConfigMap({
      default: "enable_scale_to_zero: true",
      x: "model_id: m\nenable_scale_to_zero: false",
    });
    assert.equal(resolveScaleToZero(map, "m", "true").enabled, false);
  });

  it("invalid retention values fall back to default's, then to 10m", () => {
    const a = parseScaleToZeroConfigMap({
      default: "retention_period: 15m",
      x: "model_id: m\nretention_period: abc\nenable_scale_to_zero: true",
    });
    assert.equal(retentionPeriodMs(a, "m"), 15 * 60_000);
    assert.equal(a.byModel.get("m")?.enableScaleToZero, true);
    assert.deepEqual(
      a.errors.map((e) => e.message),
      ['x.retention_period: must be a duration from 1ms to 596h31m23.647s, got "abc"; ignored'],
    );
    const b = parseScaleToZeroConfigMap({ x: "model_id: m\nretention_period: -5m" });
    assert.equal(retentionPeriodMs(b, "m"), TEN_MIN);
    const c = parseScaleToZeroConfigMap({ default: "retention_period: 0s" });
    assert.equal(retentionPeriodMs(c, "m"), TEN_MIN);
  });

  it("retention_period is bounded by the longest timer delay (about 24.8 days) and 1ms", () => {
    const at = (text: string) => {
      const map = parseScaleToZeroConfigMap({ default: `retention_period: ${text}` });
      return { ms: retentionPeriodMs(map, "m"), errors: map.errors.map((e) => e.message) };
    };
    assert.deepEqual(at("596h31m23.647s"), { ms: MAX_TIMER_DELAY_MS, errors: [] });
    assert.deepEqual(at("1ms"), { ms: 1, errors: [] });
    for (const text of ["596h31m23.648s", "1000h", "0.5ms"]) {
      const r = at(text);
      assert.equal(r.ms, TEN_MIN, text);
      assert.match(
        r.errors.join(),
        /^default\.retention_period: must be a duration from 1ms to 596h31m23\.647s/,
        text,
      );
    }
  });

  it("ConfigMap parsing: YAML errors and entries without model_id are skipped; the first key wins on duplicates", () => {
    const map = parseScaleToZeroConfigMap({
      "b-entry": "model_id: m\nretention_period: 2m",
      "a-entry": "model_id: m\nretention_period: 1m",
      broken: "model_id: [",
      nomodel: "retention_period: 3m",
      typed: 'model_id: z\nenable_scale_to_zero: "yes"',
    });
    assert.equal(map.byModel.get("m")!.key, "a-entry");
    assert.deepEqual(
      map.errors.map((e) => e.key),
      ["b-entry", "broken", "nomodel", "typed"],
    );
    assert.match(
      map.errors.find((e) => e.key === "typed")!.message,
      /enable_scale_to_zero: must be a boolean/,
    );
  });
});

describe("request-count query of the scale-to-zero enforcer", () => {
  const template = PER_MODEL_TEMPLATES.find((t) => t.name === QueryName.modelRequestCount)!;
  const query = (namespace: string, modelID: string, retentionMs: number) =>
    buildQuery(template, { namespace, modelID, retentionPeriod: formatPrometheusDuration(retentionMs) });

  it("the PromQL uses the formatted retention, the model and the namespace", () => {
    const q = query("test-ns", "test-model", 15 * 60_000);
    assert.ok(q.startsWith("sum(increase(vllm:request_success_total{"), q);
    assert.ok(
      q.includes("[15m]") && q.includes('model_name="test-model"') && q.includes('namespace="test-ns"'),
    );
  });

  it("parameter values are escaped", () => {
    const q = query('prod",x="y', "m", 60_000);
    assert.ok(q.includes('namespace="prod\\",x=\\"y"'));
  });
});
