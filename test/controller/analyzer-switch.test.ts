import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  SYSTEM_NS,
  ScriptedCollector,
  acceleratorLabel,
  condition,
  createDeployment,
  createVA,
  eventsWithReason,
  getVA,
  metricsText,
  useTestEnv,
  waitFor,
} from "../support/controller.js";

const CM = `/api/v1/namespaces/${SYSTEM_NS}/configmaps/wva-saturation-scaling-config`;
const V1 = "kvCacheThreshold: 0.8\nqueueLengthThreshold: 5\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 3\n";

describe("analyzerName in the saturation ConfigMap", () => {
  const env = useTestEnv();

  it("a switch from V1 to V2 takes effect on the next cycle: the expensive variant goes to 0, the cheap one carries the load", async () => {
    await env.client.create(`/api/v1/namespaces/${SYSTEM_NS}/configmaps`, {
      metadata: { name: "wva-saturation-scaling-config", namespace: SYSTEM_NS },
      data: { default: V1 },
    });
    const collector = new ScriptedCollector();
    // both variants lightly loaded (20% of a 20,000-token KV cache per pod)
    for (const v of ["cheap", "dear"]) {
      collector.set(v, 0.2);
      collector.setTokens(v, 20_000);
    }
    await env.client.create("/api/v1/namespaces", { metadata: { name: "sw" } });
    await createDeployment(env.client, "sw", "cheap", 2);
    await createDeployment(env.client, "sw", "dear", 1);
    await createVA(env.client, "sw", "cheap", "cheap", "m-sw", {
      cost: "5",
      labels: acceleratorLabel("A100"),
    });
    await createVA(env.client, "sw", "dear", "dear", "m-sw", {
      cost: "40",
      labels: acceleratorLabel("H100"),
    });
    const m = await env.start({ metricsSource: collector });
    await m.ready();

    // V1 never takes a variant below one replica
    const v1 = await m.nextCycle();
    const dearV1 = v1.variants.find((v) => v.variant === "dear");
    assert.equal(dearV1?.desired, 1, JSON.stringify(v1.variants));
    await waitFor(
      async () =>
        /analyzer: default/.test(
          condition(await getVA(env.client, "sw", "dear"), "OptimizationReady")?.message ?? "",
        ),
      "condition names the V1 analyzer",
    );
    assert.match(
      await metricsText(m),
      /wva_variant_info\{variant_name="dear",namespace="sw",analyzer="default"\} 1/,
    );

    await env.client.mergePatch(CM, { data: { default: `${V1}analyzerName: saturation\n` } });
    await waitFor(() => m.saturationFor("m-sw", "sw")?.analyzerName === "saturation", "hot reload");
    const v2 = await m.nextCycle();
    const target = (v: string) => v2.variants.find((x) => x.variant === v)?.desired;
    assert.equal(target("dear"), 0, JSON.stringify(v2.variants));
    assert.ok(target("cheap")! >= 1);
    assert.match(v2.variants.find((x) => x.variant === "dear")!.reason, /V2 scale-down/);
    await waitFor(
      async () =>
        /analyzer: saturation/.test(
          condition(await getVA(env.client, "sw", "dear"), "OptimizationReady")?.message ?? "",
        ),
      "condition names the analyzer",
    );
    const text = await metricsText(m);
    assert.match(text, /wva_variant_info\{variant_name="dear",namespace="sw",analyzer="saturation"\} 1/);
    assert.doesNotMatch(text, /analyzer="default"/, "the switch replaces the info series");

    // a variant at zero stays part of the model on V2: sized from its stored capacity, not skipped
    await env.client.mergePatch("/apis/apps/v1/namespaces/sw/deployments/dear/scale", {
      spec: { replicas: 0 },
    });
    await waitFor(async () => {
      const r = await m.nextCycle();
      return r.variants.some((v) => v.variant === "dear" && v.current === 0);
    }, "the variant at zero is still decided for");

    // an unknown analyzer is rejected and the previous config kept
    await env.client.mergePatch(CM, { data: { default: `${V1}analyzerName: v3\n` } });
    await waitFor(
      async () => (await eventsWithReason(env.client, SYSTEM_NS, "InvalidSaturationConfig")).length > 0,
      "warning event",
    );
    const [ev] = await eventsWithReason(env.client, SYSTEM_NS, "InvalidSaturationConfig");
    assert.match(ev.message, /analyzerName/);
    assert.equal(m.saturationFor("m-sw", "sw")?.analyzerName, "saturation");
    await m.stop();
    await env.client.delete(CM);
  });

  it("an HPA at its maxReplicas on the cheapest variant: the next cheapest grows and the reason names the HPA", async () => {
    await env.client.create("/api/v1/namespaces", { metadata: { name: "hb" } });
    const collector = new ScriptedCollector();
    collector.set("hb-cheap", 0.6);
    collector.set("hb-mid", 0.6);
    await createDeployment(env.client, "hb", "hb-cheap", 2);
    await createDeployment(env.client, "hb", "hb-mid", 1);
    await createVA(env.client, "hb", "hb-cheap", "hb-cheap", "m-hb", {
      cost: "5",
      labels: acceleratorLabel("A100"),
    });
    await createVA(env.client, "hb", "hb-mid", "hb-mid", "m-hb", {
      cost: "8",
      labels: acceleratorLabel("H100"),
    });
    await env.client.create("/apis/autoscaling/v2/namespaces/hb/horizontalpodautoscalers", {
      metadata: { name: "hb-cheap", namespace: "hb" },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "hb-cheap" },
        minReplicas: 1,
        maxReplicas: 2,
        metrics: [
          {
            type: "External",
            external: {
              metric: {
                name: "wva_desired_replicas",
                selector: { matchLabels: { variant_name: "hb-cheap" } },
              },
              target: { type: "AverageValue", averageValue: "1" },
            },
          },
        ],
      },
    });
    const m = await env.start({ metricsSource: collector });
    await m.ready();
    await m.nextCycle(); // steady, and the HPA informer has listed
    collector.set("hb-cheap", 0.95);
    collector.set("hb-mid", 0.95);
    let r = await m.nextCycle();
    await waitFor(async () => {
      if (r.variants.some((v) => v.variant === "hb-mid" && v.desired === 2)) return true;
      r = await m.nextCycle();
      return false;
    }, "the scale-up");
    const cheap = r.variants.find((v) => v.variant === "hb-cheap")!;
    assert.match(cheap.reason, /at maximum \(HPA maxReplicas 2\)/);
    const mid = r.variants.find((v) => v.variant === "hb-mid")!;
    assert.equal(cheap.desired, 2);
    assert.equal(mid.desired, 2, mid.reason);
    assert.match(mid.reason, /hb-cheap at maximum \(HPA maxReplicas 2\)/);
    await m.stop();
  });
});
