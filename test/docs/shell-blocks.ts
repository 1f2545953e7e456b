// Reads the fenced code blocks of the documentation and runs the shell blocks marked runnable.
// The marking convention is described in docs/developer-guide/testing.md ("Documentation that runs").
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { execFileSync } from "node:child_process";

/** Languages whose blocks are shell commands. */
export const SHELL_LANGUAGES = new Set(["bash", "sh", "shell", "console", "zsh"]);

export interface FencedBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The first word of the info string ("" when the block names no language). */
  lang: string;
  /** The rest of the info string, split on whitespace. */
  words: string[];
  text: string;
}

export interface ShellBlock extends FencedBlock {
  runnable: boolean;
  /** Runnable: started in the background and kept running for the page's later blocks. */
  background: boolean;
  /** Runnable: the time limit in milliseconds. */
  timeoutMs: number;
  /** Not runnable: why. */
  reason: string;
}

export const DEFAULT_TIMEOUT_MS = 60_000;

/** Every fenced block of a Markdown text (``` or ~~~ fences, possibly indented inside a list). */
export function fencedBlocks(file: string, markdown: string): FencedBlock[] {
  const lines = markdown.split("\n");
  const blocks: FencedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(lines[j]);
      if (close && close[1][0] === fence[0] && close[1].length >= fence.length) break;
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart());
    }
    const [lang = "", ...words] = info.trim().split(/\s+/).filter(Boolean);
    blocks.push({ file, line: i + 1, lang, words, text: body.join("\n") + "\n" });
    i = j;
  }
  return blocks;
}

/**
 * Reads a shell block's marker: `runnable [background] [timeout=90s]` or `not-runnable REASON...`.
 * Returns an error message when the marker is missing or malformed.
 */
export function shellBlock(block: FencedBlock): ShellBlock | string {
  const where = `${block.file}:${block.line}`;
  const [first = "", ...rest] = block.words;
  const marker = first.replace(/:$/, "");
  if (marker === "not-runnable") {
    const reason = rest.join(" ");
    if (reason === "") return `${where}: "not-runnable" needs a reason after it`;
    return { ...block, runnable: false, background: false, timeoutMs: 0, reason };
  }
  if (marker !== "runnable")
    return `${where}: a ${block.lang} block must be marked "runnable" or "not-runnable REASON" in its info string`;
  let background = false;
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  for (const word of rest) {
    const t = /^timeout=(\d+)s$/.exec(word);
    if (word === "background") background = true;
    else if (t) timeoutMs = Number(t[1]) * 1000;
    else return `${where}: unknown runnable option "${word}" (background, timeout=Ns)`;
  }
  return { ...block, runnable: true, background, timeoutMs, reason: "" };
}

/** Example ports the docs use; the test replaces each with a free port so runs never collide. */
export const DOC_PORTS = [8000, 8080];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** The text a block runs with: `/tmp/` becomes the page's private directory and example ports free ones. */
export function substitute(text: string, tmp: string, ports: Map<number, number>): string {
  let out = text.replaceAll("/tmp/", `${tmp}/`);
  for (const [from, to] of ports) out = out.replace(new RegExp(`(?<![\\w.])${from}(?!\\w)`, "g"), String(to));
  return out;
}

/**
 * A fresh copy of the repository as a clone would have it after `npm ci` and `npm run tools`: the files git
 * tracks (plus new untracked ones), with node_modules and .tools linked from the checkout.
 */
export function freshCopy(root: string, dest: string): void {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
  })
    .split("\0")
    .filter(Boolean);
  for (const f of files) {
    const from = join(root, f);
    if (!existsSync(from) || lstatSync(from).isDirectory()) continue;
    const to = join(dest, f);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
    chmodSync(to, lstatSync(from).mode & 0o777);
  }
  for (const linked of ["node_modules", ".tools"]) symlinkSync(join(root, linked), join(dest, linked));
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
}

/** Runs the blocks of one page, in order, in one fresh copy; background blocks stop when the page ends. */
export class PageRunner {
  private readonly background: ChildProcess[] = [];
  private ports = new Map<number, number>();

  constructor(
    private readonly cwd: string,
    private readonly tmp: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  async init(): Promise<void> {
    for (const p of DOC_PORTS) this.ports.set(p, await freePort());
  }

  private start(block: ShellBlock): { child: ChildProcess; output: () => string } {
    const script = substitute(block.text, this.tmp, this.ports);
    const child = spawn("bash", ["-e", "-o", "pipefail", "-c", script], {
      cwd: this.cwd,
      env: this.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    return { child, output: () => output };
  }

  /** Runs a block to its end (or its time limit). */
  async run(block: ShellBlock): Promise<RunResult> {
    const { child, output } = this.start(block);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, "SIGKILL");
    }, block.timeoutMs);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) =>
      child.once("close", (c, s) => done([c, s])),
    );
    clearTimeout(timer);
    return { code, signal, output: output(), timedOut };
  }

  /** Starts a background block and waits for its first line on stdout (its "ready" line). */
  async runInBackground(block: ShellBlock): Promise<RunResult> {
    const { child, output } = this.start(block);
    this.background.push(child);
    const ready = await new Promise<"ready" | "exited" | "timeout">((done) => {
      const timer = setTimeout(() => done("timeout"), block.timeoutMs);
      child.stdout?.on("data", () => {
        clearTimeout(timer);
        done("ready");
      });
      child.once("close", () => {
        clearTimeout(timer);
        done("exited");
      });
    });
    return {
      code: ready === "ready" ? 0 : child.exitCode,
      signal: null,
      output: output(),
      timedOut: ready === "timeout",
    };
  }

  /** Stops the background blocks (SIGTERM to each process group, then SIGKILL after 5 s). */
  async stop(): Promise<void> {
    await Promise.all(
      this.background.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const closed = new Promise<void>((done) => child.once("close", () => done()));
        killGroup(child, "SIGTERM");
        const timer = setTimeout(() => killGroup(child, "SIGKILL"), 5000);
        await closed;
        clearTimeout(timer);
      }),
    );
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
