import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadScenarioFile, normalizeScenario } from "../../src/playground/runner/scenario.js";
import { cheapestMix, type OracleVariant } from "../../src/simulate/oracle.js";
import { modelArrivals } from "../../src/playground/runner/run.js";
import { defaultPolicies } from "../../src/simulate/policies.js";
import { World } from "../../src/simulate/world.js";
import { simulate, UnknownPolicyError } from "../../src/simulate/simulate.js";
import { validDoc } from "../playground/scenario-cases.js";

const EXAMPLES = "examples/scenarios";
const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

function firstScaleUp(timeline: Array<{ t: number; variants: Array<{ variant: string; current: number }> }>) {
  const start = new Map(timeline[0].variants.map((v) => [v.variant, v.current]));
  for (const e of timeline)
    for (const v of e.variants)
      if (v.current > (start.get(v.variant) ?? 0)) return { t: e.t, variant: v.variant };
  return undefined;
}

describe("wva simulate", () => {
  it("reports every policy with the documented fields", () => {
    const r = simulate(loadScenarioFile(join(EXAMPLES, "quick.yaml")), { seed: 3 });
    assert.equal(r.scenario, "quick");
    assert.deepEqual(
      r.policies.map((p) => p.policy),
      defaultPolicies(loadScenarioFile(join(EXAMPLES, "quick.yaml"))),
    );
    for (const p of r.policies) {
      assert.ok(p.cost > 0, `${p.policy} cost`);
      assert.ok(p.costRatioToOracle > 0);
      assert.equal(p.requests.sent, p.requests.completed + p.requests.failed);
      assert.ok(p.requests.sent > 0);
      assert.ok(p.sloAttainment >= 0 && p.sloAttainment <= 1);
      for (const k of ["p50", "p95", "p99"] as const) {
        assert.ok(p.ttftMs[k] >= 0 && p.itlMs[k] >= 0);
      }
      assert.ok(p.ttftMs.p50 <= p.ttftMs.p99);
      assert.ok(Number.isInteger(p.scalingActions) && Number.isInteger(p.reversals));
      assert.ok(p.reversals <= p.scalingActions);
      assert.ok(Object.keys(p.gpuHours).length > 0);
      assert.ok(p.timeline.length >= 20, `${p.timeline.length} cycles`);
      for (const e of p.timeline) {
        assert.deepEqual(
          e.variants.map((v) => v.variant),
          ["tiny-a100", "tiny-h100"],
        );
        for (const v of e.variants) assert.ok(v.ready <= v.current && v.desired >= 0);
        assert.equal(e.load.length, 1);
      }
    }
    const oracle = r.policies.find((p) => p.policy === "oracle")!;
    assert.equal(oracle.costRatioToOracle, 1);
    assert.ok(r.capacities.every((c) => c.rps > 0));
  });

  it("the same seed gives the same report; another seed another one", () => {
    const s = loadScenarioFile(join(EXAMPLES, "spike.yaml"));
    const a = simulate(s, { seed: 7 });
    const b = simulate(s, { seed: 7 });
    assert.deepEqual(a, b);
    assert.equal(JSON.stringify(a), JSON.stringify(b));
    const c = simulate(s, { seed: 8, policies: ["wva"] });
    assert.notDeepEqual(c.policies[0].requests, a.policies[0].requests);
  });

  it("wva-v2 on spike.yaml: the cheaper A100 grows first, no later than V1", () => {
    const r = simulate(loadScenarioFile(join(EXAMPLES, "spike.yaml")), {
      seed: 1,
      policies: ["wva", "wva-v2"],
    });
    const [v1, v2] = r.policies.map((p) => firstScaleUp(p.timeline));
    assert.ok(v1 && v2, "both scale up");
    assert.equal(v2.variant, "llama-3-8b-a100");
    assert.ok(v2.t <= v1.t, `V2 first scale-up at ${v2.t}s, V1 at ${v1.t}s`);
  });

  it("spike.yaml scales up, the cheaper A100 variant first, while the load is high", () => {
    for (const seed of [1, 2, 3]) {
      const r = simulate(loadScenarioFile(join(EXAMPLES, "spike.yaml")), { seed, policies: ["wva"] });
      const first = firstScaleUp(r.policies[0].timeline);
      assert.ok(first, `seed ${seed}: no scale-up`);
      assert.equal(first.variant, "llama-3-8b-a100");
      assert.ok(first.t > 20 && first.t <= 65, `seed ${seed}: first scale-up at ${first.t}s`);
    }
  });

  it("the oracle never costs more than any other policy, on every shipped scenario and several seeds", () => {
    for (const f of examples) {
      const s = loadScenarioFile(join(EXAMPLES, f));
      // trace arrivals depend on the seed only through rateScale; one seed is enough when it is 1
      const seeds = s.models.every((m) => m.load.trace?.rateScale === 1) ? [1] : [1, 2, 3];
      for (const seed of seeds) {
        const r = simulate(s, { seed });
        const oracle = r.policies.find((p) => p.policy === "oracle")!;
        for (const p of r.policies)
          assert.ok(
            oracle.cost <= p.cost + 1e-9,
            `${f} seed ${seed}: oracle ${oracle.cost} > ${p.policy} ${p.cost}`,
          );
      }
    }
  });

  it("requests that find no ready pod wait in the router up to the timeout, then fail", () => {
    const d = validDoc() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    d.routerTimeout = "2s";
    d.duration = "20s";
    d.models[0].variants = [
      {
        name: "m-a100",
        accelerator: "A100",
        cost: 20,
        initialReplicas: 0,
        minReplicas: 0,
        startupDelay: "1s",
      },
    ];
    d.models[0].load.schedule = [{ rate: 5, duration: "20s" }];
    const r = simulate(normalizeScenario(d), { policies: ["wva"] });
    const p = r.policies[0];
    assert.ok(p.requests.sent > 50);
    assert.equal(p.requests.completed, 0, "nothing ever serves the model");
    assert.equal(p.requests.failed, p.requests.sent);
    assert.equal(p.sloAttainment, 0);
    assert.equal(p.cost, 0);
  });

  it("waiting requests go to a pod as soon as it is Ready, also one that starts Ready", () => {
    for (const startupDelay of ["0s", "3s"]) {
      const d = validDoc() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      d.duration = "10s";
      d.models[0].variants = [
        { name: "m-a100", accelerator: "A100", cost: 20, initialReplicas: 0, startupDelay },
      ];
      d.models[0].load.schedule = [{ rate: 4, duration: "10s" }];
      const s = normalizeScenario(d);
      const world = new World(s, [modelArrivals(s.models[0], s.durationMs, 1).arrivals]);
      const v = world.variants[0];
      world.setInitial(v, 0);
      world.every({ periodMs: 2000, run: () => world.scale(v, 1) });
      world.run(() => undefined);
      const m = world.models[0];
      assert.ok(m.sent > 20);
      assert.equal(m.completed, m.sent, `startupDelay ${startupDelay}: every request is served`);
      assert.equal(v.scalingActions, 1);
      assert.ok(m.ttft.percentiles().p99 >= (startupDelay === "0s" ? 1500 : 4500));
    }
  });

  it("an unknown policy is an error listing the valid ones", () => {
    assert.throws(
      () => simulate(normalizeScenario(validDoc()), { policies: ["wva", "keda"] }),
      (e: unknown) =>
        e instanceof UnknownPolicyError &&
        /valid policies: wva, wva-always-on, wva-v2, wva-model, hpa-kv/.test(e.message),
    );
  });
});

