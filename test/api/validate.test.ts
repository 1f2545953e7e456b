import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  parseVariantAutoscaling,
  validateVariantAutoscaling,
  type VariantAutoscaling,
} from "../../src/api/v1alpha1/index.js";

function valid(): VariantAutoscaling {
  return {
    apiVersion: "llmd.ai/v1alpha1",
    kind: "VariantAutoscaling",
    metadata: { name: "llama-8b-h100", namespace: "llm-inference" },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "llama-8b-h100-decode" },
      modelID: "meta/llama-3.1-8b",
      variantCost: "40.0",
    },
    status: {
      desiredOptimizedAlloc: { accelerator: "H100", numReplicas: 3, lastRunTime: "2026-02-12T10:00:00Z" },
      actuation: { applied: false },
      conditions: [
        {
          type: "TargetResolved",
          status: "True",
          reason: "TargetFound",
          message: "Scale target Deployment llama-8b-h100-decode found",
          lastTransitionTime: "2026-02-12T10:00:00Z",
          observedGeneration: 1,
        },
      ],
    },
  };
}

// Tests reach into the object freely to break it on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

/** A deep copy of the valid object with one change applied. */
function mutate(change: (o: Loose) => void): unknown {
  const o = structuredClone(valid()) as Loose;
  change(o);
  return o;
}

function expectRejected(input: unknown, expected: string | RegExp): void {
  const r = validateVariantAutoscaling(input);
  assert.equal(r.valid, false, "should be rejected");
  const hit = r.errors.some((e) => (typeof expected === "string" ? e === expected : expected.test(e)));
  assert.ok(hit, `no error matching ${String(expected)} in ${JSON.stringify(r.errors)}`);
}

describe("validateVariantAutoscaling: rejected objects name the field", () => {
  it("missing spec.scaleTargetRef", () => {
    expectRejected(
      mutate((o) => delete o.spec.scaleTargetRef),
      "spec.scaleTargetRef: required",
    );
  });
  it("missing spec.scaleTargetRef.name", () => {
    expectRejected(
      mutate((o) => delete o.spec.scaleTargetRef.name),
      "spec.scaleTargetRef.name: required",
    );
  });
  it("empty spec.scaleTargetRef.name", () => {
    expectRejected(
      mutate((o) => (o.spec.scaleTargetRef.name = "")),
      /^spec\.scaleTargetRef\.name: must be at least 1 character/,
    );
  });
  it("missing spec.scaleTargetRef.kind", () => {
    expectRejected(
      mutate((o) => delete o.spec.scaleTargetRef.kind),
      "spec.scaleTargetRef.kind: required",
    );
  });
  it("empty spec.modelID", () => {
    expectRejected(
      mutate((o) => (o.spec.modelID = "")),
      /^spec\.modelID: must be at least 1 character/,
    );
  });
  for (const id of ["llama\n8b", "llama 8b", 'llama"8b', "llama\\8b", "llama\u00078b"]) {
    it(`spec.modelID ${JSON.stringify(id)} (would break a metrics query)`, () => {
      expectRejected(
        mutate((o) => (o.spec.modelID = id)),
        /^spec\.modelID: must match the pattern/,
      );
    });
  }
  it("spec.modelID longer than 512 characters", () => {
    expectRejected(
      mutate((o) => (o.spec.modelID = "m".repeat(513))),
      /^spec\.modelID: must be at most 512 character/,
    );
  });
  it("missing spec.modelID", () => {
    expectRejected(
      mutate((o) => delete o.spec.modelID),
      "spec.modelID: required",
    );
  });
  for (const cost of ["abc", "-1", "1.", "1e3", ""]) {
    it(`spec.variantCost ${JSON.stringify(cost)}`, () => {
      expectRejected(
        mutate((o) => (o.spec.variantCost = cost)),
        /^spec\.variantCost: must match the pattern/,
      );
    });
  }
  it("spec.variantCost as a number", () => {
    expectRejected(
      mutate((o) => (o.spec.variantCost = 10)),
      "spec.variantCost: must be of type string",
    );
  });
  it("status.desiredOptimizedAlloc.numReplicas -1", () => {
    expectRejected(
      mutate((o) => (o.status.desiredOptimizedAlloc.numReplicas = -1)),
      "status.desiredOptimizedAlloc.numReplicas: must be >= 0",
    );
  });
  it("status.desiredOptimizedAlloc.numReplicas 1.5", () => {
    expectRejected(
      mutate((o) => (o.status.desiredOptimizedAlloc.numReplicas = 1.5)),
      "status.desiredOptimizedAlloc.numReplicas: must be of type integer",
    );
  });
  it('status.desiredOptimizedAlloc.accelerator "A"', () => {
    expectRejected(
      mutate((o) => (o.status.desiredOptimizedAlloc.accelerator = "A")),
      /^status\.desiredOptimizedAlloc\.accelerator: must be at least 2 character/,
    );
  });
  it("status.desiredOptimizedAlloc without accelerator", () => {
    expectRejected(
      mutate((o) => delete o.status.desiredOptimizedAlloc.accelerator),
      "status.desiredOptimizedAlloc.accelerator: required",
    );
  });
  it("status.actuation without applied", () => {
    expectRejected(
      mutate((o) => (o.status.actuation = {})),
      "status.actuation.applied: required",
    );
  });
  it("a condition with a bad status, reason and time", () => {
    const input = mutate((o) => {
      o.status.conditions[0].status = "Maybe";
      o.status.conditions[0].reason = "not camel case";
      o.status.conditions[0].lastTransitionTime = "yesterday";
    });
    expectRejected(input, 'status.conditions[0].status: must be one of "True", "False", "Unknown"');
    expectRejected(input, /^status\.conditions\[0\]\.reason: must match the pattern/);
    expectRejected(input, "status.conditions[0].lastTransitionTime: must be a valid date-time");
  });
  it("two conditions with the same type (list-map key)", () => {
    expectRejected(
      mutate((o) => o.status.conditions.push({ ...o.status.conditions[0] })),
      'status.conditions[1].type: duplicate value "TargetResolved"',
    );
  });
  it("wrong apiVersion, kind, missing metadata.name", () => {
    const input = mutate((o) => {
      o.apiVersion = "llmd.ai/v1";
      o.kind = "Deployment";
      o.metadata = { namespace: "x" };
    });
    expectRejected(input, "apiVersion: must be llmd.ai/v1alpha1");
    expectRejected(input, "kind: must be VariantAutoscaling");
    expectRejected(input, "metadata.name: required");
  });
  it("missing spec and non-objects", () => {
    expectRejected({ metadata: { name: "x" } }, "spec: required");
    expectRejected(null, "(root): must be of type object");
    expectRejected("va", "(root): must be of type object");
    expectRejected(
      mutate((o) => (o.spec = [])),
      "spec: must be of type object",
    );
  });
  it("reports every error at once", () => {
    const r = validateVariantAutoscaling(
      mutate((o) => {
        delete o.spec.scaleTargetRef.name;
        o.spec.modelID = "";
        o.spec.variantCost = "abc";
        o.status.desiredOptimizedAlloc.numReplicas = -1;
      }),
    );
    assert.equal(r.errors.length, 4, JSON.stringify(r.errors));
  });
  it("parseVariantAutoscaling throws with every error", () => {
    assert.throws(
      () => parseVariantAutoscaling(mutate((o) => delete o.spec.scaleTargetRef)),
      /invalid VariantAutoscaling: spec\.scaleTargetRef: required/,
    );
  });
});

