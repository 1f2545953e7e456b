import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { stringify } from "yaml";
import {
  parseSaturationConfigMap,
  resolveSaturationConfig,
  validateSaturationConfig,
} from "../../src/config/saturation.js";
import { parseScaleToZeroConfigMap, resolveScaleToZero } from "../../src/config/scale-to-zero.js";
import { Tally, bounded, fuzzParameters, mutated } from "./support.js";

/** ConfigMap data: a few keys, each a YAML document derived from a valid entry, or plain text. */
function configMapData(entries: Record<string, unknown>): fc.Arbitrary<Record<string, string>> {
  const doc = fc.oneof(
    { arbitrary: fc.constantFrom(...Object.values(entries)).chain((e) => mutated(e)), weight: 4 },
    { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
  );
  // ConfigMap keys are non-empty and made of letters, digits, "-", "_" and "."
  const key = fc.oneof(fc.constantFrom(...Object.keys(entries)), fc.stringMatching(/^[-._a-zA-Z0-9]{1,10}$/));
  return fc.dictionary(
    key,
    doc.map((d) => (typeof d === "string" ? d : (stringify(d) ?? ""))),
    { maxKeys: 4 },
  );
}

/** An error of a ConfigMap entry names the entry's key, or a field below it, first. */
function namesKey(key: string, message: string): boolean {
  return message.startsWith(`${key}: `) || message.startsWith(`${key}.`);
}

describe("fuzz: saturation and scale-to-zero ConfigMaps", () => {
  it("saturation ConfigMap data: entries are accepted valid or reported naming their key; parsing never throws", () => {
    const tally = new Tally("saturation ConfigMap", "entries");
    const entries = {
      default: { kvCacheThreshold: 0.8, queueLengthThreshold: 5, kvSpareTrigger: 0.1, queueSpareTrigger: 3 },
      llama: { model_id: "meta/llama-3.1-8b", namespace: "ns", kvCacheThreshold: 0.7 },
    };
    fc.assert(
      fc.property(configMapData(entries), (data) => {
        tally.tried++;
        const map = bounded("parseSaturationConfigMap", () => parseSaturationConfigMap(data));
        for (const e of map.errors) {
          assert.ok(namesKey(e.key, e.message), `${e.key}: ${e.message}`);
          assert.doesNotMatch(e.message, /\n/);
        }
        tally.rejected += map.errors.length;
        tally.accepted += map.overrides.length + (map.default ? 1 : 0);
        for (const o of map.overrides) {
          const cfg = resolveSaturationConfig(map, o.modelID, o.namespace);
          if (cfg) validateSaturationConfig(cfg, o.key);
        }
        if (map.default) validateSaturationConfig(map.default, "default");
      }),
      fuzzParameters(),
    );
    tally.report();
  });

  it("scale-to-zero ConfigMap data: entries are accepted with a usable retention or reported naming their key", () => {
    const tally = new Tally("scale-to-zero ConfigMap", "entries");
    const entries = {
      default: { enable_scale_to_zero: false, retention_period: "10m" },
      llama: { model_id: "meta/llama-3.1-8b", enable_scale_to_zero: true, retention_period: "5m" },
    };
    fc.assert(
      fc.property(configMapData(entries), (data) => {
        tally.tried++;
        const map = bounded("parseScaleToZeroConfigMap", () => parseScaleToZeroConfigMap(data));
        for (const e of map.errors) {
          assert.ok(namesKey(e.key, e.message), `${e.key}: ${e.message}`);
          assert.doesNotMatch(e.message, /\n/);
        }
        tally.rejected += map.errors.length;
        tally.accepted += map.byModel.size + (map.default ? 1 : 0);
        for (const id of [...map.byModel.keys(), "unlisted-model"]) {
          const r = resolveScaleToZero(map, id, undefined);
          assert.equal(typeof r.enabled, "boolean");
          assert.ok(Number.isFinite(r.retentionMs) && r.retentionMs > 0, `retention ${r.retentionMs}`);
        }
      }),
      fuzzParameters(),
    );
    tally.report();
  });
});
