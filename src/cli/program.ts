import { Command, CommanderError } from "commander";
import { formatVersion, versionJson } from "../version/version.js";
import { UsageError } from "../config/errors.js";

/**
 * Common behaviour of the `wva` and `manager` programs: `--version [--json]`, usage errors on one
 * stderr line with exit status 2, no suggestions spread over several lines.
 */
export function newProgram(name: string, description: string): Command {
  const program = new Command(name)
    .description(description)
    .option("--version", "print the version and exit")
    .option("--json", "with --version: print the version as JSON")
    .showSuggestionAfterError(false)
    .exitOverride()
    .configureOutput({
      outputError: (message, write) => write(`${oneLine(message)}\n`),
    });
  return program;
}

function oneLine(message: string): string {
  return message
    .replace(/\s*\n\s*/g, " ")
    .replace(/\s+$/, "")
    .trim();
}

/** Handles `--version` on a program; returns true when it printed the version. */
export function printVersionIfAsked(opts: { version?: boolean; json?: boolean }): boolean {
  if (!opts.version) return false;
  process.stdout.write(`${opts.json ? versionJson() : formatVersion()}\n`);
  return true;
}

/** Runs a program and maps every failure to an exit status: usage errors 2, other errors 1. */
export async function runProgram(program: Command, argv: string[] = process.argv): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === "commander.helpDisplayed" ||
        err.code === "commander.version" ||
        err.code === "commander.help"
      ) {
        process.exitCode = 0;
        return;
      }
      // commander already printed the message through outputError
      process.exitCode = 2;
      return;
    }
    process.exitCode = reportFailure(program.name(), err);
  }
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
