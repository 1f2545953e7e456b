import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ESLint } from "eslint";

interface Case {
  file: string;
  code: string;
  reported: boolean;
}

const cases = JSON.parse(readFileSync("test/fixtures/boundaries/forbidden-imports.json", "utf8")) as Case[];

describe("import boundaries of the decision code (eslint.config.js)", () => {
  it("a forbidden import is reported by no-restricted-imports; an allowed one is not", async () => {
    const eslint = new ESLint({ cwd: process.cwd() });
    for (const c of cases) {
      const [result] = await eslint.lintText(c.code, { filePath: c.file });
      const hits = result.messages.filter((m) => m.ruleId === "no-restricted-imports");
      const other = result.messages.filter((m) => m.ruleId !== "no-restricted-imports");
      assert.deepEqual(other, [], `${c.file}: only the boundary rule may report`);
      assert.equal(hits.length, c.reported ? 1 : 0, `${c.file}: ${c.code.split("\n")[0]}`);
    }
  });
});
