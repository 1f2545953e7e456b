#!/usr/bin/env node
// The controller manager entry point (`./bin/manager`). Flags: src/config/manager-flags.ts.
import { managerHelp, parseManagerArgs } from "../config/manager-flags.js";
import type { ManagerHandle } from "../controller/manager.js";
import { installCrashHandlers, printVersionIfAsked, reportFailure } from "./exit.js";

/** How long a SIGTERM'd manager may take to stop (Helm's termination grace period is 10 s). */
const SHUTDOWN_TIMEOUT_MS = 8_000;

async function main(args: string[]): Promise<number> {
  installCrashHandlers("manager");
  let parsed;
  try {
    parsed = parseManagerArgs(args);
  } catch (err) {
    return reportFailure("manager", err);
  }
  if (parsed.help) {
    process.stdout.write(managerHelp());
    return 0;
  }
  if (printVersionIfAsked(parsed)) return 0;
  // loaded only now, so that --help and --version work without the runtime dependencies
  const { startManager } = await import("../controller/manager.js");
  const { createLogger } = await import("../util/logger.js");
  const { readSetting } = await import("../config/main.js");
  let format;
  try {
    format = parsed.given.logFormat ?? readSetting("logFormat", { env: process.env });
  } catch (err) {
    return reportFailure("manager", err);
  }
  const log = createLogger({ v: parsed.flags.v, name: "manager", format });
  let handle: ManagerHandle;
  try {
    handle = await startManager({
      args,
      logger: log,
      onLostLeadership: () => {
        // like upstream: a replica that lost the lease exits and is restarted as a candidate
        process.exit(1);
      },
    });
  } catch (err) {
    return reportFailure("manager", err);
  }
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, "shutting down");
      const timer = setTimeout(() => {
        log.error("graceful shutdown timed out");
        process.exit(1);
      }, SHUTDOWN_TIMEOUT_MS);
      timer.unref();
      void handle.stop().then(resolve, resolve);
    };
    process.once("SIGTERM", () => shutdown("SIGTERM"));
    process.once("SIGINT", () => shutdown("SIGINT"));
  });
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
