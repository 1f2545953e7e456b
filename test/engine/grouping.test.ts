import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { groupByModel } from "../../src/engine/grouping.js";
import { groupKey } from "../../src/types/decision.js";

describe("model grouping by modelID and namespace", () => {
  it("variants of one model in one namespace form one group", () => {
    const groups = groupByModel([
      { name: "va-a100", modelID: "llama-8b", namespace: "default" },
      { name: "va-h100", modelID: "llama-8b", namespace: "default" },
    ]);
    assert.deepEqual(
      groups.map((g) => [groupKey(g.modelID, g.namespace), g.variants.map((m) => m.name)]),
      [["llama-8b|default", ["va-a100", "va-h100"]]],
    );
  });

  it("the same model in two namespaces forms two groups", () => {
    const groups = groupByModel([
      { name: "a", modelID: "llama-8b", namespace: "ns2" },
      { name: "b", modelID: "llama-8b", namespace: "ns1" },
    ]);
    assert.deepEqual(
      groups.map((g) => groupKey(g.modelID, g.namespace)),
      ["llama-8b|ns1", "llama-8b|ns2"],
    );
    assert.equal(groupKey("m", "ns"), "m|ns");
  });
});
