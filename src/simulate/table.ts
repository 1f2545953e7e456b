import type { SimulationReport } from "./simulate.js";

/** The one-row-per-policy table `wva simulate` prints. */
export function renderReportTable(r: SimulationReport): string {
  const head = [
    "POLICY",
    "COST",
    "×ORACLE",
    "SENT",
    "DONE",
    "FAILED",
    "SLO",
    "TTFT p50/p95/p99 ms",
    "ITL p50/p95/p99 ms",
    "COLD",
    "COLD TTFT p50/p95 ms",
    "ACTIONS",
    "REVERSALS",
  ];
  const fmt = (x: number) => (x >= 100 ? Math.round(x) : Math.round(x * 10) / 10);
  const ms = (p: { p50: number; p95: number; p99: number }) => [p.p50, p.p95, p.p99].map(fmt).join("/");
  const rows = r.policies.map((p) => [
    p.policy,
    p.cost.toFixed(2),
    p.costRatioToOracle === null ? "-" : p.costRatioToOracle.toFixed(2),
    String(p.requests.sent),
    String(p.requests.completed),
    String(p.requests.failed),
    `${(p.sloAttainment * 100).toFixed(1)}%`,
    ms(p.ttftMs),
    ms(p.itlMs),
    String(p.coldStart.requests),
    p.coldStart.completed > 0 ? `${fmt(p.coldStart.ttftMs.p50)}/${fmt(p.coldStart.ttftMs.p95)}` : "-",
    String(p.scalingActions),
    String(p.reversals),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join("  ")
      .trimEnd();
  return [
    `${r.scenario}: ${r.duration}s simulated, seed ${r.seed}, ${r.actuation} actuation; cost = replica-hours × variant cost`,
    line(head),
    ...rows.map(line),
  ].join("\n");
}
