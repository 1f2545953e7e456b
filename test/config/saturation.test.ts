import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigFieldError } from "../../src/config/errors.js";
import {
  applySaturationDefaults,
  parseSaturationConfigMap,
  resolveSaturationConfig,
  validateSaturationConfig,
} from "../../src/config/saturation.js";
import type { SaturationConfig } from "../../src/types/decision.js";
import { DEFAULT_THRESHOLDS } from "../support/engine-fixtures.js";

const cfg = (over: Partial<SaturationConfig>): SaturationConfig => ({ ...DEFAULT_THRESHOLDS, ...over });
const v1 = (kv: number, q: number, kvs: number, qs: number) =>
  cfg({ kvCacheThreshold: kv, queueLengthThreshold: q, kvSpareTrigger: kvs, queueSpareTrigger: qs });

describe("saturation config validation", () => {
  it("valid configs", () => {
    for (const c of [DEFAULT_THRESHOLDS, v1(0.75, 10, 0.15, 5), v1(0, 0, 0, 0), v1(1.0, 1000, 1.0, 1000)]) {
      assert.doesNotThrow(() => validateSaturationConfig(c));
    }
  });

  it("each broken rule is rejected with the field and the rule", () => {
    const cases: Array<[SaturationConfig, RegExp]> = [
      [cfg({ kvCacheThreshold: 1.5 }), /^kvCacheThreshold: must be between 0 and 1, got 1.5$/],
      [cfg({ kvCacheThreshold: -0.1 }), /^kvCacheThreshold: must be between 0 and 1/],
      [cfg({ queueLengthThreshold: -1 }), /^queueLengthThreshold: must be >= 0/],
      [cfg({ kvSpareTrigger: 1.5 }), /^kvSpareTrigger: must be between 0 and 1/],
      [cfg({ kvSpareTrigger: -0.1 }), /^kvSpareTrigger: must be between 0 and 1/],
      [cfg({ queueSpareTrigger: -1 }), /^queueSpareTrigger: must be >= 0/],
      [
        cfg({ kvCacheThreshold: 0.5, kvSpareTrigger: 0.6 }),
        /^kvSpareTrigger: must be <= kvCacheThreshold \(0.6 > 0.5\)$/,
      ],
    ];
    for (const [c, re] of cases) {
      assert.throws(
        () => validateSaturationConfig(c),
        (e: unknown) => e instanceof ConfigFieldError && re.test(e.message),
      );
    }
  });

  it("V2 thresholds are validated only for the V2 analyzer", () => {
    const v2 = cfg({ analyzerName: "saturation", scaleUpThreshold: 0.9, scaleDownBoundary: 0.6 });
    assert.doesNotThrow(() => validateSaturationConfig(v2));
    assert.throws(
      () => validateSaturationConfig({ ...v2, scaleUpThreshold: 1.5 }),
      /scaleUpThreshold: must be > 0 and <= 1/,
    );
    assert.throws(
      () => validateSaturationConfig({ ...v2, scaleUpThreshold: 0.6, scaleDownBoundary: 0.7 }),
      /scaleUpThreshold: must be > scaleDownBoundary/,
    );
    assert.doesNotThrow(() => validateSaturationConfig(cfg({ scaleUpThreshold: 0, scaleDownBoundary: 0 })));
  });

  it("unknown analyzer names are rejected", () => {
    assert.throws(
      () => validateSaturationConfig(cfg({ analyzerName: "v3" })),
      /analyzerName: must be "" \(V1\) or "saturation"/,
    );
  });

  it("V2 defaults fill zeros only; V1 stays untouched", () => {
    const zeros = applySaturationDefaults(cfg({ analyzerName: "saturation" }));
    assert.equal(zeros.scaleUpThreshold, 0.85);
    assert.equal(zeros.scaleDownBoundary, 0.7);
    const explicit = applySaturationDefaults(
      cfg({ analyzerName: "saturation", scaleUpThreshold: 0.9, scaleDownBoundary: 0.6 }),
    );
    assert.equal(explicit.scaleUpThreshold, 0.9);
    assert.equal(explicit.scaleDownBoundary, 0.6);
    const onV1 = applySaturationDefaults(DEFAULT_THRESHOLDS);
    assert.equal(onV1.scaleUpThreshold, 0);
    assert.equal(onV1.scaleDownBoundary, 0);
  });

  it("a valid default gives one entry; an invalid one gives none and no exception", () => {
    const ok = parseSaturationConfigMap({
      default: "kvCacheThreshold: 0.8\nqueueLengthThreshold: 5\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 3\n",
    });
    assert.equal(ok.default?.kvCacheThreshold, 0.8);
    assert.equal(ok.errors.length, 0);
    const bad = parseSaturationConfigMap({ default: "kvCacheThreshold: 1.5\n" });
    assert.equal(bad.default, undefined);
    assert.equal(bad.overrides.length, 0);
    assert.match(bad.errors[0].message, /^default\.kvCacheThreshold: must be between 0 and 1/);
  });

  it("ConfigMap form: `default: {}` means all thresholds 0, as upstream", () => {
    const m = parseSaturationConfigMap({ default: "{}" });
    assert.deepEqual(
      [
        m.default!.kvCacheThreshold,
        m.default!.queueLengthThreshold,
        m.default!.kvSpareTrigger,
        m.default!.queueSpareTrigger,
      ],
      [0, 0, 0, 0],
    );
  });

  it("type errors, YAML errors and unknown keys", () => {
    const m = parseSaturationConfigMap({
      default: "kvCacheThreshold: 0.8\nkvSpareTriger: 0.2\n",
      broken: "invalid: yaml: content: [[[",
      typed: 'model_id: x\nkvCacheThreshold: "high"',
    });
    assert.ok(m.default);
    assert.deepEqual(m.warnings, ["default: unknown field kvSpareTriger ignored"]);
    assert.match(m.errors.find((e) => e.key === "broken")!.message, /^broken: invalid YAML/);
    assert.match(
      m.errors.find((e) => e.key === "typed")!.message,
      /^typed\.kvCacheThreshold: must be a number, got string/,
    );
  });
});

