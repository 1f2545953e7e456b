const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Formats a duration (milliseconds) for a PromQL range selector: whole days → `Nd`,
 * else whole hours → `Nh`, else whole minutes → `Nm`, else seconds (truncated) → `Ns`; anything below
 * one second, including 0 and negative values, → `1s`.
 */
export function formatPrometheusDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < SECOND) return "1s";
  if (ms % DAY === 0) return `${ms / DAY}d`;
  if (ms % HOUR === 0) return `${ms / HOUR}h`;
  if (ms % MINUTE === 0) return `${ms / MINUTE}m`;
  return `${Math.floor(ms / SECOND)}s`;
}

const UNIT_MS: Record<string, number> = { s: SECOND, m: MINUTE, h: HOUR, d: DAY };

/** Reads back what {@link formatPrometheusDuration} writes (`Nd`, `Nh`, `Nm`, `Ns`); undefined otherwise. */
export function parsePrometheusDuration(text: string): number | undefined {
  const m = /^(\d+)([smhd])$/.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2]] : undefined;
}
