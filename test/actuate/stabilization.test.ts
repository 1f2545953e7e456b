import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_SCALE_DOWN_STABILIZATION_MS, ScaleDownStabilizer } from "../../src/actuate/stabilization.js";

describe("direct actuator scale-down stabilisation", () => {
  it("5 → 1 within the window applies the window's highest recommendation; scale-up is immediate", () => {
    const s = new ScaleDownStabilizer(300_000);
    assert.equal(DEFAULT_SCALE_DOWN_STABILIZATION_MS, 300_000);
    assert.equal(s.stabilize("ns/va", 5, 0, 5), 5);
    // the engine recommends one replica less every 3 s: nothing is removed inside the window
    for (let t = 3000, want = 4; want >= 1; t += 3000, want--) {
      assert.equal(s.stabilize("ns/va", want, t, 5), 5);
    }
    assert.equal(s.stabilize("ns/va", 1, 299_999, 5), 5);
    // five minutes after the last recommendation of 5, the next highest of the window applies
    assert.equal(s.stabilize("ns/va", 1, 300_000, 5), 4);
    assert.equal(s.stabilize("ns/va", 1, 312_001, 4), 1);
    assert.equal(s.stabilize("ns/va", 7, 312_002, 1), 7, "scale-up at once");
  });

  it("a window of 0 applies every recommendation; keys are independent; forget drops the history; the first window starts at the running replicas", () => {
    const s = new ScaleDownStabilizer(0);
    assert.equal(s.stabilize("a", 5, 0, 5), 5);
    assert.equal(s.stabilize("a", 1, 0, 5), 1);
    const w = new ScaleDownStabilizer(60_000);
    assert.equal(w.stabilize("b", 3, 0, 3), 3);
    assert.equal(w.stabilize("a", 2, 1, 1), 2);
    assert.equal(w.stabilize("b", 1, 1, 3), 3);
    w.forget("b");
    assert.equal(w.stabilize("b", 1, 2, 1), 1);
    // the first recommendation of a key is measured against the replicas running then
    assert.equal(w.stabilize("c", 2, 0, 6), 6);
  });
});
