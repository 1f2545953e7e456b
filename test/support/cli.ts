import { spawn } from "node:child_process";

/** Exit code and output of a command. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a binary asynchronously (tests that serve the emulator in-process must not block the event
 * loop) and collects its output.
 */
export function runCli(bin: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], env });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("error", reject);
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Where `actual` differs from `expected`, whose every value must appear at the same place in `actual` (extra keys allowed). */
export function subsetMismatches(actual: unknown, expected: unknown, path = ""): string[] {
  if (expected === null || expected === undefined) return [];
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length)
      return [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
    return expected.flatMap((e, i) => subsetMismatches(actual[i], e, `${path}[${i}]`));
  }
  if (typeof expected === "object") {
    if (typeof actual !== "object" || actual === null || Array.isArray(actual))
      return [`${path}: expected an object, got ${JSON.stringify(actual)}`];
    return Object.entries(expected).flatMap(([k, v]) =>
      subsetMismatches((actual as Record<string, unknown>)[k], v, `${path}.${k}`),
    );
  }
  return actual === expected
    ? []
    : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

/** Runs the `wva` CLI from the sources (through tsx) in a child process. */
export function runWva(...args: string[]): Promise<CliRun> {
  return runCli(process.execPath, ["--import", "tsx", "src/cli/wva.ts", ...args]);
}
