import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { inProcessManager } from "../../src/playground/runner/controller.js";
import { firstScaleUp } from "../../src/playground/runner/report.js";
import { runPlayground } from "../../src/playground/runner/run.js";
import { loadScenarioFile } from "../../src/playground/runner/scenario.js";
import { simulate } from "../../src/simulate/simulate.js";

/**
 * The simulator and the live playground tell the same story on examples/scenarios/spike.yaml, within
 * wide tolerances (the live run shares two cores with everything else on the machine):
 * - completed requests within 10 %;
 * - each variant's replica count within ±1 of the simulated one in at least 75 % of the live cycles
 *   (compared with the simulated cycle closest in time);
 * - the first scale-up happens on the same variant.
 */
describe("simulator fidelity against the live playground", () => {
  it("spike.yaml: completed requests, replica timelines and the first scale-up agree", async () => {
    const scenario = loadScenarioFile("examples/scenarios/spike.yaml");
    const seed = 1;
    const live = await runPlayground(scenario, {
      table: false,
      out: new PassThrough().resume(),
      handleSignals: false,
      seed,
      controller: inProcessManager,
    });
    const sim = simulate(scenario, { seed, policies: ["wva"] }).policies[0];

    const liveDone = live.models[0].requests.completed;
    const simDone = sim.requests.completed;
    assert.ok(
      Math.abs(liveDone - simDone) <= 0.1 * simDone,
      `completed: live ${liveDone}, simulated ${simDone}`,
    );

    let close = 0;
    let total = 0;
    const misses: string[] = [];
    for (const c of live.cycles) {
      const s = sim.timeline.reduce((a, b) => (Math.abs(b.t - c.t) < Math.abs(a.t - c.t) ? b : a));
      for (const v of c.variants) {
        const sv = s.variants.find((x) => x.variant === v.variant)!;
        total++;
        if (Math.abs(sv.current - v.current) <= 1) close++;
        else misses.push(`t=${c.t}s ${v.variant}: live ${v.current}, simulated ${sv.current}`);
      }
    }
    assert.ok(total >= 20, `only ${total} live cycle rows`);
    assert.ok(close >= 0.75 * total, `replicas within ±1 in ${close}/${total} rows: ${misses.join("; ")}`);

    const firstLive = [...firstScaleUp(live)]
      .filter(([, t]) => t !== undefined)
      .sort((a, b) => a[1]! - b[1]!)[0];
    assert.ok(firstLive, "the live run scaled up");
    const initial = new Map(sim.timeline[0].variants.map((v) => [v.variant, v.current]));
    const firstSim = sim.timeline
      .flatMap((e) => e.variants.filter((v) => v.desired > initial.get(v.variant)!))
      .map((v) => v.variant)[0];
    assert.equal(`demo/${firstSim}`, firstLive[0]);
  });
});
