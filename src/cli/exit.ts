/**
 * How the `wva` and `manager` programs end: one stderr line per failure and the exit status. Free of
 * runtime dependencies, so that `manager --help` and `--version` work from a bare build.
 */
import { UsageError } from "../config/errors.js";
import { formatVersion, versionJson } from "../version/version.js";

/** A message on one line (usage texts and error messages may span several). */
export function oneLine(message: string): string {
  return message
    .replace(/\s*\n\s*/g, " ")
    .replace(/\s+$/, "")
    .trim();
}

/**
 * Prints a failure on one stderr line prefixed with the program name and returns the exit status:
 * 2 for bad input (UsageError and the configuration errors derived from it), 1 otherwise.
 */
export function reportFailure(programName: string, err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${programName}: ${oneLine(message)}\n`);
  return err instanceof UsageError ? 2 : 1;
}

/**
 * The one top-level handler for errors nobody caught (a failure in a timer or a stream handler after
 * start-up, a rejected promise nobody awaited): prints one line like reportFailure and exits with its
 * status, instead of Node's stack trace.
 */
export function installCrashHandlers(programName: string): void {
  const crash = (err: unknown) => {
    process.exit(reportFailure(programName, err));
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);
}

/** Handles `--version [--json]`; returns true when it printed the version. */
export function printVersionIfAsked(opts: { version?: boolean; json?: boolean }): boolean {
  if (!opts.version) return false;
  process.stdout.write(`${opts.json ? versionJson() : formatVersion()}\n`);
  return true;
}
