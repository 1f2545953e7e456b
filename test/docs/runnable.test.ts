import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { k8sTools } from "../support/tools.js";
import {
  fencedBlocks,
  freshCopy,
  PageRunner,
  SHELL_LANGUAGES,
  shellBlock,
  type RunResult,
  type ShellBlock,
} from "./shell-blocks.js";

const root = process.cwd();
const PAGES = ["README.md", ...readdirSync("docs/user-guide").map((f) => join("docs/user-guide", f))]
  .filter((f) => f.endsWith(".md"))
  .sort();
/** Pages that must have at least one block the test runs. */
const MUST_RUN = [
  "README.md",
  "docs/user-guide/installation.md",
  "docs/user-guide/hpa-keda.md",
  "docs/user-guide/playground.md",
  "docs/user-guide/wva-decide.md",
  "docs/user-guide/simulate.md",
  "docs/user-guide/emulator-and-load.md",
];

function blocksOf(page: string) {
  return fencedBlocks(page, readFileSync(page, "utf8"));
}

/** The page's well-marked shell blocks (the first test reports the others). */
function shellBlocksOf(page: string): ShellBlock[] {
  return blocksOf(page)
    .filter((b) => SHELL_LANGUAGES.has(b.lang))
    .map(shellBlock)
    .filter((s): s is ShellBlock => typeof s === "object");
}

describe("documentation shell blocks", () => {
  it("every fenced block names its language, and every shell block is marked runnable or not-runnable with a reason", () => {
    const problems: string[] = [];
    for (const page of PAGES) {
      for (const b of blocksOf(page)) {
        if (b.lang === "") problems.push(`${page}:${b.line}: name the block's language (text for output)`);
        else if (SHELL_LANGUAGES.has(b.lang)) {
          const s = shellBlock(b);
          if (typeof s === "string") problems.push(s);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it("the parser reads markers, options and reasons, and refuses a block without a marker", () => {
    const md = [
      "```bash runnable background timeout=90s",
      "./bin/wva cluster up --kubeconfig /tmp/k",
      "```",
      "  ~~~sh not-runnable: needs a real cluster",
      "  kubectl get va -A",
      "  ~~~",
      "```bash",
      "ls",
      "```",
      "```bash runnable timeout=soon",
      "```",
    ].join("\n");
    const [a, b, c, d] = fencedBlocks("x.md", md).map(shellBlock);
    assert.deepEqual(typeof a === "object" && [a.runnable, a.background, a.timeoutMs, a.line], [
      true,
      true,
      90000,
      1,
    ]);
    assert.deepEqual(typeof b === "object" && [b.runnable, b.reason, b.text], [
      false,
      "needs a real cluster",
      "kubectl get va -A\n",
    ]);
    assert.match(String(c), /x\.md:7: a bash block must be marked/);
    assert.match(String(d), /unknown runnable option "timeout=soon"/);
  });

  it("the runner reports a failing command, a block over its time limit and a server that never gets ready", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wva-docs-runner-"));
    const runner = new PageRunner(dir, dir, { ...process.env });
    await runner.init();
    const block = (text: string, words: string[]) => {
      const s = shellBlock({ file: "t.md", line: 1, lang: "bash", words, text });
      assert.ok(typeof s === "object", String(s));
      return s;
    };
    try {
      const ok = await runner.run(block("echo 8000 > /tmp/port\ncat /tmp/port\n", ["runnable"]));
      assert.equal(ok.code, 0);
      assert.notEqual(ok.output.trim(), "8000", "example ports are replaced with free ones");
      assert.equal((await runner.run(block("false\necho never\n", ["runnable"]))).code, 1);
      assert.equal((await runner.run(block("true | false | true\n", ["runnable"]))).code, 1);
      const slow = await runner.run(block("sleep 30\n", ["runnable", "timeout=1s"]));
      assert.equal(slow.timedOut, true);
      const early = await runner.runInBackground(block("exit 3\n", ["runnable", "background"]));
      assert.equal(early.code, 3);
      const server = await runner.runInBackground(
        block("echo ready\nsleep 30\n", ["runnable", "background"]),
      );
      assert.equal(server.code, 0);
    } finally {
      await runner.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("shell blocks run the wva command one way, as ./bin/wva", () => {
    const other =
      /(^|[\s;&|(])(npx wva|npm run wva|npx tsx src\/cli\/wva\.ts|tsx src\/cli\/wva\.ts)\b|(^|[;&|(]\s*)wva\s/m;
    const problems = PAGES.flatMap((page) =>
      shellBlocksOf(page)
        .filter((b) => b.text.split("\n").some((l) => other.test(l.replace(/#.*$/, ""))))
        .map((b) => `${page}:${b.line}`),
    );
    assert.deepEqual(problems, []);
  });

  it("the README and the main guides have blocks the test runs", () => {
    for (const page of MUST_RUN) {
      assert.ok(
        shellBlocksOf(page).some((b) => b.runnable),
        `${page} has no runnable shell block`,
      );
    }
  });
});

// Two pages at a time: much of a page's time is wall-clock waiting (a 25 s trial, 10 s load runs).
describe("runnable documentation blocks, in a fresh copy of the repository", { concurrency: 2 }, () => {
  let base: string;
  before(() => {
    k8sTools(); // helm and kubectl in .tools/bin, as `npm run tools` leaves them
    base = mkdtempSync(join(tmpdir(), "wva-docs-"));
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  for (const page of PAGES) {
    const runnable = shellBlocksOf(page).filter((b) => b.runnable);
    if (runnable.length === 0) continue;
    it(`${page}: ${runnable.length} block(s) succeed within their time limits`, async () => {
      const dir = mkdtempSync(join(base, "page-"));
      const copy = join(dir, "repo");
      const tmp = join(dir, "tmp");
      const home = join(dir, "home");
      for (const d of [copy, tmp, home]) mkdirSync(d);
      freshCopy(root, copy);
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PATH: `${join(copy, ".tools/bin")}:${process.env.PATH ?? ""}`,
        HOME: home, // never the developer's kube context
      };
      delete env.KUBECONFIG;
      const runner = new PageRunner(copy, tmp, env);
      await runner.init();
      try {
        for (const block of runnable) {
          const r: RunResult = block.background
            ? await runner.runInBackground(block)
            : await runner.run(block);
          const what = `${page}:${block.line}${block.background ? " (background)" : ""}`;
          assert.ok(
            !r.timedOut,
            `${what}: no ${block.background ? "ready line" : "end"} within ${block.timeoutMs / 1000}s\n${r.output}`,
          );
          assert.equal(r.code, 0, `${what}: exit ${r.code ?? r.signal}\n${r.output}`);
        }
      } finally {
        await runner.stop();
      }
    });
  }
});
