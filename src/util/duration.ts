/**
 * Go-style durations (`time.ParseDuration`): a sequence of decimal numbers with units
 * ns, us/µs, ms, s, m, h, e.g. `30s`, `1h30m`, `1.5m`; an optional sign; `0` alone is allowed.
 * Values are milliseconds (fractions kept).
 */
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

export class DurationError extends Error {}

/** Parses a Go duration into milliseconds; throws DurationError naming the rule on bad input. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === "") throw new DurationError(`invalid duration "": empty`);
  let rest = s;
  let sign = 1;
  if (rest[0] === "+" || rest[0] === "-") {
    if (rest[0] === "-") sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw new DurationError(`invalid duration "${text}"`);
  const part = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  let total = 0;
  while (rest.length > 0) {
    const m = part.exec(rest);
    if (!m) {
      throw new DurationError(
        `invalid duration "${text}": expected numbers with units ns, us, ms, s, m, h (for example 30s or 1h30m)`,
      );
    }
    total += Number(m[1]) * UNIT_MS[m[2]];
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

/** Like parseDuration but returns undefined instead of throwing. */
export function tryParseDuration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch {
    return undefined;
  }
}

/** Formats milliseconds the way Go prints a time.Duration (`1h30m0s`, `500ms`, `0s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  const neg = ms < 0;
  let rest = Math.abs(ms);
  if (rest < 1000) return `${neg ? "-" : ""}${+rest.toFixed(6)}ms`;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = +(rest / 1000).toFixed(9);
  let out = "";
  if (h > 0) out += `${h}h`;
  if (h > 0 || m > 0) out += `${m}m`;
  out += `${s}s`;
  return (neg ? "-" : "") + out;
}
