import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  actionOf,
  firstScaleUp,
  ReportBuilder,
  type VariantCycle,
} from "../../src/playground/runner/report.js";

const row = (
  variant: string,
  current: number,
  desired: number,
  over: Partial<VariantCycle> = {},
): VariantCycle => ({
  model: "m",
  namespace: "ns",
  variant,
  current,
  ready: current,
  desired,
  kvUsage: 0.123456,
  queue: 0,
  action: actionOf(current, desired),
  reason: "r",
  ...over,
});

describe("playground report", () => {
  it("builds the report: cycles with t in seconds and sorted variants, models with totals", () => {
    const b = new ReportBuilder({
      scenario: "spike",
      actuation: "hpa",
      engineIntervalMs: 5000,
      startedAt: new Date(0),
    });
    b.addCycle(5012, [row("m-h100", 1, 1), row("m-a100", 1, 2)]);
    b.addCycle(10_000, [row("m-a100", 2, 2), row("m-h100", 1, 1)]);
    const r = b.build(
      [
        {
          modelID: "m",
          namespace: "ns",
          requests: { sent: 10, completed: 9, failed: 1 },
          ttftMs: { p50: 1, p95: 2, p99: 2 },
          itlMs: { p50: 3, p95: 3, p99: 3 },
        },
      ],
      150_000,
    );
    assert.equal(r.scenario, "spike");
    assert.equal(r.engineInterval, 5);
    assert.equal(r.duration, 150);
    assert.equal(r.cycles.length, 2);
    assert.equal(r.cycles[0].t, 5.012);
    assert.deepEqual(
      r.cycles[0].variants.map((v) => v.variant),
      ["m-a100", "m-h100"],
    );
    assert.deepEqual(Object.keys(r.cycles[0].variants[0]).sort(), [
      "action",
      "current",
      "desired",
      "kvUsage",
      "model",
      "namespace",
      "queue",
      "ready",
      "reason",
      "variant",
    ]);
    assert.equal(r.cycles[0].variants[0].kvUsage, 0.1235);
    assert.equal(r.cycles[0].variants[0].action, "scale-up");
    assert.deepEqual(r.models[0].requests, { sent: 10, completed: 9, failed: 1 });
    assert.deepEqual(Object.keys(r.models[0].ttftMs), ["p50", "p95", "p99"]);
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(r)));
  });

  it("firstScaleUp finds when each variant's desired count first rose", () => {
    const b = new ReportBuilder({
      scenario: "s",
      actuation: "direct",
      engineIntervalMs: 1000,
      startedAt: new Date(),
    });
    b.addCycle(1000, [row("a", 1, 1), row("b", 1, 1)]);
    b.addCycle(2000, [row("a", 1, 2), row("b", 1, 1)]);
    b.addCycle(3000, [row("a", 2, 2), row("b", 1, 2)]);
    const f = firstScaleUp(b.build([], 3000));
    assert.equal(f.get("ns/a"), 2);
    assert.equal(f.get("ns/b"), 3);
  });

  it("actionOf compares desired with current", () => {
    assert.equal(actionOf(1, 2), "scale-up");
    assert.equal(actionOf(2, 1), "scale-down");
    assert.equal(actionOf(2, 2), "no-change");
  });
});