describe("oracle: cheapest mix", () => {
  function brute(vs: OracleVariant[], demand: number): number {
    let best = Infinity;
    const rec = (i: number, cap: number, cost: number, n: number) => {
      if (i === vs.length) {
        if (cap >= demand - 1e-9 && n > 0) best = Math.min(best, cost);
        return;
      }
      for (let k = 0; k <= vs[i].maxReplicas; k++)
        rec(i + 1, cap + k * vs[i].capacity, cost + k * vs[i].cost, n + k);
    };
    rec(0, 0, 0, 0);
    return best;
  }

  it("matches an exhaustive search on small instances", () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 300; i++) {
      const vs: OracleVariant[] = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => ({
        cost: 1 + Math.floor(rnd() * 50),
        capacity: 0.5 + rnd() * 10,
        maxReplicas: 1 + Math.floor(rnd() * 5),
      }));
      const total = vs.reduce((s, v) => s + v.capacity * v.maxReplicas, 0);
      const demand = rnd() * total;
      const mix = cheapestMix(vs, demand);
      const cost = mix.reduce((s, n, j) => s + n * vs[j].cost, 0);
      const cap = mix.reduce((s, n, j) => s + n * vs[j].capacity, 0);
      assert.ok(cap >= demand - 1e-9, "covers the demand");
      assert.ok(mix.every((n, j) => n >= 0 && n <= vs[j].maxReplicas));
      assert.equal(cost, brute(vs, demand), JSON.stringify({ vs, demand, mix }));
    }
  });

  it("keeps one replica when there is no demand, and cuts demand beyond the fleet", () => {
    const vs = [
      { cost: 40, capacity: 10, maxReplicas: 2 },
      { cost: 20, capacity: 4, maxReplicas: 2 },
    ];
    assert.deepEqual(cheapestMix(vs, 0), [0, 1]);
    assert.deepEqual(cheapestMix(vs, 1000), [2, 2]);
  });

  it("has no replica without demand for a model with scale-to-zero", () => {
    const vs = [
      { cost: 40, capacity: 10, maxReplicas: 2 },
      { cost: 20, capacity: 4, maxReplicas: 2 },
    ];
    assert.deepEqual(cheapestMix(vs, 0, true), [0, 0]);
    assert.deepEqual(cheapestMix(vs, 0.1, true), [0, 1]);
  });
});

