import { Command, CommanderError } from "commander";
import { installCrashHandlers, oneLine, printVersionIfAsked, reportFailure } from "./exit.js";

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

export { printVersionIfAsked };

/** Runs a program and maps every failure to an exit status: usage errors 2, other errors 1. */
export async function runProgram(program: Command, argv: string[] = process.argv): Promise<void> {
  installCrashHandlers(program.name());
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
