import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decisionText, renderTable, type TableFrame } from "../../src/playground/runner/table.js";

function frame(over: Partial<TableFrame> = {}): TableFrame {
  return {
    title: "playground",
    tMs: 35_400,
    durationMs: 180_000,
    engineIntervalMs: 5000,
    actuation: "hpa",
    cycle: 7,
    load: [{ model: "llama", namespace: "demo", rate: 20, sent: 310, completed: 280, failed: 1 }],
    rows: [
      {
        model: "llama",
        namespace: "demo",
        variant: "llama-h100",
        cost: 40,
        current: 1,
        ready: 1,
        desired: 1,
        kvUsage: 0.873,
        queue: 12,
        action: "no-change",
        reason: "saturation-only mode: no-change",
      },
      {
        model: "llama",
        namespace: "demo",
        variant: "llama-a100",
        cost: 20,
        current: 1,
        ready: 1,
        desired: 2,
        kvUsage: 0.9,
        queue: 7,
        action: "scale-up",
        reason: "cheapest variant llama-a100 +1",
      },
    ],
    ...over,
  };
}

describe("live table rendering", () => {
  it("renders a header, the load line and one aligned row per variant sorted by name", () => {
    const out = renderTable(frame());
    const lines = out.trimEnd().split("\n");
    assert.equal(lines[0], "playground  t=35s/180s  cycle 7  engine every 5s  actuation hpa");
    assert.equal(lines[1], "load demo/llama: 20 req/s  sent 310  completed 280  failed 1");
    assert.equal(lines[2], "");
    assert.match(
      lines[3],
      /^VARIANT\s+MODEL\s+COST\s+CURRENT\s+READY\s+DESIRED\s+KV\s+QUEUE\s+LAST DECISION$/,
    );
    assert.match(
      lines[4],
      /^llama-a100\s+llama\s+20\s+1\s+1\s+2\s+90%\s+7\s+scale-up: cheapest variant llama-a100 \+1$/,
    );
    assert.match(
      lines[5],
      /^llama-h100\s+llama\s+40\s+1\s+1\s+1\s+87%\s+12\s+no-change: saturation-only mode: no-change$/,
    );
    assert.equal(lines.length, 6);
    // numeric columns are right-aligned: the KV and QUEUE cells end in the same column as their headers
    const kvEnd = lines[3].indexOf("KV") + 2;
    assert.equal(lines[4].slice(kvEnd - 3, kvEnd), "90%");
    const queueEnd = lines[3].indexOf("QUEUE") + 5;
    assert.equal(lines[5].slice(queueEnd - 2, queueEnd), "12");
  });

  it("cuts the reason so that no line is wider than the width", () => {
    const long = "x".repeat(300);
    const out = renderTable(frame({ width: 100, rows: frame().rows.map((r) => ({ ...r, reason: long })) }));
    for (const line of out.trimEnd().split("\n")) assert.ok(line.length <= 100, `${line.length}: ${line}`);
    assert.match(out, /x…\n/);
  });

  it("keeps at least 24 characters of the decision on a narrow terminal", () => {
    const out = renderTable(frame({ width: 40 }));
    assert.match(out, /LAST DECISION/);
    assert.match(out, /scale-up: cheapest vari…\n/);
  });

  it("drops the engine's mode prefix when it repeats the action", () => {
    assert.equal(
      decisionText(
        "scale-up",
        "saturation-only mode: scale-up (queue spare low (2.0 < 3.0); cheapest variant)",
      ),
      "scale-up: queue spare low (2.0 < 3.0); cheapest variant",
    );
    assert.equal(
      decisionText("no-change", "safety net: metrics unavailable"),
      "no-change: safety net: metrics unavailable",
    );
    assert.equal(decisionText("scale-up", "scale-up by limiter"), "scale-up by limiter");
  });

  it("shows the manager's metrics URL under the title when given", () => {
    const lines = renderTable(frame({ metricsUrl: "http://127.0.0.1:4000/metrics" })).split("\n");
    assert.equal(lines[1], "manager metrics: http://127.0.0.1:4000/metrics");
    assert.doesNotMatch(renderTable(frame()), /manager metrics/);
  });

  it("says it is waiting before the first cycle", () => {
    const out = renderTable(frame({ rows: [], cycle: 0 }));
    assert.match(out, /\(waiting for the first engine cycle\)/);
  });

  it("shows fractional rates with one decimal and a dash for an unknown cost", () => {
    const out = renderTable(
      frame({
        load: [{ model: "m", namespace: "n", rate: 2.25, sent: 0, completed: 0, failed: 0 }],
        rows: [{ ...frame().rows[0], cost: undefined }],
      }),
    );
    assert.match(out, /load n\/m: 2\.3 req\/s/);
    assert.match(out, /^llama-h100\s+llama\s+-\s+1/m);
  });
});
