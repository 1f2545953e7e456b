import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { decide } from "../../engine/decide.js";
import { parseSnapshotText, SnapshotError } from "../../engine/snapshot.js";
import { UsageError } from "../usage-error.js";

function readInput(file: string): string {
  try {
    return readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`-f ${file}: cannot read the snapshot (${code ?? String(err)})`);
  }
}

/** `wva decide -f SNAPSHOT`: runs the decision engine on a snapshot and prints the decisions as JSON. */
export function register(program: Command): void {
  program
    .command("decide")
    .description(
      "run the scaling engine on a snapshot (YAML or JSON) without a cluster; print JSON decisions",
    )
    .requiredOption("-f, --file <file>", "snapshot file, or - for stdin")
    .action((opts: { file: string }) => {
      const text = readInput(opts.file);
      let snapshot;
      try {
        snapshot = parseSnapshotText(text);
      } catch (err) {
        if (err instanceof SnapshotError) throw new UsageError(`invalid snapshot: ${err.message}`);
        throw err;
      }
      const out = decide(snapshot, { now: Date.now() });
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });
}
