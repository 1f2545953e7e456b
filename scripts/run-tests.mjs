#!/usr/bin/env node
// Runs the node:test suites through tsx. `--unit` skips test/e2e, `--e2e` runs only test/e2e.
// Extra arguments that are paths select those test files instead.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const args = process.argv.slice(2);
const mode = args.includes("--e2e") ? "e2e" : args.includes("--unit") ? "unit" : "all";
const explicit = args.filter((a) => !a.startsWith("--"));

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

let files = explicit.length > 0 ? explicit : walk("test").map((f) => relative(".", f));
if (mode === "unit") files = files.filter((f) => !f.startsWith(join("test", "e2e")));
if (mode === "e2e") files = files.filter((f) => f.startsWith(join("test", "e2e")));
files.sort();
if (files.length === 0) {
  console.error("no test files selected");
  process.exit(1);
}
const result = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...files], {
  stdio: "inherit",
});
process.exit(result.status ?? 1);
