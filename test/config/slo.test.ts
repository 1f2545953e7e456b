import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveSloTargets } from "../../src/analyze/queueing-model/slo.js";
import { parseSloConfigMap, sloSettingsFor } from "../../src/config/slo.js";

const errorsOf = (data: Record<string, string>) => parseSloConfigMap(data).errors.map((e) => e.message);

describe("SLO ConfigMap", () => {
  it("defaults to multiplier 3 with tuning on", () => {
    const c = parseSloConfigMap(undefined);
    assert.equal(c.sloMultiplier, 3);
    assert.equal(c.tuningEnabled, true);
    assert.deepEqual(c.errors, []);
    assert.deepEqual(sloSettingsFor(c, "m", "ns"), {
      sloMultiplier: 3,
      tuningEnabled: true,
      targets: undefined,
      priority: 100,
    });
  });

  it("reads the default entry, per-model entries and service classes", () => {
    const c = parseSloConfigMap({
      default: "sloMultiplier: 4\ntuningEnabled: false\n",
      "llama-prod":
        "model_id: meta/llama\nnamespace: prod\ntargetTTFT: 500\ntargetITL: 50\nsloMultiplier: 2.5\n",
      "llama-dev": "model_id: meta/llama\nnamespace: dev\ntuningEnabled: true\n",
      "premium.yaml":
        "name: Premium\npriority: 1\ndata:\n  - {model: meta/llama, slo-ttft: 800, slo-tpot: 24}\n  - {model: granite, slo-ttft: 2000, slo-tpot: 200}\n",
      "zfree.yaml": "name: Free\npriority: 150\ndata:\n  - {model: granite, slo-ttft: 9000, slo-tpot: 900}\n",
    });
    assert.deepEqual(c.errors, []);
    assert.deepEqual(sloSettingsFor(c, "meta/llama", "prod"), {
      sloMultiplier: 2.5,
      tuningEnabled: false,
      targets: { ttftMs: 500, itlMs: 50 },
      priority: 1,
    });
    assert.deepEqual(sloSettingsFor(c, "meta/llama", "dev"), {
      sloMultiplier: 4,
      tuningEnabled: true,
      targets: { ttftMs: 800, itlMs: 24 },
      priority: 1,
    });
    assert.deepEqual(sloSettingsFor(c, "granite", "any").targets, { ttftMs: 2000, itlMs: 200 });
    assert.equal(c.classes[1].priority, 100);
    assert.equal(sloSettingsFor(c, "other", "ns").targets, undefined);
  });

  it("accepts a multiplier above 1 and both or neither target", () => {
    for (const doc of ["sloMultiplier: 3.0", "sloMultiplier: 0", "{}"])
      assert.deepEqual(errorsOf({ default: doc }), []);
    assert.deepEqual(
      errorsOf({ m: "model_id: my-model\nnamespace: my-ns\ntargetTTFT: 500\ntargetITL: 50" }),
      [],
    );
  });

  it("rejects invalid entries naming the field and keeps the valid ones", () => {
    const cases: Array<[string, string, RegExp]> = [
      ["default", "sloMultiplier: 1.0", /^default\.sloMultiplier: must be > 1/],
      ["default", "sloMultiplier: 0.5", /^default\.sloMultiplier: must be >= 0|must be > 1/],
      ["m", "model_id: a\nnamespace: b\ntargetTTFT: 500", /^m\.targetITL: required and > 0/],
      ["m", "model_id: a\nnamespace: b\ntargetITL: 50", /^m\.targetTTFT: required and > 0/],
      ["m", "model_id: a\nnamespace: b\ntargetTTFT: -1\ntargetITL: 5", /^m\.targetTTFT: must be >= 0/],
      ["m", "model_id: a\nnamespace: b\ntargetITL: -1\ntargetTTFT: 5", /^m\.targetITL: must be >= 0/],
      ["m", "model_id: my-model", /^m\.namespace: required/],
      ["m", "namespace: my-ns", /^m\.model_id: required/],
      ["m", "model_id: a\nnamespace: b\ntargetTTFT: fast", /^m\.targetTTFT: must be a number, got string$/],
      ["m", "model_id: a\nnamespace: b\ntargetTtft: 5", /^m\.targetTtft: unknown field/],
      ["c", "name: Gold\ndata:\n  - {model: a, slo-ttft: -5}", /^c\.data\[0\]\.slo-ttft: must be >= 0/],
      ["c", "name: Gold\npriority: high\ndata: []", /^c\.priority: must be a number, got string$/],
      ["m", "- a\n- b", /^m: must be a mapping, got array/],
      ["m", "model_id: [", /^m: invalid YAML/],
      ["m", "model_id: a\nmodel_id: b\nnamespace: c", /^m: invalid YAML: .*unique/i],
      ["m", "model_id: !foo a\nnamespace: b", /^m: invalid YAML/],
      ["c", "name: Gold\npriority: 1.5\ndata: []", /^c\.priority: must be an integer, got 1\.5$/],
      ["c", "name: Gold\ndata:\n  - {model: a, slo-itl: 5}", /^c\.data\[0\]\.slo-itl: unknown field$/],
    ];
    for (const [key, doc, re] of cases) {
      const c = parseSloConfigMap({ [key]: doc, ok: "model_id: x\nnamespace: y" });
      assert.equal(c.errors.length, 1, `${key}: ${doc}`);
      assert.match(c.errors[0].message, re);
      assert.equal(c.models.filter((m) => m.key === "ok").length, 1);
    }
    const dup = errorsOf({ a: "model_id: x\nnamespace: y", b: "model_id: x\nnamespace: y" });
    assert.deepEqual(dup, ['b.model_id: y/x is already set by "a"']);
  });
});

