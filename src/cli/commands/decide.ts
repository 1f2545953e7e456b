import type { Command } from "commander";
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { decide } from "../decide/decide.js";
import { parseSnapshotText, SnapshotError } from "../decide/snapshot.js";
import { UsageError } from "../usage-error.js";

/** Largest snapshot `wva decide` reads (16 MiB); reading stops there. */
export const MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024;

/** Reads at most `limit` bytes of a file (or stdin for `-`); more is a usage error. */
export async function readBounded(file: string, limit = MAX_SNAPSHOT_BYTES): Promise<string> {
  const stream: Readable = file === "-" ? process.stdin : createReadStream(file);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const buf = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
      size += buf.length;
      if (size > limit) {
        throw new UsageError(`-f ${file}: the snapshot is larger than ${limit / (1024 * 1024)} MiB`);
      }
      chunks.push(buf);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`-f ${file}: cannot read the snapshot (${code ?? String(err)})`);
  } finally {
    if (file !== "-") stream.destroy();
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** `wva decide -f SNAPSHOT`: runs the decision engine on a snapshot and prints the decisions as JSON. */
export function register(program: Command): void {
  program
    .command("decide")
    .description(
      "run the scaling engine on a snapshot (YAML or JSON, at most 16 MiB) without a cluster; print JSON decisions",
    )
    .requiredOption("-f, --file <file>", "snapshot file, or - for stdin")
    .action(async (opts: { file: string }) => {
      const text = await readBounded(opts.file);
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
