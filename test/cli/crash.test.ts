import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";

/** Runs a snippet that installs the CLI's top-level handler and then fails outside any await. */
function crash(body: string) {
  const script = [
    'import { installCrashHandlers } from "./src/cli/exit.ts";',
    'import { UsageError } from "./src/config/errors.ts";',
    'installCrashHandlers("wva");',
    body,
  ].join("\n");
  return spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
  });
}

describe("the CLI's top-level error handler", () => {
  it("an error thrown in a timer after start-up: one line, exit 1, no stack trace", () => {
    const r = crash('setTimeout(() => { throw new Error("trace file vanished\\n    at somewhere"); }, 1);');
    assert.equal(r.status, 1, r.stderr);
    assert.deepEqual(r.stderr.trimEnd().split("\n"), ["wva: trace file vanished at somewhere"]);
  });

  it("a rejected promise nobody awaited with bad input: one line, exit 2", () => {
    const r = crash('void Promise.reject(new UsageError("--rate: must be at most 10000, got \\"1e9\\""));');
    assert.equal(r.status, 2, r.stderr);
    assert.deepEqual(r.stderr.trimEnd().split("\n"), ['wva: --rate: must be at most 10000, got "1e9"']);
  });
});
