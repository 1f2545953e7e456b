#!/usr/bin/env node
// The controller manager entry point (`./bin/manager`). Flags: src/config/manager-flags.ts.
import { managerHelp, parseManagerArgs } from "../config/manager-flags.js";
import type { ManagerHandle } from "../controller/manager.js";
import { formatVersion, versionJson } from "../version/version.js";
import { UsageError } from "./usage-error.js";

/** How long a SIGTERM'd manager may take to stop (Helm's termination grace period is 10 s). */
const SHUTDOWN_TIMEOUT_MS = 8_000;
const METRICS_SOURCES = ["prometheus", "pods"] as const;

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, " ").trim();
}

async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseManagerArgs(args);
    const source = process.env.WVA_METRICS_SOURCE || "prometheus";
    if (!(METRICS_SOURCES as readonly string[]).includes(source)) {
      throw new UsageError(
        `invalid WVA_METRICS_SOURCE "${source}": must be one of ${METRICS_SOURCES.join(", ")}`,
      );
    }
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
  // loaded only now, so that --help and --version work without the runtime dependencies
  const { startManager } = await import("../controller/manager.js");
  const { createLogger } = await import("../util/logger.js");
  const log = createLogger({ v: parsed.flags.v, name: "manager" });
  let handle: ManagerHandle;
  try {
    handle = await startManager({
      args,
      logger: log,
      metricsSource: (process.env.WVA_METRICS_SOURCE || "prometheus") as (typeof METRICS_SOURCES)[number],
      onLostLeadership: () => {
        // like upstream: a replica that lost the lease exits and is restarted as a candidate
        process.exit(1);
      },
    });
  } catch (err) {
    process.stderr.write(`manager: ${oneLine(err instanceof Error ? err.message : String(err))}\n`);
    return 1;
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
