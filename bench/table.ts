export interface BenchTable {
  title: string;
  columns: string[];
  rows: Array<Array<string | number>>;
  note?: string;
}

/** Prints a table as GitHub-flavoured Markdown. */
export function printTable(table: BenchTable): void {
  const cells = table.rows.map((r) => r.map((c) => (typeof c === "number" ? formatNumber(c) : c)));
  const widths = table.columns.map((c, i) =>
    Math.max(c.length, ...cells.map((r) => String(r[i] ?? "").length)),
  );
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  console.log(`\n### ${table.title}\n`);
  console.log(line(table.columns));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of cells) console.log(line(r.map(String)));
  if (table.note) console.log(`\n${table.note}`);
}

function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(2) : n.toPrecision(3);
}

/** Median of a list of numbers. */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
