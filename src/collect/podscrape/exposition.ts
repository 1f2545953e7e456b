import parsePrometheusTextFormat from "parse-prometheus-text-format";

/** One sample line of the exposition: its own name (with `_sum`/`_count`/`_bucket` suffix), labels, value. */
export interface ExpositionSample {
  name: string;
  /** The metric family the sample belongs to (name without the histogram/summary suffix). */
  family: string;
  type: string;
  labels: Record<string, string>;
  value: number;
}

const TYPE_LINE = /^#\s+TYPE\s+(\S+)\s+(\S+)\s*$/;

/**
 * Parses the Prometheus text exposition format with `parse-prometheus-text-format`, which handles the
 * line grammar (label escaping, NaN/Inf, timestamps). That library merges all series of a histogram or
 * summary family into one entry and drops their labels, so the TYPE lines of those families are taken out
 * before parsing (each `_bucket`, `_sum`, `_count`, quantile series then parses as its own series with
 * all labels) and the family types are kept here. Values that do not parse become NaN.
 */
export function parseExposition(text: string): ExpositionSample[] {
  const types = new Map<string, string>();
  const kept: string[] = [];
  for (const line of text.split("\n")) {
    const m = TYPE_LINE.exec(line.trim());
    if (m) {
      const type = m[2].toLowerCase();
      types.set(m[1], type);
      if (type === "histogram" || type === "summary") continue;
    }
    kept.push(line);
  }
  // A trailing empty line makes the library flush its last family.
  const families = parsePrometheusTextFormat(`${kept.join("\n")}\n`);
  const out: ExpositionSample[] = [];
  for (const f of families) {
    const family = familyOf(f.name, types);
    const type = types.get(family) ?? (f.type || "untyped").toLowerCase();
    for (const s of f.metrics) {
      out.push({ name: f.name, family, type, labels: { ...(s.labels ?? {}) }, value: Number(s.value) });
    }
  }
  return out;
}

function familyOf(name: string, types: Map<string, string>): string {
  if (types.has(name)) return name;
  for (const suffix of ["_bucket", "_sum", "_count", "_total", "_created"]) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      if (types.has(base)) return base;
    }
  }
  return name;
}
