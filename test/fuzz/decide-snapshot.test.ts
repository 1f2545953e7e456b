import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import { decide } from "../../src/cli/decide/decide.js";
import { SnapshotError, parseSnapshotText } from "../../src/cli/decide/snapshot.js";
import { Tally, bounded, fuzzParameters, mutated } from "./support.js";

/**
 * `wva decide` in process: the snapshot parser and the engine, as the command runs them. A rejection
 * (exit status 2 in the CLI) must be a SnapshotError naming the field; an accepted snapshot must give
 * whole, non-negative, finite targets for every variant.
 */
const EXAMPLES = ["scale-up", "scale-down", "limited", "in-transition"];

describe("fuzz: wva decide snapshots", () => {
  for (const example of EXAMPLES) {
    it(`mutations of examples/snapshot-${example}.yaml: valid decisions or a rejection naming the field`, () => {
      const tally = new Tally(`wva decide (snapshot-${example}.yaml)`);
      const base: unknown = parse(readFileSync(`examples/snapshot-${example}.yaml`, "utf8"));
      const text = fc.oneof(
        { arbitrary: mutated(base, 4).map((d) => stringify(d) ?? ""), weight: 5 },
        { arbitrary: mutated(base, 2).map((d) => JSON.stringify(d) ?? ""), weight: 1 },
        { arbitrary: fc.string({ maxLength: 60 }), weight: 1 },
      );
      fc.assert(
        fc.property(text, (t) => {
          tally.tried++;
          let out: ReturnType<typeof decide>;
          try {
            out = bounded("wva decide", () => decide(parseSnapshotText(t), { now: 0 }));
          } catch (e) {
            tally.rejected++;
            assert.ok(e instanceof SnapshotError, `not a snapshot error: ${(e as Error).stack}`);
            assert.ok(e.field === "" || e.message.startsWith(`${e.field}: `), e.message);
            assert.doesNotMatch(e.message, /\n/);
            return;
          }
          tally.accepted++;
          for (const m of out.models) {
            for (const d of m.decisions) {
              assert.ok(
                Number.isInteger(d.targetReplicas) && d.targetReplicas >= 0,
                `target ${d.targetReplicas} of ${d.variant}`,
              );
              assert.equal(typeof d.reason, "string");
            }
            for (const v of Object.values(m.analysis)) {
              assert.ok(typeof v === "boolean" || Number.isFinite(v), `analysis value ${String(v)}`);
            }
          }
        }),
        fuzzParameters(),
      );
      tally.report();
    });
  }
});
