import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { QueueAnalyzer, sizedRatePerSec } from "../../src/analyze/queueing-model/analyzer.js";
import { decideCycle, decideModel, type ModelInput } from "../../src/engine/pipeline.js";
import type { ReplicaMetric, VariantState } from "../../src/types/decision.js";
import { DEFAULT_THRESHOLDS, NOW, state } from "../support/engine-fixtures.js";

const A100 = { alpha: 6, beta: 0.05, gamma: 0.0002 };
const H100 = { alpha: 4, beta: 0.04, gamma: 0.00015 };

/** Busy pods of a variant: `rate` req/s each, 600 prompt and 150 generated tokens. */
function busy(variant: string, n: number, rate: number, extra: Partial<ReplicaMetric> = {}): ReplicaMetric[] {
  return Array.from({ length: n }, (_, i) => ({
    pod: `${variant}-${i}`,
    variant,
    kvCacheUsage: 0.3,
    queueLength: 0,
    arrivalRatePerSec: rate,
    avgInputTokens: 600,
    avgOutputTokens: 150,
    ttftMs: 120,
    itlMs: 12,
    ...extra,
  }));
}

function model(
  variants: VariantState[],
  replicas: ReplicaMetric[],
  over: Partial<ModelInput> = {},
): ModelInput {
  return {
    modelID: "m",
    namespace: "ns",
    variants,
    replicas,
    config: { ...DEFAULT_THRESHOLDS, analyzerName: "queueing-model" },
    slo: { targets: { ttftMs: 2000, itlMs: 100 }, sloMultiplier: 3 },
    ...over,
  };
}

const a100 = (over: Partial<VariantState> = {}) =>
  state("a100", { accelerator: "A100", cost: 20, maxBatchSize: 32, parameters: A100, ...over });
const h100 = (over: Partial<VariantState> = {}) =>
  state("h100", { accelerator: "H100", cost: 40, maxBatchSize: 32, parameters: H100, ...over });

