import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ScriptedCollector,
  condition,
  createDeployment,
  createVA,
  getVA,
  acceleratorLabel,
  useTestEnv,
  waitFor,
} from "../support/controller.js";

describe("stuck transition", () => {
  const env = useTestEnv();

  it("a model whose target is never reached (nothing acts on it) is released after TRANSITION_LOCK_TIMEOUT and the condition says so", async () => {
    const collector = new ScriptedCollector();
    collector.set("stuck", 0.95, 10);
    await createDeployment(env.client, "ns1", "stuck", 1);
    await createVA(env.client, "ns1", "stuck", "stuck", "m-stuck", {
      labels: acceleratorLabel("H100"),
    });
    // hpa actuation without an HPA: the published target 2 is never realised
    const m = await env.start({ metricsSource: collector, env: { TRANSITION_LOCK_TIMEOUT: "1s" } });
    await waitFor(
      async () => (await getVA(env.client, "ns1", "stuck")).status?.desiredOptimizedAlloc?.numReplicas === 2,
      "first target",
    );
    const blocked = await m.nextCycle();
    assert.match(blocked.variants[0].reason, /transition/);
    assert.equal(blocked.variants[0].desired, 2, "held while in transition");
    await waitFor(
      async () =>
        condition(await getVA(env.client, "ns1", "stuck"), "OptimizationReady")?.reason ===
        "TransitionReleased",
      "released",
    );
    const va = await getVA(env.client, "ns1", "stuck");
    assert.match(condition(va, "OptimizationReady")!.message, /stuck: desired\(2\)!=current\(1\)/);
    assert.equal(condition(va, "OptimizationReady")!.status, "True");
  });
});
