import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatLogLine } from "../../src/util/logger.js";

describe("text log format", () => {
  it("puts time, level, name and message first, then the fields as key=value", () => {
    const line = JSON.stringify({
      level: 30,
      time: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
      name: "manager",
      msg: "target changed",
      model: "meta/llama-3.1-8b",
      from: 1,
      to: 2,
      reason: "scale-up: spare KV below 0.1",
      stale: ["p-1"],
    });
    assert.equal(
      formatLogLine(line),
      '2026-01-02T03:04:05.678Z INFO  manager: target changed model=meta/llama-3.1-8b from=1 to=2 reason="scale-up: spare KV below 0.1" stale=["p-1"]\n',
    );
    assert.equal(formatLogLine("not json"), "not json\n");
    assert.match(formatLogLine(JSON.stringify({ level: 50, msg: "x" })), /^ERROR x\n$/);
  });
});
