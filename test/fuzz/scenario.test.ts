import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import { ScenarioError, parseScenario } from "../../src/playground/runner/scenario.js";
import { Tally, bounded, fuzzParameters, mutated } from "./support.js";

/** Timers cannot wait longer than this (2^31-1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

describe("fuzz: playground scenarios", () => {
  for (const example of ["quick", "direct-step", "spike", "trace-replay"]) {
    it(`mutations of examples/scenarios/${example}.yaml are accepted with sane values or refused naming the field`, () => {
      const tally = new Tally(`scenario (${example}.yaml)`);
      const base: unknown = parse(readFileSync(`examples/scenarios/${example}.yaml`, "utf8"));
      const text = fc.oneof(
        { arbitrary: mutated(base).map((d) => stringify(d) ?? ""), weight: 4 },
        { arbitrary: fc.string({ maxLength: 60 }), weight: 1 },
      );
      fc.assert(
        fc.property(text, (t) => {
          tally.tried++;
          let s: ReturnType<typeof parseScenario>;
          try {
            s = bounded("parseScenario", () => parseScenario(t, "examples/scenarios"));
          } catch (e) {
            tally.rejected++;
            assert.ok(e instanceof ScenarioError, `not a scenario error: ${(e as Error).stack}`);
            // the field, or the whole document (field "") when it is not a mapping or not YAML
            assert.ok(e.field === "" || e.message.startsWith(`${e.field}: `), e.message);
            assert.doesNotMatch(e.message, /\n/);
            return;
          }
          tally.accepted++;
          assert.ok(s.durationMs > 0 && s.durationMs <= MAX_TIMER_MS, `duration ${s.durationMs}`);
          assert.ok(
            s.engineIntervalMs > 0 && s.engineIntervalMs <= MAX_TIMER_MS,
            `interval ${s.engineIntervalMs}`,
          );
          assert.ok(s.models.length > 0);
        }),
        fuzzParameters(),
      );
      tally.report();
    });
  }
});
