import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chooseWakeVariant, freeGpus } from "../../src/enforce/scale-from-zero.js";

const candidates = [
  { variant: "m-h100", accelerator: "H100", cost: 40, gpusPerReplica: 1 },
  { variant: "m-a100", accelerator: "A100", cost: 20, gpusPerReplica: 2 },
  { variant: "m-l40", accelerator: "L40", cost: 20, gpusPerReplica: 1 },
];

describe("variant woken for a model with several variants at zero", () => {
  it("the cheapest with free GPUs; ties by name", () => {
    const inv = freeGpus({ H100: 8, A100: 8, L40: 8 }, {});
    assert.equal(chooseWakeVariant(candidates, inv)?.variant, "m-a100");
  });

  it("skips a cheaper variant whose accelerator lacks GPUs for one replica", () => {
    const inv = freeGpus({ H100: 8, A100: 8, L40: 4 }, { A100: 7, L40: 4 });
    assert.deepEqual(inv, { H100: 8, A100: 1, L40: 0 });
    const c = chooseWakeVariant(candidates, inv)!;
    assert.equal(c.variant, "m-h100");
    assert.match(c.reason, /cheaper variants have no free GPUs/);
  });

  it("wakes the cheapest when no accelerator has room, or when no inventory is known", () => {
    const full = freeGpus({ H100: 1, A100: 1, L40: 1 }, { H100: 1, A100: 2, L40: 1 });
    assert.equal(chooseWakeVariant(candidates, full)?.variant, "m-a100");
    assert.equal(chooseWakeVariant(candidates)?.variant, "m-a100");
    assert.equal(chooseWakeVariant(candidates, freeGpus({}, {}))?.variant, "m-a100");
  });

  it("no candidate, no choice; an unknown cost counts as the default cost", () => {
    assert.equal(chooseWakeVariant([]), undefined);
    assert.equal(
      chooseWakeVariant([
        { variant: "b", accelerator: "H100", cost: 11 },
        { variant: "a", accelerator: "H100" },
      ])?.variant,
      "a",
    );
  });
});
