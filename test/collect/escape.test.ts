import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { escapePromQLValue } from "../../src/collect/escape.js";

describe("PromQL escaping (wva-core 10.11)", () => {
  it("U6: a quote injection stays one literal label value", () => {
    assert.equal(escapePromQLValue('prod",malicious="attack'), 'prod\\",malicious=\\"attack');
  });

  it("U6: backslashes are doubled before quotes are escaped", () => {
    assert.equal(escapePromQLValue("a\\b"), "a\\\\b");
    assert.equal(escapePromQLValue('\\"'), '\\\\\\"');
    assert.equal(escapePromQLValue("meta/llama-3.1-8b"), "meta/llama-3.1-8b");
  });
});
