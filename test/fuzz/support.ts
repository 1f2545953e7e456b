// Shared settings of the fuzz suite: a fixed number of runs per target (FUZZ_RUNS, default 150) so CI
// stays fast, an optional FUZZ_SEED to replay a failure (fast-check prints the seed and path of every
// counterexample), a time bound per input, and a count of the inputs each target tried.
import assert from "node:assert/strict";
import fc from "fast-check";

export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 150);
/** No single input may take longer than this (a hang or a quadratic blow-up fails the property). */
export const HANG_BOUND_MS = 2000;

export function fuzzParameters<T>(): fc.Parameters<T> {
  const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
  return { numRuns: FUZZ_RUNS, ...(seed === undefined ? {} : { seed }) };
}

/** Counts the inputs a target tried and prints the figure when the target's property passed. */
export class Tally {
  tried = 0;
  accepted = 0;
  rejected = 0;
  constructor(readonly target: string) {}
  report(): void {
    console.log(
      `# fuzz ${this.target}: ${this.tried} inputs (${this.accepted} accepted, ${this.rejected} rejected), 0 crashes`,
    );
  }
}

/** Runs `f` and fails when it took longer than the hang bound. */
export function bounded<T>(what: string, f: () => T): T {
  const start = performance.now();
  const out = f();
  const ms = performance.now() - start;
  assert.ok(ms <= HANG_BOUND_MS, `${what} took ${Math.round(ms)} ms (bound ${HANG_BOUND_MS} ms)`);
  return out;
}

/** Awaits `p`, failing when it does not settle within the hang bound. */
export async function boundedAsync<T>(what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not settle within ${HANG_BOUND_MS} ms`)),
      HANG_BOUND_MS,
    );
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A message that names the offending field first: `field.path: rule` or `--flag: rule`. */
export const NAMES_FIELD = /^(--)?[A-Za-z_][\w.\-[\]"×\s]*?:\s\S/;

/** Arbitrary JSON-like values, including the awkward ones (NaN, Infinity, huge numbers, long strings). */
export const anyValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -1, 1e15, 1e308, Number.NaN, Infinity, -Infinity, "", "0s", "1e9"),
    fc.double(),
    fc.integer(),
    fc.string(),
    fc.array(tie("v"), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie("v"), { maxKeys: 4 }),
  ),
})).v;

/** Strings that look like numbers, durations or garbage. */
export const numberish: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "0",
    "-1",
    "1e9",
    "1e308",
    "NaN",
    "Infinity",
    "",
    " ",
    "0x10",
    "1_000",
    "100000h",
    "1ns",
    "24h",
  ),
  fc.integer({ min: -10, max: 1_000_000 }).map(String),
  fc.double({ noNaN: false }).map(String),
  fc
    .tuple(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom("ms", "s", "m", "h", "d", "", "x"))
    .map(([n, u]) => `${n}${u}`),
  fc.string({ maxLength: 12 }),
);