describe("validateVariantAutoscaling: accepted objects, defaults and pruning", () => {
  it("accepts a full sample with spec and status", () => {
    const r = validateVariantAutoscaling(valid());
    assert.deepEqual(r.errors, []);
    assert.equal(r.valid, true);
    assert.deepEqual(r.object, valid());
  });

  it('applies the default variantCost "10.0" without touching the input', () => {
    const input = mutate((o) => delete o.spec.variantCost) as VariantAutoscaling;
    const r = validateVariantAutoscaling(input);
    assert.equal(r.valid, true);
    assert.equal(r.object.spec.variantCost, "10.0");
    assert.equal(input.spec.variantCost, undefined);
    assert.equal(parseVariantAutoscaling(input).spec.variantCost, "10.0");
  });

  it("treats null like an absent field (then defaults it), as the API server does", () => {
    const r = validateVariantAutoscaling(mutate((o) => (o.spec.variantCost = null)));
    assert.equal(r.valid, true, JSON.stringify(r.errors));
    assert.equal(r.object.spec.variantCost, "10.0");
  });

  it("accepts a VA without status and without apiVersion/kind/metadata", () => {
    const r = validateVariantAutoscaling({
      spec: { scaleTargetRef: { kind: "Deployment", name: "d" }, modelID: "m" },
    });
    assert.equal(r.valid, true, JSON.stringify(r.errors));
  });

  it("accepts numReplicas 0 and a two-letter accelerator", () => {
    const r = validateVariantAutoscaling(
      mutate((o) => (o.status.desiredOptimizedAlloc = { accelerator: "L4", numReplicas: 0 })),
    );
    assert.equal(r.valid, true, JSON.stringify(r.errors));
  });

  it("prunes unknown fields and reports them (API server behaviour), keeping metadata as is", () => {
    const r = validateVariantAutoscaling(
      mutate((o) => {
        o.spec.minReplicas = 2;
        o.spec.scaleTargetRef.namespace = "other";
        o.status.conditions[0].extra = true;
        o.metadata.labels = { "inference.optimization/acceleratorName": "H100" };
      }),
    );
    assert.equal(r.valid, true);
    assert.deepEqual(r.prunedFields, [
      "spec.scaleTargetRef.namespace",
      "spec.minReplicas",
      "status.conditions[0].extra",
    ]);
    assert.equal("minReplicas" in r.object.spec, false);
    assert.deepEqual(r.object.metadata?.labels, { "inference.optimization/acceleratorName": "H100" });
  });

  it("rejects unknown fields with rejectUnknownFields", () => {
    const r = validateVariantAutoscaling(
      mutate((o) => (o.spec.minReplicas = 2)),
      { rejectUnknownFields: true },
    );
    assert.equal(r.valid, false);
    assert.deepEqual(r.errors, ["spec.minReplicas: unknown field"]);
  });
});
