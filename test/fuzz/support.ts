// Shared settings of the fuzz suite: a fixed number of runs per target (FUZZ_RUNS, default 150) so CI
// stays fast, a fixed seed in CI (CI=true) and a fresh one locally, FUZZ_SEED to replay a failure
// (fast-check prints the seed and path of every counterexample), a time bound per input, and a count of
// the inputs each target tried.
import assert from "node:assert/strict";
import fc from "fast-check";

export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 150);
/** No single input may take longer than this (a hang or a quadratic blow-up fails the property). */
export const HANG_BOUND_MS = 2000;

/** Seed of CI runs (reproducible); local runs draw a new seed each time unless FUZZ_SEED is set. */
const CI_SEED = 20261130;

export function fuzzParameters<T>(): fc.Parameters<T> {
  const given = process.env.FUZZ_SEED;
  const seed = given !== undefined ? Number(given) : process.env.CI === "true" ? CI_SEED : undefined;
  return { numRuns: FUZZ_RUNS, ...(seed === undefined ? {} : { seed }) };
}

/** Counts the inputs a target tried and prints the figure when the target's property passed. */
export class Tally {
  tried = 0;
  accepted = 0;
  rejected = 0;
  /** `unit`: what accepted and rejected count, when not whole inputs (e.g. ConfigMap entries). */
  constructor(
    readonly target: string,
    readonly unit = "",
  ) {}
  report(): void {
    const unit = this.unit ? ` ${this.unit}` : "";
    console.log(
      `# fuzz ${this.target}: ${this.tried} inputs (${this.accepted}${unit} accepted, ${this.rejected}${unit} rejected), 0 crashes`,
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
    fc.constantFrom(
      null,
      true,
      false,
      0,
      -1,
      1e15,
      1e308,
      Number.NaN,
      Infinity,
      -Infinity,
      "",
      "0s",
      "1e9",
      "999h",
      "1ns",
    ),
    fc.double(),
    fc.integer(),
    fc.string(),
    fc.array(tie("v"), { maxLength: 4 }),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), tie("v"), { maxKeys: 4 }),
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

type Path = Array<string | number>;

function pathsOf(v: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...prefix, i], out));
  else if (v && typeof v === "object")
    for (const [k, x] of Object.entries(v)) pathsOf(x, [...prefix, k], out);
  return out;
}

type Edit = { kind: "set" | "delete" | "add"; at: number; value: unknown; key: string };

function applyEdit(doc: unknown, e: Edit): unknown {
  const paths = pathsOf(doc);
  const path = paths[e.at % paths.length];
  if (path.length === 0) return e.kind === "set" ? e.value : doc;
  let parent = doc as Record<string | number, unknown>;
  for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (e.kind === "set") parent[last] = e.value;
  else if (e.kind === "delete") {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else {
    const target = parent[last];
    if (target && typeof target === "object" && !Array.isArray(target))
      (target as Record<string, unknown>)[e.key] = e.value;
    else parent[last] = e.value;
  }
  return doc;
}

/**
 * Documents derived from a valid one by up to `maxEdits` random edits (replace a value anywhere with an
 * arbitrary one, delete a key or item, add an unknown key). Most stay close to valid, so the checks past
 * the first field are exercised too.
 */
export function mutated(base: unknown, maxEdits = 3): fc.Arbitrary<unknown> {
  const edit = fc.record({
    kind: fc.constantFrom("set", "set", "delete", "add") as fc.Arbitrary<Edit["kind"]>,
    at: fc.nat(),
    value: anyValue,
    key: fc.string({ minLength: 1, maxLength: 8 }),
  });
  return fc.array(edit, { minLength: 0, maxLength: maxEdits }).map((edits) => {
    let doc: unknown = structuredClone(base);
    for (const e of edits) doc = applyEdit(doc, { ...e, value: structuredClone(e.value) });
    return doc;
  });
}
