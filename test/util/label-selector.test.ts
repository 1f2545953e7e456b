import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  formatSelector,
  fromLabelSelectorObject,
  LabelSelectorError,
  matchesLabels,
  parseLabelSelector,
} from "../../src/util/label-selector.js";

describe("label selectors", () => {
  it("equality, inequality, set-based, existence", () => {
    const labels = { app: "vllm", tier: "gold", gpu: "h100" };
    const yes = [
      "app=vllm",
      "app==vllm,tier!=silver",
      "tier in (gold,silver)",
      "tier notin (bronze)",
      "gpu",
      "!legacy",
      "",
      "  ",
      "app = vllm , tier in ( gold , silver ),gpu,!legacy",
    ];
    const no = ["app=other", "tier!=gold", "tier in (silver)", "tier notin (gold)", "missing", "!gpu"];
    for (const s of yes) assert.equal(matchesLabels(parseLabelSelector(s), labels), true, s);
    for (const s of no) assert.equal(matchesLabels(parseLabelSelector(s), labels), false, s);
  });

  it("parses every term form to its requirement", () => {
    assert.deepEqual(parseLabelSelector("a=b,c!=d,e in (x,y),f notin (z),g,!h"), [
      { key: "a", op: "=", values: ["b"] },
      { key: "c", op: "!=", values: ["d"] },
      { key: "e", op: "in", values: ["x", "y"] },
      { key: "f", op: "notin", values: ["z"] },
      { key: "g", op: "exists", values: [] },
      { key: "h", op: "!exists", values: [] },
    ]);
    assert.deepEqual(parseLabelSelector(undefined), []);
    assert.deepEqual(parseLabelSelector(null), []);
  });

  it("keys with a prefix and values with dots and dashes (node GPU labels)", () => {
    const sel = parseLabelSelector("nvidia.com/gpu.product=NVIDIA-H100-80GB-HBM3,pool");
    assert.equal(matchesLabels(sel, { "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3", pool: "" }), true);
    assert.equal(matchesLabels(sel, { "nvidia.com/gpu.product": "NVIDIA-A100", pool: "" }), false);
    assert.equal(matchesLabels(sel, undefined), false);
    assert.equal(matchesLabels([], undefined), true, "an empty selector matches anything");
  });

  it("a missing label satisfies != and notin, not = or in", () => {
    assert.equal(matchesLabels(parseLabelSelector("x!=1"), {}), true);
    assert.equal(matchesLabels(parseLabelSelector("x notin (1)"), {}), true);
    assert.equal(matchesLabels(parseLabelSelector("x=1"), {}), false);
    assert.equal(matchesLabels(parseLabelSelector("x in (1)"), {}), false);
  });

  it("a malformed selector throws naming the selector and the bad term", () => {
    for (const bad of ["app=(x", "a b", "in (x)", "a in x", "=b"]) {
      assert.throws(
        () => parseLabelSelector(bad),
        (e: unknown) =>
          e instanceof LabelSelectorError &&
          e.message.includes(`"${bad}"`) &&
          e.selector === bad &&
          e.term !== "",
        bad,
      );
    }
  });

  it("LabelSelector objects: matchLabels and every matchExpressions operator", () => {
    const sel = fromLabelSelectorObject({
      matchLabels: { app: "vllm" },
      matchExpressions: [
        { key: "tier", operator: "In", values: ["gold", "silver"] },
        { key: "zone", operator: "NotIn", values: ["z9"] },
        { key: "gpu", operator: "Exists" },
        { key: "legacy", operator: "DoesNotExist" },
      ],
    });
    assert.equal(matchesLabels(sel, { app: "vllm", tier: "gold", gpu: "h100" }), true);
    assert.equal(matchesLabels(sel, { app: "vllm", tier: "gold", gpu: "h100", legacy: "1" }), false);
    assert.equal(matchesLabels(sel, { app: "vllm", tier: "gold", gpu: "h100", zone: "z9" }), false);
    assert.equal(matchesLabels(sel, { app: "vllm", tier: "gold" }), false);
    assert.deepEqual(fromLabelSelectorObject(undefined), []);
    assert.deepEqual(fromLabelSelectorObject([]), []);
  });

  it("formats a selector back to text that parses to the same requirements", () => {
    const text = "a=b,c!=d,e in (x,y),f notin (z),g,!h";
    assert.equal(formatSelector(parseLabelSelector(text)), text);
    assert.equal(formatSelector(fromLabelSelectorObject({ matchLabels: { app: "x" } })), "app=x");
  });
});
