// The source tree stays readable: a file in src/ over MAX_LINES lines says on its first line why.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

const MAX_LINES = 450;
const REASON = /^\/\/ Over 450 lines: \S.{10,}/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

describe("source file size", () => {
  it(`every file in src/ over ${MAX_LINES} lines gives the reason on its first line`, () => {
    const files = sources("src");
    assert.ok(files.length > 50, "src/ read");
    const unexplained = files.filter((f) => {
      const lines = readFileSync(f, "utf8").split("\n");
      if (lines.at(-1) === "") lines.pop();
      return lines.length > MAX_LINES && !REASON.test(lines[0]);
    });
    assert.deepEqual(unexplained, []);
  });
});
