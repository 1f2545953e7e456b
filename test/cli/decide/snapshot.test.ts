import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readBounded } from "../../../src/cli/commands/decide.js";
import { UsageError } from "../../../src/cli/usage-error.js";
import { decide } from "../../../src/cli/decide/decide.js";
import { parseSnapshotText, SnapshotError, validateSnapshot } from "../../../src/cli/decide/snapshot.js";
import { assertSnapshotRejects } from "../../support/snapshot.js";

const variant = (over: Record<string, unknown> = {}) => ({
  name: "v1",
  namespace: "ns",
  modelID: "m",
  currentReplicas: 2,
  replicas: [
    { pod: "p1", kvCacheUsage: 0.75, queueLength: 2 },
    { pod: "p2", kvCacheUsage: 0.76, queueLength: 2 },
  ],
  ...over,
});

function rejects(doc: unknown, field: string, rule: RegExp): void {
  assertSnapshotRejects(() => validateSnapshot(doc), field, rule);
}

describe("wva decide snapshot validation", () => {
  it("fills defaults: shipped thresholds, cost 10, 1 GPU, ready = current, desired 0, accelerator unknown", () => {
    const s = validateSnapshot({ variants: [variant({ replicas: undefined })] });
    assert.equal(s.saturation.kvCacheThreshold, 0.8);
    assert.equal(s.saturation.queueSpareTrigger, 3);
    assert.deepEqual(
      { ...s.variants[0] },
      {
        name: "v1",
        namespace: "ns",
        modelID: "m",
        accelerator: "unknown",
        cost: 10,
        gpusPerReplica: 1,
        currentReplicas: 2,
        readyReplicas: 2,
        desiredReplicas: 0,
        replicas: [],
      },
    );
  });

  it("variant bounds: annotation and HPA maximums, named by path when invalid", () => {
    const bounds = [
      { source: "annotation", maxReplicas: 3 },
      { source: "hpa", maxReplicas: 5 },
    ];
    assert.deepEqual(validateSnapshot({ variants: [variant({ bounds })] }).variants[0].bounds, bounds);
    assert.equal(validateSnapshot({ variants: [variant({ bounds: [] })] }).variants[0].bounds, undefined);
    rejects(
      { variants: [variant({ bounds: [{ source: "limiter", maxReplicas: 1 }] })] },
      "variants[0].bounds[0].source",
      /must be one of/,
    );
    rejects(
      { variants: [variant({ bounds: [{ source: "hpa", maxReplicas: -1 }] })] },
      "variants[0].bounds[0].maxReplicas",
      /must be >= 0/,
    );
  });

  it("unknown fields are rejected with their path", () => {
    rejects({ variants: [], extra: 1 }, "extra", /unknown field/);
    rejects({ variants: [variant({ replica: [] })] }, "variants[0].replica", /unknown field/);
    rejects(
      { variants: [variant({ replicas: [{ pod: "p", kvCacheUsage: 0.1, queueLength: 0, ttft: 1 }] })] },
      "variants[0].replicas[0].ttft",
      /unknown field/,
    );
    rejects(
      { saturation: { kvCacheTreshold: 0.5 }, variants: [] },
      "saturation.kvCacheTreshold",
      /unknown field/,
    );
    rejects(
      { saturationOverrides: [{ model_id: "m", foo: 1 }], variants: [] },
      "saturationOverrides[0].foo",
      /unknown field/,
    );
    rejects(
      { scaleToZero: [{ modelID: "m", namespace: "ns", enabled: true, retention: "5m" }], variants: [] },
      "scaleToZero[0].retention",
      /unknown field/,
    );
  });

  it("wrong types are rejected with the expected type", () => {
    rejects(
      { variants: [variant({ currentReplicas: "2" })] },
      "variants[0].currentReplicas",
      /must be a number, got string/,
    );
    rejects(
      { variants: [variant({ currentReplicas: 1.5 })] },
      "variants[0].currentReplicas",
      /must be an integer/,
    );
    rejects({ variants: {} }, "variants", /must be a list, got object/);
    rejects(
      { saturation: { enableLimiter: "yes" }, variants: [] },
      "saturation.enableLimiter",
      /must be a boolean, got string/,
    );
    rejects({ gpuInventory: { H100: "8" }, variants: [] }, "gpuInventory.H100", /must be a number/);
    rejects(
      { scaleToZero: [{ modelID: "m", namespace: "ns", enabled: "true" }], variants: [] },
      "scaleToZero[0].enabled",
      /must be a boolean/,
    );
    rejects([1, 2], "snapshot", /must be a mapping, got array/);
  });

  it("missing required fields are named", () => {
    rejects({}, "variants", /required field is missing/);
    rejects(
      { variants: [variant({ modelID: undefined })] },
      "variants[0].modelID",
      /required field is missing/,
    );
    rejects(
      { variants: [variant({ currentReplicas: undefined })] },
      "variants[0].currentReplicas",
      /required field is missing/,
    );
    rejects(
      { variants: [variant({ replicas: [{ pod: "p", queueLength: 0 }] })] },
      "variants[0].replicas[0].kvCacheUsage",
      /required/,
    );
    rejects(
      { saturationOverrides: [{ kvCacheThreshold: 0.5 }], variants: [] },
      "saturationOverrides[0].model_id",
      /required/,
    );
    rejects(
      { scaleToZero: [{ modelID: "m", namespace: "ns" }], variants: [] },
      "scaleToZero[0].enabled",
      /required/,
    );
    rejects(null, "snapshot", /is empty/);
  });

  it("invalid thresholds and ranges are named with the rule", () => {
    rejects(
      { saturation: { kvCacheThreshold: 1.5 }, variants: [] },
      "saturation.kvCacheThreshold",
      /between 0 and 1/,
    );
    rejects(
      { saturation: { kvCacheThreshold: 0.5, kvSpareTrigger: 0.6 }, variants: [] },
      "saturation.kvSpareTrigger",
      /<= kvCacheThreshold/,
    );
    rejects(
      { saturation: { queueLengthThreshold: -1 }, variants: [] },
      "saturation.queueLengthThreshold",
      />= 0/,
    );
    rejects(
      { saturationOverrides: [{ model_id: "m", kvCacheThreshold: 0.05 }], variants: [] },
      "saturationOverrides[0].kvSpareTrigger",
      /<= kvCacheThreshold/,
    );
    rejects(
      { variants: [variant({ replicas: [{ pod: "p", kvCacheUsage: 1.2, queueLength: 0 }] })] },
      "variants[0].replicas[0].kvCacheUsage",
      /<= 1/,
    );
    rejects({ variants: [variant({ currentReplicas: -1 })] }, "variants[0].currentReplicas", />= 0/);
  });

  it("duplicates and limiter without inventory are rejected; the V2 analyzer is accepted", () => {
    rejects({ variants: [variant(), variant()] }, "variants[1].name", /duplicate variant v1 in namespace ns/);
    rejects(
      { saturation: { enableLimiter: true }, variants: [] },
      "gpuInventory",
      /required when saturation.enableLimiter is true/,
    );
    const v2 = validateSnapshot({ saturation: { analyzerName: "saturation" }, variants: [] });
    assert.deepEqual([v2.saturation.scaleUpThreshold, v2.saturation.scaleDownBoundary], [0.85, 0.7]);
    rejects(
      { saturationOverrides: [{ model_id: "m" }, { model_id: "m" }], variants: [] },
      "saturationOverrides[1]",
      /duplicate override/,
    );
  });

  it("scale-to-zero entries: counts, null, negative counts and duplicates", () => {
    const s = validateSnapshot({
      scaleToZero: [
        { modelID: "m", namespace: "ns", enabled: true, requestCount: 12 },
        { modelID: "m", namespace: "other", enabled: true, requestCount: null },
      ],
      variants: [variant()],
    });
    assert.deepEqual(
      s.scaleToZero.map((e) => e.requestCount),
      [12, null],
    );
    // requests in the window ⇒ the model keeps its replicas (and scales up here)
    assert.equal(decide(s).models[0].decisions[0].targetReplicas, 3);
    rejects(
      { scaleToZero: [{ modelID: "m", namespace: "ns", enabled: true, requestCount: -1 }], variants: [] },
      "scaleToZero[0].requestCount",
      />= 0/,
    );
    rejects(
      {
        scaleToZero: [
          { modelID: "m", namespace: "ns", enabled: false },
          { modelID: "m", namespace: "ns", enabled: true },
        ],
        variants: [],
      },
      "scaleToZero[1]",
      /duplicate entry for modelID m in namespace ns/,
    );
  });

  it("YAML syntax errors are reported on the snapshot", () => {
    assert.throws(
      () => parseSnapshotText("variants: [\n"),
      (e: unknown) => e instanceof SnapshotError && e.field === "snapshot",
    );
  });

  it("the documented example snapshot produces its documented analysis and decision", () => {
    const out = decide(
      validateSnapshot({
        variants: [
          {
            name: "v1",
            namespace: "ns",
            modelID: "m",
            accelerator: "H100",
            cost: 20,
            gpusPerReplica: 1,
            currentReplicas: 2,
            readyReplicas: 2,
            desiredReplicas: 0,
            replicas: [
              { pod: "p1", kvCacheUsage: 0.75, queueLength: 2 },
              { pod: "p2", kvCacheUsage: 0.76, queueLength: 2 },
            ],
          },
        ],
      }),
    );
    assert.deepEqual(out.models[0].analysis, {
      totalReplicas: 2,
      nonSaturatedReplicas: 2,
      avgSpareKv: 0.045,
      avgSpareQueue: 3,
      scaleUp: true,
      scaleDownSafe: false,
      inTransition: false,
    });
    const { reason, ...rest } = out.models[0].decisions[0];
    assert.deepEqual(rest, {
      variant: "v1",
      accelerator: "H100",
      currentReplicas: 2,
      targetReplicas: 3,
      action: "scale-up",
      wasLimited: false,
    });
    assert.match(reason, /^saturation-only mode: scale-up \(KV spare Saturation low \(0\.045 < 0\.100\)/);
  });

  it("per-model overrides apply to their model only (upstream v0.5.1 ignored them)", () => {
    const snap = validateSnapshot({
      saturationOverrides: [{ model_id: "m", namespace: "ns", kvCacheThreshold: 0.9 }],
      variants: [variant(), variant({ name: "v2", modelID: "other" })],
    });
    const out = decide(snap);
    // with 0.9 the spare KV is 0.145 ≥ 0.1: no scale-up for m; "other" keeps 0.8 and scales up
    assert.deepEqual(
      out.models.map((m) => [m.modelID, m.analysis.scaleUp]),
      [
        ["m", false],
        ["other", true],
      ],
    );
  });

  it("output order: models by namespace then modelID, decisions by variant name", () => {
    const out = decide(
      validateSnapshot({
        variants: [
          variant({ name: "z", namespace: "b", modelID: "a" }),
          variant({ name: "y", namespace: "a", modelID: "b" }),
          variant({ name: "x", namespace: "a", modelID: "b" }),
          variant({ name: "w", namespace: "a", modelID: "a" }),
        ],
      }),
    );
    assert.deepEqual(
      out.models.map((m) => [m.namespace, m.modelID, m.decisions.map((d) => d.variant)]),
      [
        ["a", "a", ["w"]],
        ["a", "b", ["x", "y"]],
        ["b", "a", ["z"]],
      ],
    );
  });

  it("20,000 variants of one model are decided in well under a second or two (O(n log n))", () => {
    const variants = Array.from({ length: 20_000 }, (_, i) =>
      variant({
        name: `v${i}`,
        cost: 10 + (i % 7),
        currentReplicas: 1,
        replicas: [{ pod: `p${i}`, kvCacheUsage: 0.5, queueLength: 1 }],
      }),
    );
    const start = performance.now();
    const out = decide(validateSnapshot({ variants }));
    const ms = performance.now() - start;
    assert.equal(out.models[0].decisions.length, 20_000);
    // the quadratic version took about 9 s on the same machine
    assert.ok(ms < 3_000, `took ${Math.round(ms)} ms`);
  });

  it("Infinity, unknown YAML tags and readyReplicas above currentReplicas are refused", () => {
    const bad = (text: string, field: string, rule: RegExp) =>
      assertSnapshotRejects(() => parseSnapshotText(text), field, rule);
    bad(
      '{"saturation": {"queueSpareTrigger": 1e999}, "variants": []}',
      "saturation.queueSpareTrigger",
      /^must be a finite number$/,
    );
    bad(
      "saturation: {kvCacheThreshold: -.inf}\nvariants: []\n",
      "saturation.kvCacheThreshold",
      /^must be a finite number$/,
    );
    bad("variants: !foo []\n", "snapshot", /^not valid YAML or JSON: Unresolved tag: !foo$/);
    rejects(
      { variants: [variant({ currentReplicas: 1, readyReplicas: 3 })] },
      "variants[0].readyReplicas",
      /^must be <= currentReplicas \(3 > 1\)$/,
    );
  });

  it("input is read up to a bound: larger files and directories are usage errors", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wva-decide-"));
    try {
      const file = join(dir, "big.yaml");
      writeFileSync(file, "x".repeat(2048));
      assert.equal((await readBounded(file, 2048)).length, 2048);
      await assert.rejects(
        readBounded(file, 2047),
        (e: unknown) => e instanceof UsageError && /larger than/.test(e.message),
      );
      await assert.rejects(
        readBounded(dir),
        (e: unknown) => e instanceof UsageError && /\(EISDIR\)$/.test(e.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