describe("wva simulate with scale-to-zero", () => {
  const s = loadScenarioFile(join(EXAMPLES, "scale-to-zero.yaml"));
  const r = simulate(s, { seed: 1, policies: ["wva", "wva-always-on"] });
  const [wva, alwaysOn] = r.policies;

  it("goes to zero after the retention period and wakes the cheapest variant for the next request", () => {
    const zero = wva.timeline.filter((e) => e.variants.every((v) => v.current === 0));
    assert.ok(zero.length > 0, "the model never reached zero replicas");
    // the idle gap starts at 90 s: one minute without a completed request, then the HPA's 30 s window
    assert.ok(zero[0].t >= 90 + 60 && zero[0].t <= 90 + 60 + 40, `first at zero: ${zero[0].t}s`);
    const after = wva.timeline.find((e) => e.t > zero[0].t && e.variants.some((v) => v.current > 0))!;
    assert.deepEqual(
      after.variants.filter((v) => v.current > 0).map((v) => v.variant),
      ["chat-a100"],
    );
    assert.equal(wva.requests.failed, 0, "no request is lost while the model wakes up");
  });

  it("the first queued request waits for the start-up delay plus at most one 100 ms loop period", () => {
    assert.ok(wva.coldStart.requests > 0);
    assert.equal(wva.coldStart.completed, wva.coldStart.requests);
    // the startup delay is 20 s; the percentiles have 1 % relative accuracy
    assert.ok(wva.coldStart.ttftMs.p99 >= 19_500, `cold TTFT p99 ${wva.coldStart.ttftMs.p99}`);
    assert.ok(wva.coldStart.ttftMs.p99 <= 20_100 * 1.01 + 100, `cold TTFT p99 ${wva.coldStart.ttftMs.p99}`);
  });

  it("saves cost against the same engine with scale-to-zero off, which has no cold start", () => {
    assert.ok(wva.cost < alwaysOn.cost * 0.8, `${wva.cost} vs ${alwaysOn.cost}`);
    assert.equal(alwaysOn.coldStart.requests, 0);
    assert.ok(alwaysOn.timeline.every((e) => e.variants.some((v) => v.current > 0)));
    assert.deepEqual(defaultPolicies(s), [
      "wva",
      "wva-always-on",
      "wva-v2",
      "wva-model",
      "hpa-kv",
      "hpa-queue",
      "static-peak",
      "oracle",
    ]);
  });
});
