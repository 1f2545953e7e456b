import { pino, type Logger } from "pino";
import type { LogFormat } from "../config/settings.js";

/**
 * Structured logs on stderr (or appended to `file`). Verbosity follows upstream's `--v` (2 = info, 3 = verbose/debug,
 * 4+ = trace); `WVA_LOG_LEVEL` (pino level name) wins when set; `silent` disables logging. `json`
 * (default) writes pino's JSON lines, `text` the same entries as readable lines (see formatLogLine).
 */
export function createLogger(
  options: { v?: number; name?: string; format?: LogFormat; file?: string } = {},
): Logger {
  const v = options.v ?? 2;
  const level = process.env.WVA_LOG_LEVEL ?? (v >= 4 ? "trace" : v >= 3 ? "debug" : v <= 0 ? "warn" : "info");
  const opts = { name: options.name ?? "wva", level, base: undefined };
  const dest = options.file
    ? pino.destination({ dest: options.file, mkdir: true, sync: true })
    : pino.destination(2);
  if (options.format === "text")
    return pino(opts, { write: (line: string) => dest.write(formatLogLine(line)) });
  return pino(opts, dest);
}

const LEVELS: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};

/**
 * One pino JSON line as text: `2026-01-02T03:04:05.678Z INFO  manager: target changed model=m from=1
 * to=2`. Fields follow the message as key=value; strings with spaces or quotes are quoted.
 */
export function formatLogLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith("\n") ? json : `${json}\n`;
  }
  const { level, time, name, msg, ...fields } = entry;
  const when = typeof time === "number" ? new Date(time).toISOString() : "";
  const label = (LEVELS[level as number] ?? String(level)).padEnd(5);
  const parts = [when, label, `${typeof name === "string" ? `${name}: ` : ""}${String(msg ?? "")}`];
  for (const [k, value] of Object.entries(fields)) parts.push(`${k}=${fieldText(value)}`);
  return `${parts.filter((p) => p !== "").join(" ")}\n`;
}

function fieldText(v: unknown): string {
  if (typeof v === "string") return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** A logger that drops everything, for tests and pure code paths. */
export const silentLogger: Logger = pino({ level: "silent" });
export type { Logger };
