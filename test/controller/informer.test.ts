import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Deployment } from "../../src/controller/accelerator.js";
import { Informer } from "../../src/controller/kube/informer.js";
import { createDeployment, useTestEnv, waitFor } from "../support/controller.js";

describe("informer on the API emulator", () => {
  const env = useTestEnv({ watchHistorySize: 20 }, { stopAfterEach: false });

  it("lists, watches, resumes after dropped watches and re-lists after failed watches, with index and handlers", async () => {
    await createDeployment(env.client, "ns1", "inf-a", 1);
    const inf = new Informer<Deployment>(env.client, {
      path: "/apis/apps/v1/namespaces/ns1/deployments",
      initialBackoffMs: 20,
      apiVersion: "apps/v1",
      kind: "Deployment",
    });
    const seen: string[] = [];
    inf.addHandlers({
      add: (d) => seen.push(`add ${d.metadata?.name}`),
      delete: (d) => seen.push(`delete ${d.metadata?.name}`),
    });
    inf.addIndex("app", (d) => [d.spec?.template?.metadata?.labels?.app ?? ""]);
    inf.start();
    await inf.waitForSync();
    assert.equal(inf.get("ns1", "inf-a")?.kind, "Deployment", "list items are stamped with their kind");
    assert.deepEqual(
      inf.byIndex("app", "inf-a").map((d) => d.metadata?.name),
      ["inf-a"],
    );

    await createDeployment(env.client, "ns1", "inf-b", 1);
    await waitFor(() => !!inf.get("ns1", "inf-b"), "watch add");

    // dropped watches: the informer resumes from its last resourceVersion without losing events
    const watchesBefore = env.client.stats.byVerb.get("WATCH") ?? 0;
    env.cluster.faults.dropWatches();
    await createDeployment(env.client, "ns1", "inf-c", 1);
    await waitFor(() => !!inf.get("ns1", "inf-c"), "event after a dropped watch");

    // far more changes than the watch history keeps while the watch is down: 410 Gone → re-list
    env.cluster.faults.failNext({ verb: "watch", code: 500, times: 3 });
    env.cluster.faults.dropWatches({ abrupt: true });
    for (let i = 0; i < 30; i++) {
      await env.client.mergePatch("/apis/apps/v1/namespaces/ns1/deployments/inf-a", {
        metadata: { annotations: { n: String(i) } },
      });
    }
    await env.client.delete("/apis/apps/v1/namespaces/ns1/deployments/inf-b");
    await waitFor(
      () => !inf.get("ns1", "inf-b") && inf.get("ns1", "inf-a")?.metadata?.annotations?.n === "29",
      "converged",
    );
    assert.ok(seen.includes("delete inf-b"));
    assert.ok((env.client.stats.byVerb.get("WATCH") ?? 0) > watchesBefore);
    inf.stop();
  });

  it("stopped right after its first sync, it leaves no watch open", async () => {
    const before = env.cluster.faults.openWatches();
    // every request answers late, so the informer stops while its watch is still being opened
    env.cluster.faults.setRandom({ delayShare: 1, delayMs: 100 });
    for (let i = 0; i < 5; i++) {
      const inf = new Informer<Deployment>(env.client, { path: "/apis/apps/v1/namespaces/ns2/deployments" });
      inf.start();
      await inf.waitForSync();
      inf.stop();
    }
    env.cluster.faults.clear();
    await new Promise((r) => setTimeout(r, 400));
    // at most as many as before (a watch of an earlier test may close meanwhile); a leak adds five
    assert.ok(env.cluster.faults.openWatches() <= before, `${env.cluster.faults.openWatches()} > ${before}`);
  });

  it("keeps retrying a list that fails and syncs once it succeeds", async () => {
    env.cluster.faults.failNext({ verb: "list", resource: "replicasets", code: 500, times: 2 });
    const inf = new Informer(env.client, { path: "/apis/apps/v1/replicasets", initialBackoffMs: 20 });
    inf.start();
    await inf.waitForSync();
    assert.ok(inf.hasSynced());
    assert.ok(inf.lastError !== undefined, "the failures were seen");
    inf.stop();
  });
});
