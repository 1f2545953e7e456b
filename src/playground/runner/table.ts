import type { VariantCycle } from "./report.js";

/** One row of the live table: a variant in the latest engine cycle, plus its cost. */
export interface TableRow extends VariantCycle {
  cost?: number;
}

export interface LoadLine {
  model: string;
  namespace: string;
  /** Current offered rate, requests per second. */
  rate: number;
  sent: number;
  completed: number;
  failed: number;
}

export interface TableFrame {
  /** Scenario or playground name. */
  title: string;
  /** Time since the start, ms. */
  tMs: number;
  /** Planned length, ms (shown as t / total). */
  durationMs: number;
  engineIntervalMs: number;
  actuation: "hpa" | "direct";
  /** Number of engine cycles seen so far. */
  cycle: number;
  rows: TableRow[];
  load: LoadLine[];
  /** The manager's `/metrics` URL, shown under the title when given. */
  metricsUrl?: string;
  /** Line width; the decision column is cut to fit, keeping at least 24 characters (default 120). */
  width?: number;
}

const MIN_REASON = 24;
const HEADERS = ["VARIANT", "MODEL", "COST", "CURRENT", "READY", "DESIRED", "KV", "QUEUE", "LAST DECISION"];

function seconds(ms: number): string {
  return `${Math.floor(ms / 1000)}s`;
}

function cut(text: string, width: number): string {
  if (width <= 0) return "";
  if (text.length <= width) return text;
  if (width === 1) return "…";
  return `${text.slice(0, width - 1)}…`;
}

/**
 * Renders the live table as plain text (no escape sequences; the caller clears the screen).
 * Rows are sorted by namespace, model, then variant; numbers are right-aligned.
 */
export function renderTable(frame: TableFrame): string {
  const width = frame.width ?? 120;
  const lines: string[] = [];
  lines.push(
    cut(
      `${frame.title}  t=${seconds(frame.tMs)}/${seconds(frame.durationMs)}  cycle ${frame.cycle}  ` +
        `engine every ${frame.engineIntervalMs / 1000}s  actuation ${frame.actuation}`,
      width,
    ),
  );
  if (frame.metricsUrl) lines.push(cut(`manager metrics: ${frame.metricsUrl}`, width));
  for (const l of [...frame.load].sort(
    (a, b) => a.namespace.localeCompare(b.namespace) || a.model.localeCompare(b.model),
  )) {
    lines.push(
      cut(
        `load ${l.namespace}/${l.model}: ${formatRate(l.rate)} req/s  sent ${l.sent}  completed ${l.completed}  failed ${l.failed}`,
        width,
      ),
    );
  }
  lines.push("");
  const rows = [...frame.rows].sort(
    (a, b) =>
      a.namespace.localeCompare(b.namespace) ||
      a.model.localeCompare(b.model) ||
      a.variant.localeCompare(b.variant),
  );
  const cells = rows.map((r) => [
    r.variant,
    r.model,
    r.cost === undefined ? "-" : String(r.cost),
    String(r.current),
    String(r.ready),
    String(r.desired),
    `${Math.round(r.kvUsage * 100)}%`,
    String(r.queue),
    decisionText(r.action, r.reason),
  ]);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const numeric = new Set([2, 3, 4, 5, 6, 7]);
  const format = (c: string[]): string => {
    const fixed = c
      .slice(0, -1)
      .map((v, i) => (numeric.has(i) ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join("  ");
    // the decision column keeps at least MIN_REASON characters, even past the width
    return `${fixed}  ${cut(c[c.length - 1], Math.max(MIN_REASON, width - fixed.length - 2))}`.trimEnd();
  };
  lines.push(format(HEADERS));
  if (cells.length === 0) lines.push("(waiting for the first engine cycle)");
  for (const c of cells) lines.push(format(c));
  return `${lines.join("\n")}\n`;
}

/**
 * The decision column: the action, then the reason without the engine's mode prefix when it only
 * repeats the action (`saturation-only mode: scale-up (X)` → `scale-up: X`).
 */
export function decisionText(action: string, reason: string): string {
  const m = /^[a-z-]+ mode: ([a-z-]+) \((.*)\)$/s.exec(reason);
  if (m && m[1] === action) return `${action}: ${m[2]}`;
  return reason.startsWith(action) ? reason : `${action}: ${reason}`;
}

function formatRate(rate: number): string {
  return Number.isInteger(rate) ? String(rate) : rate.toFixed(1);
}
