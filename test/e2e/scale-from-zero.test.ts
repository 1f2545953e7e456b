// Scale from zero on the playground: a model at 0 replicas behind its emulated endpoint picker, one
// request. The request waits in the flow-control queue, the scale-from-zero loop reads the queue from the
// EPP's metrics and scales the Deployment to 1, and the request is served once the pod is Ready.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import type { KObject, RunningCluster } from "../../src/playground/cluster/index.js";
import { inProcessManager } from "../../src/playground/runner/controller.js";
import type { ModelRouter } from "../../src/playground/runner/router.js";
import { runPlayground } from "../../src/playground/runner/run.js";
import { normalizeScenario } from "../../src/playground/runner/scenario.js";
import { groupKey } from "../../src/types/decision.js";

const STARTUP_MS = 1500;

describe("scale from zero on the playground", () => {
  it("one request to a model at zero: Deployment at 1 within 1 s of the request reaching the queue, request served, none lost", async (t) => {
    const scenario = normalizeScenario({
      name: "from-zero",
      engineInterval: "1s",
      actuation: "direct",
      nodes: ["1xH100:2"],
      duration: "20s",
      models: [
        {
          modelID: "cold/model",
          namespace: "cold",
          scaleToZero: { retention: "1m" },
          variants: [
            {
              name: "cold-h100",
              accelerator: "H100",
              cost: 10,
              initialReplicas: 0,
              startupDelay: `${STARTUP_MS}ms`,
              emulator: { maxBatch: 4, kvBlocks: 64, blockSize: 16, alpha: 5, beta: 0.05, gamma: 0.0005 },
            },
          ],
          load: { tokens: { input: 16, output: 8 }, schedule: [{ rate: 0, duration: "20s" }] },
        },
      ],
    });
    let cluster: RunningCluster | undefined;
    let router: ModelRouter | undefined;
    let reply: Promise<{ status: number; body: string; at: number }> | undefined;
    // the trial ends one engine cycle after the answer
    const done = new AbortController();
    const report = await runPlayground(scenario, {
      table: false,
      out: new Writable({ write: (_c, _e, cb) => cb() }),
      handleSignals: false,
      signal: done.signal,
      controller: inProcessManager,
      onStarted: (trial) => {
        cluster = trial.cluster;
        router = trial.routers.get(groupKey("cold/model", "cold"));
        reply = fetch(`${router!.url}/v1/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "cold/model", prompt: "hello", max_tokens: 8 }),
        }).then(async (r) => {
          const answer = { status: r.status, body: await r.text(), at: Date.now() };
          setTimeout(() => done.abort(), 1200);
          return answer;
        });
      },
    });
    const res = await reply!;
    assert.equal(res.status, 200, res.body);

    // when the request reached the queue, and when the emulator scaled the Deployment's ReplicaSet to 1
    assert.equal(router!.queuedAt.length, 1);
    const queuedAt = router!.queuedAt[0];
    const store = cluster!.store;
    const events = store
      .peekList(store.typeFor("v1", "Event"), "cold")
      .filter(
        (e: KObject) =>
          (e as { involvedObject?: { name?: string } }).involvedObject?.name === "cold-h100" &&
          (e as { reason?: string }).reason === "ScalingReplicaSet" &&
          / to 1$/.test((e as { message?: string }).message ?? ""),
      ) as Array<{ eventTime: string; message: string }>;
    assert.equal(events.length, 1, JSON.stringify(events));
    const scaledAt = Date.parse(events[0].eventTime);
    const delay = scaledAt - queuedAt;
    t.diagnostic(`Deployment scaled ${delay} ms after the request reached the queue`);
    assert.ok(delay >= 0 && delay < 1000, `scaled ${delay} ms after the request reached the queue`);
    // the request was served once the pod was Ready: after its start-up delay
    assert.ok(res.at - queuedAt >= STARTUP_MS, `answered ${res.at - queuedAt} ms after queueing`);

    const m = report.models[0];
    assert.deepEqual(m.coldStart && { requests: m.coldStart.requests, completed: m.coldStart.completed }, {
      requests: 1,
      completed: 1,
    });
    assert.ok(m.coldStart!.ttftMs.p50 >= STARTUP_MS, `cold-start TTFT ${m.coldStart!.ttftMs.p50} ms`);
    assert.deepEqual(router!.stats().failed, 0, "no request lost");
    const last = report.cycles[report.cycles.length - 1].variants[0];
    assert.equal(last.current, 1);
  });
});