describe("SLO resolution", () => {
  const learned = { alpha: 6, beta: 0.03, gamma: 0.0002 };
  const base = { sloMultiplier: 3, params: [learned], avgInputTokens: 128, avgOutputTokens: 128 };

  it("prefers explicit targets", () => {
    assert.deepEqual(resolveSloTargets({ ...base, explicit: { ttftMs: 500, itlMs: 50 } }), {
      ttftMs: 500,
      itlMs: 50,
      source: "explicit",
    });
    assert.deepEqual(resolveSloTargets({ ...base, explicit: { ttftMs: 0, itlMs: 40 } }), {
      ttftMs: 0,
      itlMs: 40,
      source: "explicit",
    });
  });

  it("infers targets from learned parameters with the multiplier, worst variant wins", () => {
    const r = resolveSloTargets(base);
    assert.ok("ttftMs" in r);
    assert.equal(r.source, "inferred");
    assert.ok(Math.abs(r.ttftMs - 21.8656) < 1e-9);
    assert.ok(Math.abs(r.itlMs - 18.0685) < 1e-9);
    const two = resolveSloTargets({ ...base, params: [learned, { alpha: 2, beta: 0.2, gamma: 0.0001 }] });
    assert.ok("ttftMs" in two);
    assert.ok(Math.abs(two.ttftMs - (3 * 2 + 0.2001 * 128)) < 1e-9);
    assert.ok(Math.abs(two.itlMs - 18.0685) < 1e-9);
  });

  it("falls back to observed latencies with headroom, capped", () => {
    const none = { ...base, params: [{ alpha: 0, beta: 0, gamma: 0 }] };
    assert.deepEqual(resolveSloTargets({ ...none, observed: { ttftMs: 200, itlMs: 20 } }), {
      ttftMs: 300,
      itlMs: 30,
      source: "observed",
    });
    const capped = resolveSloTargets({ ...none, observed: { ttftMs: 8000, itlMs: 400 } });
    assert.deepEqual(capped, { ttftMs: 10000, itlMs: 500, source: "observed" });
    assert.match((resolveSloTargets(none) as { error: string }).error, /no SLO targets/);
  });
});
