// Progress lines: the helper and `wva load`'s line with its ETA on stderr (the playground's start-up line is
// checked in snapshot.test.ts, which runs a playground anyway).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loadProgressText } from "../../src/cli/commands/load.js";
import { VllmEmulator } from "../../src/playground/vllm/server.js";
import { formatEta, ProgressLine } from "../../src/util/progress.js";
import { runWva } from "../support/cli.js";

describe("progress line", () => {
  it("rewrites one line on a terminal, at most once per interval, and clears it", () => {
    let out = "";
    let now = 0;
    const line = new ProgressLine({ write: (s: string) => (out += s) }, { tty: true, now: () => now });
    line.update("a");
    line.update("b"); // too soon
    now = 300;
    line.update("c");
    line.update("c");
    line.update("d", true);
    line.clear();
    assert.equal(out, "\r\x1b[Ka\r\x1b[Kc\r\x1b[Kd\r\x1b[K");
  });

  it("prints whole lines elsewhere", () => {
    let out = "";
    let now = 0;
    const line = new ProgressLine({ write: (s: string) => (out += s) }, { tty: false, now: () => now });
    line.update("one");
    now = 1000;
    line.update("two");
    now = 2000;
    line.update("three");
    line.clear();
    assert.equal(out, "one\nthree\n");
  });

  it("formats ETAs and the load line", () => {
    assert.deepEqual(
      [formatEta(-5), formatEta(400), formatEta(65_000), formatEta(3_725_000)],
      ["0s", "1s", "1m05s", "1h02m"],
    );
    const p = { sent: 40, completed: 30, failed: 2, total: 100, elapsedMs: 20_000, lastArrivalMs: 50_000 };
    assert.equal(
      loadProgressText(p),
      "load: sent 40/100, completed 30, failed 2, in flight 8, 20s elapsed, ETA 30s",
    );
    assert.match(loadProgressText({ ...p, sent: 100 }), /finishing 68 in flight$/);
  });
});

describe("wva load progress", () => {
  let emu: VllmEmulator;
  let url: string;
  before(async () => {
    emu = new VllmEmulator({ model: "m", engine: { alpha: 5, beta: 0.01, gamma: 0.0001, maxBatch: 8 } });
    url = (await emu.start()).url;
  });
  after(() => emu.stop());

  it("--progress prints progress lines with an ETA on stderr; without a terminal and without the flag none", async () => {
    const args = [
      "load",
      "--target",
      url,
      "--model",
      "m",
      "--rate",
      "10",
      "--duration",
      "2s",
      "--output",
      "4",
    ];
    const [withFlag, without] = await Promise.all([runWva(...args, "--progress"), runWva(...args)]);
    assert.equal(withFlag.code, 0, withFlag.stderr);
    const lines = withFlag.stderr.split("\n").filter((l) => l.startsWith("load: "));
    assert.ok(lines.length >= 1, `no progress line in: ${withFlag.stderr}`);
    assert.match(
      lines[0],
      /^load: sent \d+\/20, completed \d+, failed \d+, in flight \d+, \d+s elapsed, ETA \d+s$/,
    );
    assert.match(withFlag.stdout, /requests: sent 20, completed 20, failed 0/);
    assert.equal(without.code, 0, without.stderr);
    assert.equal(without.stderr, "");
  });
});
