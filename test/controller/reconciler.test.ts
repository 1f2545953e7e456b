import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ActuationMetrics } from "../../src/actuate/metrics.js";
import type { Deployment } from "../../src/controller/accelerator.js";
import { Informer } from "../../src/controller/kube/informer.js";
import type { StatusWriteResult } from "../../src/controller/kube/status.js";
import { VAReconciler } from "../../src/controller/reconciler.js";
import type { CachedDecision, VA } from "../../src/controller/types.js";
import { silentLogger } from "../../src/util/logger.js";
import {
  condition,
  createDeployment,
  createVA,
  getVA,
  startEnv,
  waitFor,
  type TestEnv,
} from "../support/controller.js";

describe("VA reconciler on the API emulator", () => {
  let env: TestEnv;
  let vas: Informer<VA>;
  let deployments: Informer<Deployment>;
  const decisions = new Map<string, CachedDecision>();
  const writes: Array<StatusWriteResult<VA>> = [];
  let reconciler: VAReconciler;

  before(async () => {
    env = await startEnv();
    vas = new Informer<VA>(env.client, { path: "/apis/llmd.ai/v1alpha1/variantautoscalings" });
    deployments = new Informer<Deployment>(env.client, { path: "/apis/apps/v1/deployments" });
    vas.start();
    deployments.start();
    await Promise.all([vas.waitForSync(), deployments.waitForSync()]);
    reconciler = new VAReconciler({
      client: env.client,
      vas,
      deployments,
      decisions,
      metrics: new ActuationMetrics("", { processMetrics: false }),
      isolation: { instance: "", watchNamespace: "" },
      log: silentLogger,
      onStatusWrite: (_k, r) => writes.push(r),
    });
  });
  after(async () => {
    vas.stop();
    deployments.stop();
    await env.close();
  });

  it("a cached partial decision (no accelerator) for a VA without desiredOptimizedAlloc passes CRD validation", async () => {
    await createDeployment(env.client, "ns1", "u12", 1);
    await createVA(env.client, "ns1", "u12", "u12", "m-u12");
    await waitFor(() => !!vas.get("ns1", "u12") && !!deployments.get("ns1", "u12"), "caches");
    decisions.set("ns1/u12", {
      accelerator: "",
      targetReplicas: 0,
      keepAlloc: false,
      metrics: { status: "False", reason: "MetricsUnavailable", message: "No saturation metrics available" },
      optimization: { status: "False", reason: "MetricsUnavailable", message: "no accelerator" },
      applied: false,
      reason: "partial",
    });
    await reconciler.reconcile("ns1/u12");
    const va = await getVA(env.client, "ns1", "u12");
    assert.equal(condition(va, "MetricsAvailable")?.status, "False");
    assert.equal(condition(va, "MetricsAvailable")?.reason, "MetricsUnavailable");
    assert.equal(condition(va, "TargetResolved")?.reason, "TargetFound");
    assert.equal(va.status?.desiredOptimizedAlloc, undefined, "desiredOptimizedAlloc not written");
  });

  it("a 409 Conflict on the status write is retried against the latest object", async () => {
    await createDeployment(env.client, "ns1", "c409", 1);
    await createVA(env.client, "ns1", "c409", "c409", "m-409");
    await waitFor(() => !!vas.get("ns1", "c409") && !!deployments.get("ns1", "c409"), "caches");
    decisions.set("ns1/c409", {
      accelerator: "A100",
      targetReplicas: 3,
      keepAlloc: false,
      metrics: { status: "True", reason: "MetricsAvailable", message: "ok" },
      optimization: { status: "True", reason: "SaturationOnlyMode", message: "scale-up" },
      applied: true,
      reason: "scale-up",
    });
    const injectedBefore = env.cluster.faults.injected;
    env.cluster.faults.failNext({
      verb: "patch",
      resource: "variantautoscalings/status",
      name: "c409",
      code: 409,
      times: 2,
    });
    writes.length = 0;
    await reconciler.reconcile("ns1/c409");
    assert.equal(env.cluster.faults.injected - injectedBefore, 2, "two conflicts were answered");
    assert.equal(writes.at(-1)?.conflicts, 2);
    assert.equal(writes.at(-1)?.written, true);
    const va = await getVA(env.client, "ns1", "c409");
    assert.deepEqual(
      { n: va.status?.desiredOptimizedAlloc?.numReplicas, a: va.status?.desiredOptimizedAlloc?.accelerator },
      { n: 3, a: "A100" },
    );
    assert.equal(va.status?.actuation?.applied, true);
  });

  it("a status write that keeps failing with 409 surfaces the error (the queue retries it rate-limited)", async () => {
    env.cluster.faults.failNext({
      verb: "patch",
      resource: "variantautoscalings/status",
      name: "c409",
      code: 409,
      times: 50,
    });
    decisions.set("ns1/c409", { ...decisions.get("ns1/c409")!, targetReplicas: 4 });
    await assert.rejects(reconciler.reconcile("ns1/c409"), /409/);
    env.cluster.faults.clear();
  });

  it("nothing is written when the status would not change", async () => {
    decisions.set("ns1/c409", { ...decisions.get("ns1/c409")!, targetReplicas: 3 });
    env.cluster.faults.clear();
    await waitFor(() => vas.get("ns1", "c409")?.status?.desiredOptimizedAlloc?.numReplicas === 3, "cache");
    writes.length = 0;
    await reconciler.reconcile("ns1/c409");
    assert.equal(writes.at(-1)?.written, false);
  });
});
