import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { analyzeSaturation } from "../../src/analyze/saturation.js";
import { C0, NOW, reps, state } from "../support/engine-fixtures.js";
import { ZERO_SATURATION_CONFIG } from "../../src/config/saturation.js";

const opts = { modelID: "m", namespace: "ns", now: NOW };
const close = (a: number, b: number, msg?: string) =>
  assert.ok(Math.abs(a - b) < 1e-9, msg ?? `${a} != ${b}`);

describe("V1 saturation analysis (docs/design/saturation-analysis.md)", () => {
  it("two replicas near the KV threshold trigger a scale-up through the KV spare trigger", () => {
    const a = analyzeSaturation(
      reps("v1", [
        [0.75, 2],
        [0.76, 2],
      ]),
      C0,
      opts,
    );
    assert.equal(a.nonSaturatedReplicas, 2);
    close(a.avgSpareKv, 0.045);
    close(a.avgSpareQueue, 3.0);
    assert.equal(a.scaleUp, true);
    assert.equal(a.scaleUpReason, "KV spare Saturation low (0.045 < 0.100)");
    assert.equal(a.scaleDownSafe, false);
  });

  it("half-loaded replicas: no scale-up, and removing one would overload (not safe)", () => {
    const a = analyzeSaturation(
      reps("v1", [
        [0.5, 1],
        [0.5, 1],
      ]),
      C0,
      opts,
    );
    close(a.avgSpareKv, 0.3);
    close(a.avgSpareQueue, 4);
    assert.equal(a.scaleUp, false);
    assert.equal(a.scaleDownSafe, false);
    // load 0.5 × 2/1 = 1.0 ⇒ spare 0.8 − 1.0 = −0.2 < 0.1
    assert.match(a.scaleDownReason, /KV spare after removing one replica -0\.200 < 0\.100/);
  });

  it("avgSpareKv 0.075 scales up; the N/(N-1) projection makes scale-down unsafe", () => {
    const a = analyzeSaturation(
      reps("v1", [
        [0.7, 2],
        [0.75, 2],
      ]),
      C0,
      opts,
    );
    close(a.avgSpareKv, 0.075);
    assert.equal(a.scaleUp, true);
    assert.equal(a.scaleDownSafe, false);
    assert.match(a.scaleDownReason, /-0\.650 < 0\.100/);
  });

  it("a single non-saturated replica is never safe to scale down", () => {
    const a = analyzeSaturation(reps("v1", [[0.5, 2]]), C0, opts);
    assert.equal(a.nonSaturatedReplicas, 1);
    assert.equal(a.scaleDownSafe, false);
    assert.match(a.scaleDownReason, /fewer than 2 non-saturated replicas/);
  });

  it("no replicas gives an empty analysis", () => {
    const a = analyzeSaturation([], C0, opts);
    assert.equal(a.totalReplicas, 0);
    assert.equal(a.scaleUp, false);
    assert.equal(a.scaleDownSafe, false);
    assert.deepEqual(a.variants, []);
  });

  it("per-variant counts, saturated pods with their cause, spares and maxima", () => {
    const a = analyzeSaturation(
      [
        { pod: "pod-1", variant: "v1", kvCacheUsage: 0.85, queueLength: 2 },
        { pod: "pod-2", variant: "v1", kvCacheUsage: 0.5, queueLength: 6 },
        { pod: "pod-3", variant: "v1", kvCacheUsage: 0.6, queueLength: 2 },
      ],
      C0,
      opts,
    );
    const v = a.variants[0];
    assert.equal(v.replicaCount, 3);
    assert.equal(v.nonSaturatedCount, 1);
    assert.deepEqual(v.saturatedReplicas, [
      { pod: "pod-1", reason: "kv" },
      { pod: "pod-2", reason: "queue" },
    ]);
    close(v.avgSpareKv, 0.2);
    close(v.avgSpareQueue, 3);
    assert.equal(v.maxKvCacheUsage, 0.85);
    assert.equal(v.maxQueueLength, 6);
  });

  it("all thresholds 0 saturate every replica: no scale-up, not safe", () => {
    const zero = { ...ZERO_SATURATION_CONFIG };
    const a = analyzeSaturation(
      reps("v1", [
        [0.1, 0],
        [0, 0],
        [0.9, 9],
      ]),
      zero,
      opts,
    );
    assert.equal(a.nonSaturatedReplicas, 0);
    assert.equal(a.avgSpareKv, 0);
    assert.equal(a.avgSpareQueue, 0);
    assert.equal(a.scaleUp, false);
    assert.equal(a.scaleDownSafe, false);
  });

  it("analyzedAt is the `now` given by the caller (pure code takes time as input instead of reading the clock)", () => {
    const a = analyzeSaturation(reps("v1", [[0.5, 1]]), C0, { ...opts, now: NOW + 42 });
    assert.equal(a.analyzedAt, NOW + 42);
  });

  it("reports the queue trigger and both triggers with their values", () => {
    const q = analyzeSaturation(
      reps("v1", [
        [0.1, 3],
        [0.1, 3],
      ]),
      C0,
      opts,
    );
    assert.equal(q.scaleUpReason, "queue spare Saturation low (2.0 < 3.0)");
    const both = analyzeSaturation(
      reps("v1", [
        [0.75, 3],
        [0.75, 3],
      ]),
      C0,
      opts,
    );
    assert.match(both.scaleUpReason, /^both KV spare \(0\.050 < 0\.100\) and queue spare \(2\.0 < 3\.0\)/);
  });

  it("a safe scale-down when the projected load still leaves enough spare capacity", () => {
    const a = analyzeSaturation(
      reps("v1", [
        [0.1, 0],
        [0.1, 0],
        [0.1, 0],
      ]),
      C0,
      opts,
    );
    assert.equal(a.scaleDownSafe, true);
  });

  it("takes accelerator and cost from the variant states and sorts variants by name", () => {
    const a = analyzeSaturation([...reps("b", [[0.1, 0]]), ...reps("a", [[0.2, 0]])], C0, {
      ...opts,
      variants: [state("a", { accelerator: "A100", cost: 5 }), state("b")],
    });
    assert.deepEqual(
      a.variants.map((v) => [v.variant, v.accelerator, v.cost]),
      [
        ["a", "A100", 5],
        ["b", "H100", 10],
      ],
    );
  });
});
