import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DurationError, formatDuration, parseDuration, tryParseDuration } from "../../src/util/duration.js";

describe("Go duration parsing", () => {
  it("parses single and combined units", () => {
    assert.equal(parseDuration("30s"), 30_000);
    assert.equal(parseDuration("1m"), 60_000);
    assert.equal(parseDuration("1h30m"), 5_400_000);
    assert.equal(parseDuration("100ms"), 100);
    assert.equal(parseDuration("1.5m"), 90_000);
    assert.equal(parseDuration("0"), 0);
    assert.equal(parseDuration("-2s"), -2000);
    assert.equal(parseDuration("250us"), 0.25);
  });

  it("rejects days, bare numbers and garbage with the rule in the message", () => {
    for (const bad of ["1d", "10", "abc", "", "5 s", "s"]) {
      assert.throws(() => parseDuration(bad), DurationError, bad);
    }
    assert.throws(() => parseDuration("1d"), /units ns, us, ms, s, m, h/);
    assert.equal(tryParseDuration("nope"), undefined);
    assert.equal(tryParseDuration(undefined), undefined);
  });

  it("formats like Go", () => {
    assert.equal(formatDuration(0), "0s");
    assert.equal(formatDuration(5_400_000), "1h30m0s");
    assert.equal(formatDuration(60_000), "1m0s");
    assert.equal(formatDuration(1500), "1.5s");
    assert.equal(formatDuration(500), "500ms");
  });
});