describe("queueing-model engine", () => {
  it("gives the cheapest variant the replicas the load needs within the targets and drains the others", () => {
    const { result } = decideModel(
      model([a100({ current: 2 }), h100({ current: 1 })], [...busy("a100", 2, 3), ...busy("h100", 1, 3)]),
      { now: NOW },
    );
    const sizing = result.analysis.sizing!;
    assert.equal(sizing.arrivalRatePerSec, 9);
    assert.deepEqual(sizing.targets, { ttftMs: 2000, itlMs: 100, source: "explicit" });
    const rate = sizing.variants.find((v) => v.variant === "a100")!.ratePerReplicaPerSec!;
    assert.ok(rate > 0.5 && rate < 20, `a100 per replica ${rate} req/s`);
    const [a, h] = result.decisions;
    assert.equal(a.targetReplicas, Math.ceil(9 / rate));
    assert.equal(h.targetReplicas, 0);
    assert.match(a.reason, /^model-based mode: .*A100 meet TTFT 2000 ms \/ ITL 100 ms at 9 req\/s/);
    assert.match(h.reason, /a100 serves the model/);
  });

  it("sizes for the waiting requests too: they must start within the TTFT target", () => {
    const variants = [a100({ current: 2 }), h100({ current: 0, ready: 0 })];
    const calm = decideModel(model(variants, busy("a100", 2, 3)), { now: NOW }).result;
    const burst = decideModel(model(variants, busy("a100", 2, 3, { queueLength: 10 })), { now: NOW }).result;
    // 20 waiting requests, TTFT target 2 s: 10 req/s on top of the 6 the pods complete
    assert.equal(calm.analysis.sizing!.backlogRatePerSec, undefined);
    assert.equal(calm.analysis.sizing!.arrivalRatePerSec, 6);
    assert.equal(burst.analysis.sizing!.backlogRatePerSec, 10);
    assert.equal(burst.analysis.sizing!.arrivalRatePerSec, 16);
    const rate = burst.analysis.sizing!.variants.find((v) => v.variant === "a100")!.ratePerReplicaPerSec!;
    assert.equal(burst.decisions[0].targetReplicas, Math.ceil(16 / rate));
    assert.ok(burst.decisions[0].targetReplicas > calm.decisions[0].targetReplicas);
    // without a TTFT target the waiting requests have no deadline: the rate alone
    const noTtft = decideModel(
      model(variants, busy("a100", 2, 3, { queueLength: 10 }), {
        slo: { targets: { ttftMs: 0, itlMs: 100 }, sloMultiplier: 3 },
      }),
      { now: NOW },
    ).result;
    assert.equal(noTtft.analysis.sizing!.arrivalRatePerSec, 6);
  });

  it("keeps the other variants until the chosen one's replicas are ready", () => {
    const { result } = decideModel(
      model([a100({ current: 1, ready: 1 }), h100({ current: 2 })], busy("h100", 2, 12)),
      { now: NOW },
    );
    const [a, h] = result.decisions;
    assert.ok(a.targetReplicas > 1);
    assert.equal(h.targetReplicas, 2);
    assert.match(h.reason, /keeping 2 until a100 has \d+ ready \(1 now\)/);
  });

  it("keeps a variant at its maximum and gives the rest of the load to the next cheapest (decideCycle)", () => {
    const cycle = (a100Max: number, h100Max?: number) =>
      decideCycle(
        {
          enableLimiter: false,
          models: [
            model(
              [
                a100({ current: 2, bounds: [{ source: "annotation", maxReplicas: a100Max }] }),
                h100({
                  current: 1,
                  ...(h100Max !== undefined && { bounds: [{ source: "hpa", maxReplicas: h100Max }] }),
                }),
              ],
              [...busy("a100", 2, 15), ...busy("h100", 1, 10)],
              { slo: { targets: { ttftMs: 500, itlMs: 24 }, sloMultiplier: 3 } },
            ),
          ],
        },
        { now: NOW },
      ).models[0];
    const uncapped = cycle(10);
    const sizing = uncapped.analysis.sizing!;
    assert.equal(sizing.arrivalRatePerSec, 40);
    const rate = (v: string) => sizing.variants.find((x) => x.variant === v)!.ratePerReplicaPerSec!;
    // without the cap A100 alone would take it all
    assert.deepEqual(
      uncapped.decisions.map((d) => d.targetReplicas),
      [Math.ceil(40 / rate("a100")), 1],
    );
    assert.ok(Math.ceil(40 / rate("a100")) > 2);

    const capped = cycle(2);
    const [a, h] = capped.decisions;
    assert.equal(a.targetReplicas, 2);
    const h100s = Math.ceil((40 - 2 * rate("a100")) / rate("h100"));
    assert.equal(h.targetReplicas, h100s);
    assert.equal(a.steps[0].wasConstrained, true);
    const mix =
      `2 × A100 (at maximum: wva.llmd.ai/max-replicas annotation 2) + ${h100s} × H100 ` +
      "meet TTFT 500 ms / ITL 24 ms at 40 req/s";
    assert.ok(a.reason.startsWith(`model-based mode: no-change (${mix}`), a.reason);
    assert.ok(h.reason.startsWith(`model-based mode: scale-up (${mix}`), h.reason);

    const full = cycle(2, 1);
    assert.deepEqual(
      full.decisions.map((d) => d.targetReplicas),
      [2, 1],
    );
    const served = 2 * rate("a100") + rate("h100");
    assert.ok(served < 40);
    assert.match(
      full.decisions[1].reason,
      new RegExp(
        "^model-based mode: no-change \\(2 × A100 \\(at maximum: wva\\.llmd\\.ai/max-replicas annotation 2\\) " +
          "\\+ 1 × H100 \\(at maximum: HPA maxReplicas 1\\): load 40 req/s exceeds what the variants can serve " +
          `at their maximums \\(${Number(served.toPrecision(3))} req/s\\)`,
      ),
    );
  });

  it("keeps every replica when the pods report no request rate (missing metrics never scale down)", () => {
    const replicas = busy("a100", 3, 0).map(({ arrivalRatePerSec: _, ...r }) => r);
    const { result } = decideModel(model([a100({ current: 3 }), h100({ current: 2 })], replicas), {
      now: NOW,
    });
    assert.deepEqual(
      result.decisions.map((d) => d.targetReplicas),
      [3, 2],
    );
    assert.match(
      result.decisions[0].reason,
      /no request-rate metrics for the model; keeping current replicas/,
    );
  });

  it("sizes only the variants with parameters and explains the others", () => {
    const { result } = decideModel(
      model([a100({ current: 1, parameters: undefined }), h100({ current: 1 })], busy("h100", 1, 2)),
      { now: NOW },
    );
    const a = result.analysis.sizing!.variants.find((v) => v.variant === "a100")!;
    assert.match(a.infeasible!, /no performance parameters/);
    assert.equal(result.decisions[0].targetReplicas, 0);
    assert.ok(result.decisions[1].targetReplicas >= 1);
  });

  it("keeps every replica when no variant can meet the targets", () => {
    const { result } = decideModel(
      model([a100({ current: 2 })], busy("a100", 2, 1), {
        slo: { targets: { ttftMs: 1, itlMs: 1 }, sloMultiplier: 3 },
      }),
      { now: NOW },
    );
    assert.equal(result.decisions[0].targetReplicas, 2);
    assert.match(result.decisions[0].reason, /below the bounded region/);
  });

  it("infers targets from the parameters when none are configured", () => {
    const { result } = decideModel(model([a100({ current: 1 })], busy("a100", 1, 1), { slo: undefined }), {
      now: NOW,
    });
    assert.equal(result.analysis.sizing!.targets!.source, "inferred");
  });

  it("sizing is memoised: the same capacity, and the same error for targets that cannot be met", () => {
    const a = new QueueAnalyzer({
      maxBatchSize: 32,
      maxQueueSize: 320,
      params: A100,
      request: { inputTokens: 600, outputTokens: 150 },
    });
    const targets = { ttftMs: 2000, itlMs: 100 };
    const first = sizedRatePerSec(a, targets);
    assert.equal(first, a.size(targets).metrics.throughputPerSec);
    assert.equal(sizedRatePerSec(a, targets), first);
    for (let i = 0; i < 2; i++)
      assert.throws(() => sizedRatePerSec(a, { ttftMs: 1, itlMs: 1 }), /below the bounded region/);
  });
});
