#!/usr/bin/env node
// The controller manager entry point (`./bin/manager`). Flags: src/config/manager-flags.ts.
import { managerHelp, parseManagerArgs } from "../config/manager-flags.js";
import { formatVersion, versionJson } from "../version/version.js";
import { UsageError } from "./usage-error.js";

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, " ").trim();
}

function main(args: string[]): number {
  let parsed;
  try {
    parsed = parseManagerArgs(args);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`manager: ${oneLine(err.message)}\n`);
      return 2;
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(managerHelp());
    return 0;
  }
  if (parsed.version) {
    process.stdout.write(`${parsed.json ? versionJson() : formatVersion()}\n`);
    return 0;
  }
  process.stderr.write(
    "manager: the controller is not part of this build yet; only --help and --version work (flags were parsed and are valid)\n",
  );
  return 1;
}

process.exitCode = main(process.argv.slice(2));
