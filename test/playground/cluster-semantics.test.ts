import assert from "node:assert/strict";
import { createServer, Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import {
  ApiError,
  startCluster,
  type KObject,
  type RunningCluster,
  type WatchEvent,
} from "../../src/playground/cluster/index.js";
import { deployment, waitFor, widgetCrd } from "./cluster-fixtures.js";

let cluster: RunningCluster;

async function call(method: string, path: string, body?: unknown, contentType = "application/json") {
  const res = await fetch(`${cluster.url}${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": contentType },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: res.status, body: json, headers: res.headers };
}

describe("playground cluster: API semantics", () => {
  before(async () => {
    cluster = await startCluster({ nodes: "1xH100:2", podStartupDelayMs: 20, bookmarkIntervalMs: 50 });
    const api = cluster.store;
    api.create(api.typeFor("apiextensions.k8s.io/v1", "CustomResourceDefinition"), widgetCrd);
  });
  after(async () => {
    await cluster.stop();
  });

  it("errors are Status objects: unknown resource 404, wrong method 405, bad body 400, CBOR 415", async () => {
    const missing = await call("GET", "/apis/nope.example/v1/things");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.kind, "Status");
    assert.equal((await call("GET", "/api/v1/namespaces/default/configmaps/none")).body.reason, "NotFound");
    assert.equal((await call("POST", "/api/v1/namespaces/default/configmaps/x")).status, 405);
    const bad = await call("POST", "/api/v1/namespaces/default/configmaps", "{not json");
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.message), /could not be decoded/);
    const cbor = await call("POST", "/api/v1/namespaces/default/configmaps", "\xa0", "application/cbor");
    assert.equal(cbor.status, 415);
    const smp = await call(
      "PATCH",
      "/apis/example.com/v1/namespaces/default/widgets/x",
      {},
      "application/strategic-merge-patch+json",
    );
    assert.equal(smp.status, 404, "404 before the media type when the object is missing");
  });

  it("create validates names and namespaces; duplicates are 409 AlreadyExists", async () => {
    const badName = await call("POST", "/api/v1/namespaces/default/configmaps", {
      metadata: { name: "Bad_Name" },
    });
    assert.equal(badName.status, 422);
    assert.match(String(badName.body.message), /metadata.name: Invalid value: "Bad_Name"/);
    const noName = await call("POST", "/api/v1/namespaces/default/configmaps", { metadata: {} });
    assert.match(String(noName.body.message), /name or generateName is required/);
    const noNs = await call("POST", "/api/v1/namespaces/ghost/configmaps", { metadata: { name: "a" } });
    assert.equal(noNs.status, 404);
    assert.match(String(noNs.body.message), /namespaces "ghost" not found/);
    const mismatch = await call("POST", "/api/v1/namespaces/default/configmaps", {
      metadata: { name: "a", namespace: "kube-system" },
    });
    assert.equal(mismatch.status, 400);
    assert.equal(
      (await call("POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: "dup" } })).status,
      201,
    );
    const dup = await call("POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: "dup" } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.reason, "AlreadyExists");
    const gen = await call("POST", "/api/v1/namespaces/default/configmaps", {
      metadata: { generateName: "gen-" },
    });
    assert.match(String((gen.body.metadata as KObject["metadata"])?.name), /^gen-[a-z0-9]{5}$/);
    const invalidDeploy = await call("POST", "/apis/apps/v1/namespaces/default/deployments", {
      metadata: { name: "d" },
      spec: {
        selector: { matchLabels: { app: "x" } },
        template: { metadata: { labels: { app: "y" } }, spec: { containers: [] } },
      },
    });
    assert.equal(invalidDeploy.status, 422);
    assert.match(String(invalidDeploy.body.message), /selector. does not match template .labels./);
    assert.match(String(invalidDeploy.body.message), /spec.template.spec.containers: Required value/);
  });

  it("custom resources need a resourceVersion on update; unchanged writes keep it; dryRun stores nothing", async () => {
    const api = cluster.store;
    const wt = api.typeFor("example.com/v1", "Widget");
    const w = api.create(wt, { metadata: { name: "rv" }, spec: { size: 1 } }, "default");
    const noRv = { ...w, metadata: { ...w.metadata, resourceVersion: undefined } };
    assert.throws(
      () => api.update(wt, noRv, "default"),
      (e: unknown) =>
        e instanceof ApiError && e.code === 422 && /must be specified for an update/.test(e.message),
    );
    const same = api.update(wt, w, "default");
    assert.equal(same.metadata?.resourceVersion, w.metadata?.resourceVersion);
    const dry = await call("POST", "/apis/example.com/v1/namespaces/default/widgets?dryRun=All", {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "dry" },
      spec: { size: 1 },
    });
    assert.equal(dry.status, 201);
    assert.throws(
      () => api.get(wt, "default", "dry"),
      (e: unknown) => e instanceof ApiError && e.code === 404,
    );
    const warn = await call("POST", "/apis/example.com/v1/namespaces/default/widgets", {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "warn" },
      spec: { size: 1, extra: 1 },
    });
    assert.equal(warn.status, 201);
    assert.match(warn.headers.get("warning") ?? "", /unknown field \\"spec.extra\\"/);
  });

  it("finalizers hold a deleted object with deletionTimestamp until they are removed", () => {
    const api = cluster.store;
    const ct = api.typeFor("v1", "ConfigMap");
    api.create(ct, { metadata: { name: "fin", finalizers: ["example.com/hold"] } }, "default");
    const deleting = api.delete(ct, "default", "fin");
    assert.ok(deleting.metadata?.deletionTimestamp);
    const held = api.get(ct, "default", "fin");
    assert.ok(held.metadata?.deletionTimestamp);
    assert.throws(
      () =>
        api.update(
          ct,
          { ...held, metadata: { ...held.metadata, finalizers: ["example.com/hold", "new"] } },
          "default",
        ),
      /no new finalizers can be added/,
    );
    api.update(ct, { ...held, metadata: { ...held.metadata, finalizers: [] } }, "default");
    assert.throws(
      () => api.get(ct, "default", "fin"),
      (e: unknown) => e instanceof ApiError && e.code === 404,
    );
  });

  it("delete preconditions and propagation: Orphan keeps dependents, Foreground deletes them first", async () => {
    const api = cluster.store;
    const ct = api.typeFor("v1", "ConfigMap");
    const owner = api.create(ct, { metadata: { name: "owner" } }, "default");
    const ref = { apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata!.uid! };
    api.create(ct, { metadata: { name: "child", ownerReferences: [ref] } }, "default");
    assert.throws(
      () => api.delete(ct, "default", "owner", { preconditions: { uid: "other" } }),
      (e: unknown) => e instanceof ApiError && e.code === 409,
    );
    api.delete(ct, "default", "owner", { propagationPolicy: "Orphan" });
    const orphan = api.get(ct, "default", "child");
    assert.equal(orphan.metadata?.ownerReferences, undefined);

    const owner2 = api.create(ct, { metadata: { name: "owner2" } }, "default");
    api.create(
      ct,
      {
        metadata: {
          name: "child2",
          ownerReferences: [{ ...ref, name: "owner2", uid: owner2.metadata!.uid! }],
        },
      },
      "default",
    );
    const pending = api.delete(ct, "default", "owner2", { propagationPolicy: "Foreground" });
    assert.deepEqual(pending.metadata?.finalizers, ["foregroundDeletion"]);
    await waitFor(() => !api.peek(ct, "default", "owner2"), "owner2 gone after its child");
    assert.equal(api.peek(ct, "default", "child2"), undefined);

    // an object whose only owner does not exist is collected
    api.create(
      ct,
      { metadata: { name: "dangling", ownerReferences: [{ ...ref, uid: "no-such-uid" }] } },
      "default",
    );
    await waitFor(() => !api.peek(ct, "default", "dangling"), "dangling collected");
  });

  it("generation moves on spec changes only; status writes leave it", () => {
    const api = cluster.store;
    const dt = api.typeFor("apps/v1", "Deployment");
    const d = api.create(dt, deployment("gen", 0), "default");
    assert.equal(d.metadata?.generation, 1);
    const labelled = api.patch(dt, "default", "gen", "merge", { metadata: { labels: { x: "y" } } });
    assert.equal(labelled.metadata?.generation, 1);
    const scaled = api.patch(dt, "default", "gen", "merge", { spec: { replicas: 0, paused: true } });
    assert.equal(scaled.metadata?.generation, 2);
    const status = api.patch(
      dt,
      "default",
      "gen",
      "merge",
      { status: { observedGeneration: 99 } },
      { subresource: "status" },
    );
    assert.equal(status.metadata?.generation, 2);
    assert.equal(status.status?.observedGeneration, 99);
    const ignored = api.patch(dt, "default", "gen", "merge", { status: { observedGeneration: 1 } });
    assert.equal(ignored.status?.observedGeneration, 99, "the main resource ignores status");
  });

  it("lists page with limit/continue and filter by field selector", async () => {
    const api = cluster.store;
    const ct = api.typeFor("v1", "ConfigMap");
    for (let i = 0; i < 5; i++)
      api.create(ct, { metadata: { name: `page-${i}`, labels: { page: "yes" } } }, "default");
    const names: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const q = new URLSearchParams({
        labelSelector: "page=yes",
        limit: "2",
        ...(cont ? { continue: cont } : {}),
      });
      const r = await call("GET", `/api/v1/namespaces/default/configmaps?${q}`);
      const meta = r.body.metadata as { continue?: string; remainingItemCount?: number };
      names.push(...(r.body.items as KObject[]).map((o) => o.metadata!.name!));
      cont = meta.continue;
      pages++;
    } while (cont);
    assert.equal(pages, 3);
    assert.deepEqual(names, ["page-0", "page-1", "page-2", "page-3", "page-4"]);
    const one = await call(
      "GET",
      "/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dpage-3",
    );
    assert.deepEqual(
      (one.body.items as KObject[]).map((o) => o.metadata!.name),
      ["page-3"],
    );
    assert.equal((await call("GET", "/api/v1/namespaces/default/configmaps?continue=garbage")).status, 400);
  });

  it("watches send ADDED/DELETED when objects move in or out of the label selector", () => {
    const api = cluster.store;
    const ct = api.typeFor("v1", "ConfigMap");
    const events: string[] = [];
    const h = api.watch(
      ct,
      {
        namespace: "default",
        labelSelector: "watched=yes",
        resourceVersion: String(api.objects.currentRV()),
      },
      (e: WatchEvent) => events.push(`${e.type}:${e.object.metadata?.name}`),
    );
    try {
      api.create(ct, { metadata: { name: "mover" } }, "default");
      api.patch(ct, "default", "mover", "merge", { metadata: { labels: { watched: "yes" } } });
      api.patch(ct, "default", "mover", "merge", { data: { a: "1" } });
      api.patch(ct, "default", "mover", "merge", { metadata: { labels: { watched: "no" } } });
      api.delete(ct, "default", "mover");
      assert.deepEqual(events, ["ADDED:mover", "MODIFIED:mover", "DELETED:mover"]);
    } finally {
      h.stop();
    }
  });

  it("HTTP watches give bookmarks and initial events, and the /watch/ path form works", async () => {
    const ac = new AbortController();
    const res = await fetch(
      `${cluster.url}/api/v1/watch/namespaces/default/configmaps?allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=0`,
      {
        signal: ac.signal,
      },
    );
    const reader = res.body!.getReader();
    let text = "";
    while (!/"BOOKMARK".*\n[\s\S]*"BOOKMARK"/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    ac.abort();
    const lines = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as WatchEvent);
    const firstBookmark = lines.findIndex((l) => l.type === "BOOKMARK");
    assert.ok(firstBookmark > 0, "initial ADDED events come first");
    assert.equal(lines[firstBookmark].object.metadata?.annotations?.["k8s.io/initial-events-end"], "true");
    assert.ok(lines.slice(0, firstBookmark).every((l) => l.type === "ADDED"));
  });

  it("fault injection answers 409 and 500 on chosen calls and counts them", async () => {
    cluster.faults.failNext({ verb: "get", resource: "configmaps", name: "dup", code: 409 });
    cluster.faults.failNext({ verb: "list", resource: "configmaps", code: 500, times: 2 });
    const c = await call("GET", "/api/v1/namespaces/default/configmaps/dup");
    assert.equal(c.status, 409);
    assert.equal(c.body.reason, "Conflict");
    assert.equal((await call("GET", "/api/v1/namespaces/default/configmaps/dup")).status, 200, "only once");
    assert.equal((await call("GET", "/api/v1/namespaces/default/configmaps")).status, 500);
    assert.equal((await call("GET", "/api/v1/namespaces/default/configmaps")).body.reason, "InternalError");
    assert.equal((await call("GET", "/api/v1/namespaces/default/configmaps")).status, 200);
    cluster.faults.setRandom({ failShare: 1, failCode: 503 });
    assert.equal((await call("GET", "/api/v1/namespaces/default/configmaps")).status, 503);
    cluster.faults.clear();
    assert.equal((await call("GET", "/api/v1/namespaces/default/configmaps")).status, 200);
    // a delayed share of requests still succeeds; the delay is a lower bound (setTimeout), not a speed check
    cluster.faults.setRandom({ delayShare: 1, delayMs: 150 });
    const t0 = Date.now();
    assert.equal((await call("GET", "/api/v1/namespaces/default/configmaps")).status, 200);
    assert.ok(Date.now() - t0 >= 140, "the request waited for the injected delay");
    cluster.faults.clear();
    assert.ok(cluster.faults.injected >= 4);
  });

  it("a pod created with spec.nodeName skips the scheduler but still gets an IP and becomes Ready", async () => {
    const api = cluster.store;
    const pt = api.typeFor("v1", "Pod");
    api.create(
      pt,
      {
        metadata: { name: "pinned" },
        spec: { nodeName: "gpu-h100-0", containers: [{ name: "c", image: "i" }] },
      },
      "default",
    );
    const ready = await waitFor(() => {
      const p = api.get(pt, "default", "pinned");
      return (p.status?.conditions as Array<{ type: string; status: string }> | undefined)?.some(
        (c) => c.type === "Ready" && c.status === "True",
      )
        ? p
        : undefined;
    }, "pinned pod ready");
    assert.equal(ready.spec?.nodeName, "gpu-h100-0");
    assert.match(String(ready.status?.podIP), /^127\.1\./);
    api.create(
      pt,
      {
        metadata: { name: "lost" },
        spec: { nodeName: "no-such-node", containers: [{ name: "c", image: "i" }] },
      },
      "default",
    );
    await waitFor(
      () => api.get(pt, "default", "lost").status?.conditions !== undefined,
      "lost pod condition",
    );
    assert.equal(api.get(pt, "default", "lost").status?.phase, "Pending");
  });

  it("cluster.apply() creates and then merges objects from YAML, like kubectl apply", async () => {
    const { readFileSync } = await import("node:fs");
    const crd = cluster.apply(readFileSync("config/crd/bases/llmd.ai_variantautoscalings.yaml", "utf8"));
    assert.equal(crd[0].kind, "CustomResourceDefinition");
    const [va] = cluster.apply(readFileSync("config/samples/variantautoscaling-minimal.yaml", "utf8"));
    assert.equal(va.spec?.variantCost, "10.0", "schema default");
    const [changed] = cluster.apply({
      apiVersion: "llmd.ai/v1alpha1",
      kind: "VariantAutoscaling",
      metadata: { name: "qwen-7b", labels: { tier: "x" } },
      spec: { variantCost: "3.5" },
    });
    assert.equal(changed.spec?.variantCost, "3.5");
    assert.equal(changed.spec?.modelID, "Qwen/Qwen2.5-7B-Instruct", "merged, not replaced");
    assert.equal(changed.metadata?.generation, 2);
    assert.throws(
      () => cluster.apply({ kind: "ConfigMap", metadata: { name: "x" } }),
      /needs apiVersion, kind and metadata.name/,
    );
  });

  it("invalid CRDs and HPAs are rejected with the field named", () => {
    const api = cluster.store;
    const crdType = api.typeFor("apiextensions.k8s.io/v1", "CustomResourceDefinition");
    const bad = {
      metadata: { name: "wrong.example.com" },
      spec: {
        group: "example.com",
        scope: "Galaxy",
        names: { kind: "Thing", plural: "things" },
        versions: [
          { name: "v1", served: true, storage: false, schema: { openAPIV3Schema: { type: "object" } } },
          {
            name: "v2",
            served: true,
            storage: false,
            schema: { openAPIV3Schema: { type: "object", properties: { a: { type: "nonsense" } } } },
          },
        ],
      },
    };
    assert.throws(
      () => api.create(crdType, bad),
      (e: unknown) => {
        assert.ok(e instanceof ApiError && e.code === 422);
        const fields = (e.details?.causes ?? []).map((c) => c.field);
        assert.deepEqual(fields.sort(), [
          "metadata.name",
          "spec.scope",
          "spec.versions",
          "spec.versions[1].schema.openAPIV3Schema",
        ]);
        return true;
      },
    );
    assert.throws(
      () => api.create(crdType, { metadata: { name: "x" }, spec: { scope: "Namespaced" } }),
      /spec.group: Required value/,
    );
    const hpaType = api.typeFor("autoscaling/v2", "HorizontalPodAutoscaler");
    assert.throws(
      () =>
        api.create(hpaType, { metadata: { name: "h" }, spec: { minReplicas: 5, maxReplicas: 2 } }, "default"),
      (e: unknown) =>
        e instanceof ApiError &&
        /spec.scaleTargetRef: Required value/.test(e.message) &&
        /spec.minReplicas/.test(e.message),
    );
    assert.throws(
      () =>
        api.create(
          hpaType,
          {
            metadata: { name: "h" },
            spec: { scaleTargetRef: { kind: "Deployment", name: "x" }, maxReplicas: 0 },
          },
          "default",
        ),
      /spec.maxReplicas: Invalid value: 0: must be greater than 0/,
    );
  });

  it("a failing onPodStarted hook fails the pod with StartError", async () => {
    const c = await startCluster({
      podStartupDelayMs: 10,
      onPodStarted: async () => {
        throw new Error("model not found");
      },
    });
    try {
      const pt = c.store.typeFor("v1", "Pod");
      c.store.create(
        pt,
        { metadata: { name: "doomed" }, spec: { containers: [{ name: "c", image: "i" }] } },
        "default",
      );
      const failed = await waitFor(() => {
        const p = c.store.get(pt, "default", "doomed");
        return p.status?.phase === "Failed" ? p : undefined;
      }, "failed pod");
      assert.equal(failed.status?.reason, "StartError");
      assert.equal(failed.status?.message, "model not found");
    } finally {
      await c.stop();
    }
  });

  it("pods get their own loopback IP and onPodStarted can listen on it; stopped pods are reported", async () => {
    const started: string[] = [];
    const stopped: string[] = [];
    const servers: Array<ReturnType<typeof createServer>> = [];
    const c = await startCluster({
      nodes: "1xH100:8",
      podStartupDelayMs: 10,
      onPodStarted: async (pod) => {
        const ip = String(pod.status?.podIP);
        const srv = createServer((s) => s.end("hello from the pod\n"));
        servers.push(srv);
        await new Promise<void>((resolve, reject) =>
          srv.once("error", reject).listen(8000, ip, () => resolve()),
        );
        started.push(ip);
      },
      onPodStopped: (pod) => {
        stopped.push(String(pod.status?.podIP));
      },
    });
    try {
      const api = c.store;
      api.create(api.typeFor("apps/v1", "Deployment"), deployment("hooked", 2, { gpus: 4 }), "default");
      const dt = api.typeFor("apps/v1", "Deployment");
      await waitFor(() => api.get(dt, "default", "hooked").status?.readyReplicas === 2, "2 ready");
      assert.equal(new Set(started).size, 2);
      for (const ip of started) {
        assert.match(ip, /^127\.1\.\d+\.\d+$/);
        const reply = await new Promise<string>((resolve, reject) => {
          const s = new Socket();
          let data = "";
          s.on("data", (d: Buffer) => (data += d.toString()));
          s.on("end", () => resolve(data));
          s.on("error", reject);
          s.connect(8000, ip);
        });
        assert.equal(reply, "hello from the pod\n");
      }
      // a third pod would need 4 more GPUs than the node has: Pending
      api.patch(dt, "default", "hooked", "merge", { spec: { replicas: 3 } });
      const pt = api.typeFor("v1", "Pod");
      await waitFor(
        () =>
          api.list(pt, { namespace: "default", fieldSelector: "status.phase=Pending" }).items.length === 1,
        "one pending pod",
      );
      assert.equal(c.freeGpus().get("gpu-h100-0"), 0);
      api.patch(dt, "default", "hooked", "merge", { spec: { replicas: 1 } });
      await waitFor(() => stopped.length === 1, "one pod stopped");
      assert.ok(started.includes(stopped[0]));
    } finally {
      await c.stop();
      for (const s of servers) s.close();
    }
    assert.equal(stopped.length, 2, "stop() reports the remaining pod");
  });
});
