import { pino, type Logger } from "pino";

/**
 * Structured JSON logs on stderr. Verbosity follows upstream's `--v` (2 = info, 3 = verbose/debug,
 * 4+ = trace); `WVA_LOG_LEVEL` (pino level name) wins when set; `silent` disables logging.
 */
export function createLogger(options: { v?: number; name?: string } = {}): Logger {
  const v = options.v ?? 2;
  const level = process.env.WVA_LOG_LEVEL ?? (v >= 4 ? "trace" : v >= 3 ? "debug" : v <= 0 ? "warn" : "info");
  return pino({ name: options.name ?? "wva", level, base: undefined }, pino.destination(2));
}

/** A logger that drops everything, for tests and pure code paths. */
export const silentLogger: Logger = pino({ level: "silent" });
export type { Logger };
