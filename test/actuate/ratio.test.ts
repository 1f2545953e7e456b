import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { desiredRatio } from "../../src/actuate/ratio.js";

describe("wva_desired_ratio value", () => {
  it("desired / current, and desired itself when current is 0", () => {
    assert.equal(desiredRatio(2, 5), 2.5);
    assert.equal(desiredRatio(0, 3), 3);
    assert.equal(desiredRatio(4, 4), 1);
    assert.ok(Math.abs(desiredRatio(6, 2) - 1 / 3) < 1e-12);
  });
});
