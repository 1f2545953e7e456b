// `npm run bench`: runs every bench/*.bench.ts module (or those named on the command line) and prints
// each module's result tables. A module exports `run(): Promise<BenchTable[]>`.
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { printTable, type BenchTable } from "./table.js";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const modules = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

for (const file of modules) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { run: () => Promise<BenchTable[]> };
  console.log(`\n## ${file}`);
  for (const table of await mod.run()) printTable(table);
}
