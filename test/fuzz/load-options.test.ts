import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { arrivalsFromOptions } from "../../src/cli/commands/load.js";
import { UsageError } from "../../src/cli/usage-error.js";
import { LOAD_LIMITS } from "../../src/playground/load/patterns.js";
import { NAMES_FIELD, Tally, bounded, fuzzParameters, numberish } from "./support.js";

/** Mostly plausible values, sometimes hostile ones. */
const mostly = (good: fc.Arbitrary<string>) =>
  fc.oneof({ arbitrary: good, weight: 3 }, { arbitrary: numberish, weight: 1 });

const dist = fc.oneof(
  fc.integer({ min: 1, max: 4096 }).map(String),
  fc.tuple(fc.nat(5000), fc.nat(5000)).map(([a, b]) => `uniform:${Math.min(a, b)}-${Math.max(a, b)}`),
  fc.tuple(fc.nat(5000), fc.nat(500)).map(([a, b]) => `normal:${a},${b}`),
  fc.nat(5000).map((a) => `exp:${a}`),
  fc.tuple(numberish, numberish).map(([a, b]) => `uniform:${a}-${b}`),
);

const schedule = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.double(), fc.integer({ min: -5, max: 200_000 })),
        fc.oneof(fc.double(), fc.integer({ min: -5, max: 50_000 })),
      ),
      { maxLength: 4 },
    )
    .map((s) => JSON.stringify(s)),
);

describe("fuzz: wva load options", () => {
  it("every option set is planned within the limits or refused naming the flag", () => {
    const tally = new Tally("wva load options");
    fc.assert(
      fc.property(
        fc.record({
          pattern: fc.constantFrom("constant", "poisson", "step", "constant", "poisson", "burst"),
          rate: fc.option(mostly(fc.integer({ min: 1, max: 50 }).map(String)), { nil: undefined }),
          duration: fc.option(mostly(fc.integer({ min: 1, max: 600 }).map((n) => `${n}s`)), {
            nil: undefined,
          }),
          schedule: fc.option(schedule, { nil: undefined }),
          input: mostly(dist),
          output: mostly(dist),
          seed: mostly(fc.integer().map(String)),
        }),
        (o) => {
          tally.tried++;
          let out: ReturnType<typeof arrivalsFromOptions>;
          try {
            out = bounded("planning", () =>
              arrivalsFromOptions({
                target: "http://127.0.0.1:1",
                model: "m",
                timeCompression: "1",
                rateScale: "1",
                endpoint: "completions",
                timeout: "180s",
                ...o,
              }),
            );
          } catch (e) {
            tally.rejected++;
            assert.ok(e instanceof UsageError, `not a usage error: ${(e as Error).stack}`);
            assert.match(e.message, NAMES_FIELD);
            assert.doesNotMatch(e.message, /\n/);
            return;
          }
          tally.accepted++;
          assert.ok(out.arrivals.length <= LOAD_LIMITS.maxRequests);
          for (const a of out.arrivals) {
            assert.ok(Number.isFinite(a.t) && a.t >= 0 && a.t <= LOAD_LIMITS.maxDurationMs, `t ${a.t}`);
            for (const n of [a.inputTokens, a.outputTokens]) {
              assert.ok(Number.isInteger(n) && n >= 1 && n <= LOAD_LIMITS.maxTokens, `tokens ${n}`);
            }
          }
        },
      ),
      fuzzParameters(),
    );
    tally.report();
  });
});
