import { ReportBuilder, type Report, type VariantCycle } from "../../src/playground/runner/report.js";

/** A small playground report: two variants, a scale-up of the cheap one at 4 s, an SLO. */
export function sampleReport(): Report {
  const b = new ReportBuilder({
    scenario: "sample",
    actuation: "direct",
    engineIntervalMs: 2000,
    startedAt: new Date("2026-01-01T00:00:00Z"),
    setup: {
      saturation: { kvCacheThreshold: 0.8, queueLengthThreshold: 5 },
      variants: [
        { model: "m", namespace: "ns", variant: "a100", accelerator: "A100", cost: 20 },
        { model: "m", namespace: "ns", variant: "h100", accelerator: "H100", cost: 40 },
      ],
      slo: [{ model: "m", namespace: "ns", ttftMs: 500, itlMs: 50 }],
    },
  });
  const v = (
    variant: string,
    current: number,
    desired: number,
    kvUsage: number,
    queue: number,
  ): VariantCycle => ({
    model: "m",
    namespace: "ns",
    variant,
    current,
    ready: current,
    desired,
    kvUsage,
    queue,
    action: desired > current ? "scale-up" : desired < current ? "scale-down" : "no-change",
    reason: desired > current ? "KV cache saturated" : "steady",
  });
  const rows: Array<[number, number, number, number]> = [
    // a100 current, a100 desired, kv, queue
    [1, 1, 0.2, 0],
    [1, 1, 0.5, 1],
    [1, 2, 0.9, 7],
    [2, 2, 0.6, 2],
    [2, 2, 0.4, 0],
  ];
  rows.forEach(([cur, des, kv, q], i) =>
    b.addCycle(
      (i + 1) * 2000,
      [v("a100", cur, des, kv, q), v("h100", 1, 1, kv / 2, 0)],
      [
        {
          model: "m",
          namespace: "ns",
          rate: 2 + i,
          completed: 4 + i,
          failed: 0,
          ttftMs: { p50: 100 + i, p95: 300 + i, p99: 600 + i },
          itlMs: { p50: 8, p95: 12, p99: 20 },
        },
      ],
    ),
  );
  return b.build(
    [
      {
        modelID: "m",
        namespace: "ns",
        requests: { sent: 30, completed: 30, failed: 0 },
        ttftMs: { p50: 102, p95: 303, p99: 604 },
        itlMs: { p50: 8, p95: 12, p99: 20 },
      },
    ],
    10_000,
  );
}

/** A `wva simulate` report with three policies; the oracle's timeline uses the alternative fields. */
export function sampleSimulation(): Record<string, unknown> {
  const timeline = (ups: number[], ttftP95: number) =>
    ups.map((n, i) => ({
      t: i * 30,
      load: [
        {
          model: "m",
          namespace: "ns",
          rps: 10 * i,
          ttftMs: { p50: ttftP95 / 2, p95: ttftP95 + i, p99: 2 * ttftP95 },
          itlMs: { p50: 8, p95: 12, p99: 20 },
        },
      ],
      variants: [
        {
          model: "m",
          namespace: "ns",
          variant: "a100",
          current: n,
          ready: n,
          desired: n + (i === 1 ? 1 : 0),
        },
        { model: "m", namespace: "ns", variant: "h100", current: 1, ready: 1, desired: 1 },
      ],
    }));
  return {
    scenario: { name: "burst" },
    policies: [
      {
        policy: "wva",
        cost: 120,
        costRatioToOracle: 1.2,
        requests: { sent: 100, completed: 99, failed: 1 },
        sloAttainment: 0.97,
        ttftMs: { p50: 90, p95: 400, p99: 900 },
        itlMs: { p50: 8, p95: 14, p99: 30 },
        scalingActions: 4,
        reversals: 1,
        timeline: timeline([1, 1, 2, 3, 2], 400),
      },
      {
        policy: "static-max",
        cost: 200,
        costRatioToOracle: 2,
        requests: { sent: 100, completed: 100, failed: 0 },
        sloAttainment: 1,
        scalingActions: 0,
        reversals: 0,
        timeline: timeline([4, 4, 4, 4, 4], 100),
      },
      {
        policy: "oracle",
        cost: 100,
        costRatioToOracle: 1,
        sloAttainment: 0.99,
        timeline: [
          { tMs: 0, variants: [{ name: "a100", replicas: 1 }] },
          { tMs: 60_000, variants: [{ name: "a100", replicas: 3 }] },
          { tMs: 120_000, variants: [{ name: "a100", replicas: 2 }] },
          { note: "no time: skipped" },
        ],
      },
    ],
  };
}