describe("saturation ConfigMap entries checked against their schema", () => {
  it("every unknown key is a warning; unknown YAML tags and non-finite numbers are entry errors", () => {
    const m = parseSaturationConfigMap({
      default: "kvCacheThreshold: 0.8\nfoo: 1\nbar: 2\n",
      tagged: "model_id: x\nkvCacheThreshold: !high 0.9\n",
      nan: "model_id: y\nkvCacheThreshold: .nan\n",
    });
    assert.deepEqual(m.warnings, [
      "default: unknown field foo ignored",
      "default: unknown field bar ignored",
    ]);
    assert.match(
      m.errors.find((e) => e.key === "tagged")!.message,
      /^tagged: invalid YAML: Unresolved tag: !high$/,
    );
    assert.equal(
      m.errors.find((e) => e.key === "nan")!.message,
      "nan.kvCacheThreshold: must be a finite number",
    );
    assert.deepEqual(m.overrides, []);
  });
});

describe("per-model saturation overrides (upstream v0.5.1 parses and ignores them)", () => {
  const data = {
    default: "kvCacheThreshold: 0.8\nqueueLengthThreshold: 5\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 3\n",
    "granite-override":
      "model_id: ibm/granite-13b\nnamespace: lab\nkvCacheThreshold: 0.75\nqueueLengthThreshold: 10\n",
    "granite-any-ns": "model_id: ibm/granite-13b\nkvSpareTrigger: 0.2\n",
  };

  it("an override applies to its model and namespace; missing fields inherit from default", () => {
    const m = parseSaturationConfigMap(data);
    const c = resolveSaturationConfig(m, "ibm/granite-13b", "lab")!;
    assert.equal(c.kvCacheThreshold, 0.75);
    assert.equal(c.queueLengthThreshold, 10);
    assert.equal(c.kvSpareTrigger, 0.1); // inherited
    assert.equal(c.queueSpareTrigger, 3); // inherited
  });

  it("an override without namespace applies in every other namespace; other models get default", () => {
    const m = parseSaturationConfigMap(data);
    assert.equal(resolveSaturationConfig(m, "ibm/granite-13b", "prod")!.kvSpareTrigger, 0.2);
    assert.deepEqual(resolveSaturationConfig(m, "other", "lab"), m.default);
  });

  it("an override that breaks a rule after merging is dropped with the key and rule", () => {
    const m = parseSaturationConfigMap({
      default: "kvCacheThreshold: 0.8\nkvSpareTrigger: 0.1",
      x: "model_id: m\nkvCacheThreshold: 0.05",
      y: "kvCacheThreshold: 0.5",
    });
    assert.equal(m.overrides.length, 0);
    assert.match(m.errors[0].message, /^x\.kvSpareTrigger: must be <= kvCacheThreshold/);
    assert.match(m.errors[1].message, /^y\.model_id: required in an override entry/);
  });

  it("without a default entry the model has no config (skipped)", () => {
    const m = parseSaturationConfigMap({ x: "model_id: m\nkvCacheThreshold: 0.5" });
    assert.equal(resolveSaturationConfig(m, "m", "ns"), undefined);
  });
});
