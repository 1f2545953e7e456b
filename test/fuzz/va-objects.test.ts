import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseAllDocuments } from "yaml";
import { MODEL_ID_MAX_LENGTH, MODEL_ID_PATTERN } from "../../src/api/v1alpha1/constants.js";
import { validateVariantAutoscaling } from "../../src/api/v1alpha1/validate.js";
import { Tally, anyValue, bounded, fuzzParameters, mutated } from "./support.js";

const samples = parseAllDocuments(
  readFileSync("config/samples/variantautoscaling-with-cost.yaml", "utf8"),
).map((d) => d.toJS() as unknown);

describe("fuzz: VariantAutoscaling objects", () => {
  it("every object is accepted with a usable spec or rejected with each error naming its field", () => {
    const tally = new Tally("VariantAutoscaling objects");
    const input = fc.oneof(
      { arbitrary: fc.constantFrom(...samples).chain((s) => mutated(s, 4)), weight: 5 },
      { arbitrary: anyValue, weight: 1 },
    );
    fc.assert(
      fc.property(input, fc.boolean(), (obj, strict) => {
        tally.tried++;
        const r = bounded("validateVariantAutoscaling", () =>
          validateVariantAutoscaling(obj, { rejectUnknownFields: strict }),
        );
        if (!r.valid) {
          tally.rejected++;
          assert.ok(r.errors.length > 0);
          for (const e of r.errors) {
            assert.match(e, /^[^\n]+?: [^\n]+$/, `error without a field: ${JSON.stringify(e)}`);
            assert.doesNotMatch(e, /^: /);
          }
          return;
        }
        tally.accepted++;
        const spec = r.object.spec;
        assert.equal(typeof spec.modelID, "string");
        assert.ok(spec.modelID.length >= 1 && spec.modelID.length <= MODEL_ID_MAX_LENGTH);
        assert.match(spec.modelID, new RegExp(MODEL_ID_PATTERN));
        assert.ok(typeof spec.scaleTargetRef.name === "string" && spec.scaleTargetRef.name !== "");
        assert.match(spec.variantCost ?? "", /^\d+(\.\d+)?$/);
      }),
      fuzzParameters(),
    );
    tally.report();
  });
});
