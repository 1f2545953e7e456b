import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

// The repository explains itself: code, tests and docs name no document outside it, and the pages they
// point to exist. (The outside names are assembled here so that this file does not contain them.)
const OUTSIDE = new RegExp(
  [
    ["wva", "core"].join("-"),
    ["DECI", "SIONS"].join(""),
    ["shared", "spec"].join("/"),
    ["shared", "data"].join("/"),
    "queueing-model\\.md",
  ].join("|"),
);
/** A test title that starts with an acceptance id such as `A1:` or `U11 (form):`. */
const ID_TITLE = /\b(?:it|test|describe)\(\s*["'`][A-Z]{1,2}\d{1,2}[a-z]?(?:\s*\([^)]*\))?:/;
const DOC_PATH = /\bdocs\/[\w./-]+\.md\b/g;

function files(dir: string, exts: string[]): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p, exts));
    else if (exts.some((e) => name.endsWith(e))) out.push(p);
  }
  return out;
}

const TREE = [...files("src", [".ts", ".js"]), ...files("test", [".ts"]), ...files("docs", [".md"])];

function hits(re: RegExp): string[] {
  return TREE.flatMap((f) =>
    readFileSync(f, "utf8")
      .split("\n")
      .flatMap((line, i) => (re.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
  );
}

describe("a self-contained repository", () => {
  it("src, test and docs name no specification outside the repository", () => {
    assert.deepEqual(hits(OUTSIDE), []);
  });

  it("test titles describe behaviour instead of citing acceptance ids", () => {
    assert.deepEqual(hits(ID_TITLE), []);
  });

  it("every docs/… page that code and tests point to exists", () => {
    const missing = [...files("src", [".ts"]), ...files("test", [".ts"])].flatMap((f) =>
      [...readFileSync(f, "utf8").matchAll(DOC_PATH)]
        .map((m) => m[0].replace(/\.$/, ""))
        .filter((p) => !existsSync(p))
        .map((p) => `${f}: ${p}`),
    );
    assert.deepEqual(missing, []);
  });

  it("the checks catch what they look for", () => {
    const title = (fn: string, q: string, text: string) => `${fn}(${q}${text}, () => {`;
    assert.ok(OUTSIDE.test(`see ${["wva", "core"].join("-")} 5.3`));
    assert.ok(ID_TITLE.test(title("it", '"', "A11 (ConfigMap form): x")));
    assert.ok(ID_TITLE.test(title("  test", "'", "U6: escaped")));
    assert.ok(!ID_TITLE.test(title("it", '"', "V2 thresholds are validated")));
    assert.ok(!ID_TITLE.test(title("it", '"', "H100: eight GPUs")));
  });
});
