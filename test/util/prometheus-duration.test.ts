import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatPrometheusDuration } from "../../src/util/prometheus-duration.js";
import { parseDuration } from "../../src/util/duration.js";

describe("Prometheus duration formatting", () => {
  it("whole days, hours, minutes, seconds; below one second → 1s", () => {
    const cases: Array<[string, string]> = [
      ["24h", "1d"],
      ["48h", "2d"],
      ["168h", "7d"],
      ["1h", "1h"],
      ["12h", "12h"],
      ["1m", "1m"],
      ["10m", "10m"],
      ["30m", "30m"],
      ["1s", "1s"],
      ["30s", "30s"],
      ["90m", "90m"],
      ["100ms", "1s"],
      ["0", "1s"],
    ];
    for (const [input, want] of cases)
      assert.equal(formatPrometheusDuration(parseDuration(input)), want, input);
  });

  it("fractions of a second are truncated; negatives → 1s", () => {
    assert.equal(formatPrometheusDuration(90_500), "90s");
    assert.equal(formatPrometheusDuration(-5), "1s");
  });
});
