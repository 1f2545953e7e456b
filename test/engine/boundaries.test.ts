import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ESLint } from "eslint";

interface Case {
  file: string;
  code: string;
  reported: boolean;
}

const BOUNDARY_RULES = ["no-restricted-imports", "@typescript-eslint/no-restricted-imports"];
const cases = JSON.parse(readFileSync("test/fixtures/boundaries/forbidden-imports.json", "utf8")) as Case[];

describe("import boundaries of the decision code (eslint.config.js)", () => {
  it("a forbidden import is reported; an allowed one (the vocabulary, another stage's types) is not", async () => {
    const eslint = new ESLint({ cwd: process.cwd() });
    for (const c of cases) {
      const [result] = await eslint.lintText(c.code, { filePath: c.file });
      const hits = result.messages.filter((m) => BOUNDARY_RULES.includes(m.ruleId ?? ""));
      const other = result.messages.filter((m) => !BOUNDARY_RULES.includes(m.ruleId ?? ""));
      assert.deepEqual(other, [], `${c.file}: only the boundary rule may report`);
      assert.equal(hits.length, c.reported ? 1 : 0, `${c.file}: ${c.code.split("\n")[0]}`);
    }
  });
});
