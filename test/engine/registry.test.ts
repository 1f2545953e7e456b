import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateSaturationConfig } from "../../src/config/saturation.js";
import { decideModel } from "../../src/engine/pipeline.js";
import { engineFor, hasEngine } from "../../src/engine/registry.js";
import { ANALYZER_NAMES } from "../../src/types/decision.js";
import { C0, NOW, reps, state } from "../support/engine-fixtures.js";

describe("engine registry by analyzerName", () => {
  it('"" and "default" select the same V1 engine and decide alike', () => {
    assert.ok(hasEngine("") && hasEngine("default"));
    assert.equal(engineFor("default"), engineFor(""));
    const input = (analyzerName: string) => ({
      modelID: "m",
      namespace: "ns",
      variants: [state("a", { current: 2 })],
      replicas: reps("a", [
        [0.75, 2],
        [0.76, 2],
      ]),
      config: { ...C0, analyzerName },
    });
    const v1 = decideModel(input(""), { now: NOW }).result;
    const named = decideModel(input("default"), { now: NOW }).result;
    assert.deepEqual(named, v1);
    assert.equal(v1.decisions[0].targetReplicas, 3);
  });

  it("every name the configuration accepts has an engine; unknown names are refused", () => {
    for (const name of ANALYZER_NAMES) assert.ok(engineFor(name), name);
    assert.ok(hasEngine("saturation"), "V2 is built in");
    assert.notEqual(engineFor("saturation"), engineFor(""));
    assert.throws(() => engineFor("v3"), /analyzerName: unknown analyzer "v3"/);
    assert.throws(
      () => validateSaturationConfig({ ...C0, analyzerName: "v3" }, "default"),
      /default\.analyzerName: must be ""/,
    );
  });
});
