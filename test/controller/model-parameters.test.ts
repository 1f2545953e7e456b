import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { predictObservation, type TunerObservation } from "../../src/analyze/queueing-model/tuner.js";
import { MODEL_PARAMETERS_CONFIG_MAP, parseTunerState } from "../../src/controller/model-parameters.js";
import type { GroupCollection, GroupVariant } from "../../src/controller/engine-loop.js";
import type { ModelGroup } from "../../src/types/decision.js";
import type { ConfigMap } from "../../src/controller/kube/objects.js";
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
  type TestEnv,
} from "../support/controller.js";

const TRUTH = { alpha: 6, beta: 0.05, gamma: 0.0006 };

/** Busy pods whose latencies follow the queueing model at TRUTH (while `busy`), else idle pods. */
class ModelCollector extends ScriptedCollector {
  busy = true;
  override async collectAll(groups: ModelGroup<GroupVariant>[]): Promise<Map<string, GroupCollection>> {
    const out = await super.collectAll(groups);
    for (const r of out.values()) {
      if (!r.ok) continue;
      r.replicas.forEach((rep, i) => {
        if (!this.busy) return;
        const o: TunerObservation = {
          arrivalRatePerSec: 2 + i,
          avgInputTokens: 128,
          avgOutputTokens: 128,
          maxBatchSize: 256,
          ttftMs: 0,
          itlMs: 0,
        };
        const [ttftMs, itlMs] = predictObservation(TRUTH, o)!;
        Object.assign(rep, {
          arrivalRatePerSec: o.arrivalRatePerSec,
          avgInputTokens: 128,
          avgOutputTokens: 128,
          ttftMs,
          itlMs,
        });
      });
    }
    return out;
  }
}

const cmPath = `/api/v1/namespaces/${SYSTEM_NS}/configmaps`;

async function parameterMap(env: TestEnv): Promise<ConfigMap | undefined> {
  return env.client.get<ConfigMap>(`${cmPath}/${MODEL_PARAMETERS_CONFIG_MAP}`).catch(() => undefined);
}

function gauge(text: string, parameter: string): number {
  const re = new RegExp(
    `^wva_model_parameter\\{variant_name="qm",namespace="ns1",parameter="${parameter}"\\} (\\S+)$`,
    "m",
  );
  return Number(re.exec(text)?.[1]);
}

describe("queueing-model in the controller", () => {
  const env = useTestEnv({ nodes: "1xA100:4" });

  it("learned parameters are persisted when they change, exported as gauges and survive a restart", async () => {
    await env.client.create(cmPath, {
      metadata: { name: "wva-saturation-scaling-config", namespace: SYSTEM_NS },
      data: { default: "analyzerName: queueing-model" },
    });
    await env.client.create(cmPath, {
      metadata: { name: "wva-slo-config", namespace: SYSTEM_NS },
      data: {
        m: "model_id: m-qm\nnamespace: ns1\ntargetTTFT: 2000\ntargetITL: 100\n",
        bad: "model_id: x\ntargetTTFT: 1\n",
      },
    });
    await createDeployment(env.client, "ns1", "qm", 2);
    await createVA(env.client, "ns1", "qm", "qm", "m-qm", { labels: acceleratorLabel("A100") });
    const collector = new ModelCollector();
    let m = await env.start({ metricsSource: collector });
    await waitFor(
      async () => (await parameterMap(env))?.data?.["ns1.qm"] !== undefined,
      "parameters written",
    );
    await m.nextCycle();
    await m.nextCycle();
    const stored = parseTunerState("ns1.qm", (await parameterMap(env))!.data!["ns1.qm"]);
    const text = await metricsText(m);
    assert.equal(gauge(text, "alpha"), stored.params.alpha);
    assert.equal(gauge(text, "gamma"), stored.params.gamma);
    const va = await getVA(env.client, "ns1", "qm");
    assert.equal(condition(va, "OptimizationReady")?.reason, "OptimizationSucceeded");
    assert.match(
      condition(va, "OptimizationReady")!.message,
      /^model-based mode: .*meet TTFT 2000 ms \/ ITL 100 ms/,
    );
    assert.equal((await eventsWithReason(env.client, SYSTEM_NS, "InvalidSloConfig")).length, 1);

    // idle pods: nothing to learn, so nothing is written
    collector.busy = false;
    await m.nextCycle();
    const version = (await parameterMap(env))!.metadata!.resourceVersion;
    await m.nextCycle();
    assert.equal(
      (await parameterMap(env))!.metadata!.resourceVersion,
      version,
      "unchanged parameters are not written",
    );
    await env.stopAll();

    // a new controller starts from the persisted parameters
    m = await env.start({ metricsSource: collector });
    await m.nextCycle();
    const after = await metricsText(m);
    assert.equal(gauge(after, "alpha"), stored.params.alpha);
    assert.equal(gauge(after, "beta"), stored.params.beta);
  });

  it("a corrupted parameter ConfigMap is reported by an event and ignored; the manager keeps deciding", async () => {
    await env.client.replace(`${cmPath}/${MODEL_PARAMETERS_CONFIG_MAP}`, {
      metadata: { name: MODEL_PARAMETERS_CONFIG_MAP, namespace: SYSTEM_NS },
      data: { "ns1.qm": '{"params": {"alpha": "six"}}' },
    });
    const collector = new ModelCollector();
    const m = await env.start({ metricsSource: collector });
    await waitFor(
      async () => (await eventsWithReason(env.client, SYSTEM_NS, "InvalidModelParameters")).length > 0,
      "event",
    );
    const [e] = await eventsWithReason(env.client, SYSTEM_NS, "InvalidModelParameters");
    assert.match(e.message, /ns1\.qm\.params\.alpha: must be a finite number > 0/);
    // learning starts afresh and replaces the bad data
    await waitFor(async () => {
      const data = (await parameterMap(env))?.data?.["ns1.qm"];
      return data !== undefined && !data.includes("six");
    }, "fresh parameters written");
    const report = await m.nextCycle();
    assert.equal(report.models.length, 1, "the model is still decided");
  });
});
