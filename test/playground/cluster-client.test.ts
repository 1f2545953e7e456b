import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  Watch,
  makeInformer,
  setHeaderOptions,
  type V1ConfigMap,
  type V1Lease,
} from "@kubernetes/client-node";
import { startCluster, type RunningCluster } from "../../src/playground/cluster/index.js";
import { deployment, waitFor, widgetCrd } from "./cluster-fixtures.js";

let cluster: RunningCluster;
let kc: KubeConfig;

function client(): KubeConfig {
  const k = new KubeConfig();
  k.loadFromFile(cluster.kubeconfigPath);
  return k;
}

async function expectCode(p: Promise<unknown>, code: number): Promise<ApiException<unknown>> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApiException, `expected ApiException, got ${String(err)}`);
    assert.equal(err.code, code, String(err.body));
    return err;
  }
  assert.fail(`expected HTTP ${code}`);
}

describe("playground cluster with @kubernetes/client-node", () => {
  before(async () => {
    cluster = await startCluster({ nodes: "1xH100:8", podStartupDelayMs: 50 });
    kc = client();
    cluster.store.create(
      cluster.store.typeFor("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
      widgetCrd,
    );
  });
  after(async () => {
    await cluster.stop();
  });

  it("an informer lists and then watches, seeing adds, updates and deletes", async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({
      namespace: "default",
      body: { metadata: { name: "pre" }, data: { a: "1" } },
    });
    const informer = makeInformer(kc, "/api/v1/namespaces/default/configmaps", () =>
      core.listNamespacedConfigMap({ namespace: "default" }),
    );
    const seen: string[] = [];
    informer.on("add", (o) => seen.push(`add:${o.metadata?.name}`));
    informer.on("update", (o) => seen.push(`update:${o.metadata?.name}:${o.data?.a}`));
    informer.on("delete", (o) => seen.push(`delete:${o.metadata?.name}`));
    await informer.start();
    try {
      await waitFor(() => seen.includes("add:pre"), "initial list");
      await core.createNamespacedConfigMap({
        namespace: "default",
        body: { metadata: { name: "later" }, data: { a: "1" } },
      });
      await core.patchNamespacedConfigMap(
        { namespace: "default", name: "later", body: { data: { a: "2" } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
      await core.deleteNamespacedConfigMap({ namespace: "default", name: "later" });
      await waitFor(() => seen.includes("delete:later"), "delete event");
      assert.deepEqual(
        seen.filter((s) => s.includes("later")),
        ["add:later", "update:later:2", "delete:later"],
      );
      assert.equal(informer.list().length, 1);
    } finally {
      await informer.stop();
    }
  });

  it("a stale update answers 409 Conflict with a Status object", async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const created = await core.createNamespacedConfigMap({
      namespace: "default",
      body: { metadata: { name: "cas" }, data: { v: "0" } },
    });
    const fresh: V1ConfigMap = { ...created, data: { v: "1" } };
    await core.replaceNamespacedConfigMap({ namespace: "default", name: "cas", body: fresh });
    const stale: V1ConfigMap = { ...created, data: { v: "stale" } };
    const err = await expectCode(
      core.replaceNamespacedConfigMap({ namespace: "default", name: "cas", body: stale }),
      409,
    );
    const status = JSON.parse(String(err.body)) as { kind: string; reason: string; message: string };
    assert.equal(status.kind, "Status");
    assert.equal(status.reason, "Conflict");
    assert.match(status.message, /the object has been modified/);
    const now = await core.readNamespacedConfigMap({ namespace: "default", name: "cas" });
    assert.equal(now.data?.v, "1");
  });

  it("status merge patch changes only the status; spec changes bump generation", async () => {
    const co = kc.makeApiClient(CustomObjectsApi);
    const w = (await co.createNamespacedCustomObject({
      group: "example.com",
      version: "v1",
      namespace: "default",
      plural: "widgets",
      body: {
        apiVersion: "example.com/v1",
        kind: "Widget",
        metadata: { name: "w1" },
        spec: { size: 2 },
        status: { observed: "ignored" },
      },
    })) as { metadata: { generation: number }; spec: { color: string }; status?: unknown };
    assert.equal(w.metadata.generation, 1);
    assert.equal(w.spec.color, "blue", "schema default applied");
    assert.equal(w.status, undefined, "status is ignored on create with a status subresource");
    const patched = (await co.patchNamespacedCustomObjectStatus(
      {
        group: "example.com",
        version: "v1",
        namespace: "default",
        plural: "widgets",
        name: "w1",
        body: {
          status: { observed: "yes", conditions: [{ type: "Ready", status: "True" }] },
          spec: { size: 99 },
        },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    )) as { metadata: { generation: number }; spec: { size: number }; status: { observed: string } };
    assert.equal(patched.status.observed, "yes");
    assert.equal(patched.spec.size, 2, "the status endpoint ignores spec");
    assert.equal(patched.metadata.generation, 1, "a status change keeps the generation");
    const specPatched = (await co.patchNamespacedCustomObject(
      {
        group: "example.com",
        version: "v1",
        namespace: "default",
        plural: "widgets",
        name: "w1",
        body: { spec: { size: 3 } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    )) as { metadata: { generation: number } };
    assert.equal(specPatched.metadata.generation, 2);
  });

  it("a custom resource failing its schema is rejected with 422 and the field named", async () => {
    const co = kc.makeApiClient(CustomObjectsApi);
    const err = await expectCode(
      co.createNamespacedCustomObject({
        group: "example.com",
        version: "v1",
        namespace: "default",
        plural: "widgets",
        body: {
          apiVersion: "example.com/v1",
          kind: "Widget",
          metadata: { name: "bad" },
          spec: { size: 0, color: "green" },
        },
      }),
      422,
    );
    const status = JSON.parse(String(err.body)) as {
      reason: string;
      message: string;
      details: { causes: Array<{ field: string }> };
    };
    assert.equal(status.reason, "Invalid");
    assert.match(status.message, /spec\.size in body should be greater than or equal to 1/);
    assert.match(status.message, /spec\.color: Unsupported value: "green"/);
    assert.deepEqual(status.details.causes.map((c) => c.field).sort(), ["spec.color", "spec.size"]);
  });

  it("the scale subresource reads and changes a Deployment's replicas, and pods follow", async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    await apps.createNamespacedDeployment({ namespace: "default", body: deployment("scaled", 1) as never });
    const scale = await apps.readNamespacedDeploymentScale({ namespace: "default", name: "scaled" });
    assert.equal(scale.spec?.replicas, 1);
    assert.equal(scale.status?.selector, "app=scaled");
    await apps.patchNamespacedDeploymentScale(
      { namespace: "default", name: "scaled", body: { spec: { replicas: 3 } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await waitFor(async () => {
      const d = await apps.readNamespacedDeployment({ namespace: "default", name: "scaled" });
      return d.status?.readyReplicas === 3;
    }, "3 ready replicas");
    const pods = await core.listNamespacedPod({ namespace: "default", labelSelector: "app=scaled" });
    assert.equal(pods.items.length, 3);
    assert.ok(pods.items.every((p) => /^127\.1\.\d+\.\d+$/.test(p.status?.podIP ?? "")));
    const current = await apps.readNamespacedDeploymentScale({ namespace: "default", name: "scaled" });
    await apps.replaceNamespacedDeploymentScale({
      namespace: "default",
      name: "scaled",
      body: { ...current, spec: { replicas: 1 } },
    });
    await expectCode(
      apps.replaceNamespacedDeploymentScale({
        namespace: "default",
        name: "scaled",
        body: { ...current, spec: { replicas: 2 } },
      }),
      409,
    );
    await waitFor(
      async () =>
        (await core.listNamespacedPod({ namespace: "default", labelSelector: "app=scaled" })).items.length ===
        1,
      "scale down",
    );
  });

  it("a watch resumes from its last resourceVersion after the connection drops, missing nothing", async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const list = await core.listNamespacedConfigMap({ namespace: "default" });
    let rv = list.metadata!.resourceVersion!;
    const names: string[] = [];
    const watch = new Watch(kc);
    let done: Promise<unknown> = Promise.resolve();
    const open = async () => {
      let finish!: (e: unknown) => void;
      done = new Promise((r) => (finish = r));
      await watch.watch(
        "/api/v1/namespaces/default/configmaps",
        { resourceVersion: rv },
        (type, obj: V1ConfigMap) => {
          rv = obj.metadata!.resourceVersion!;
          if (type === "ADDED") names.push(obj.metadata!.name!);
        },
        (err) => finish(err ?? "closed"),
      );
    };
    await open();
    await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "r1" } } });
    await waitFor(() => names.includes("r1"), "r1");
    await waitFor(() => cluster.faults.openWatches() > 0, "watch registered");
    assert.ok(cluster.faults.dropWatches({ abrupt: true }) >= 1);
    await done;
    // changes while no watch is open
    await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "r2" } } });
    await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "r3" } } });
    await open();
    await waitFor(() => names.includes("r3"), "r3 after resume");
    assert.deepEqual(names, ["r1", "r2", "r3"]);
    cluster.faults.dropWatches();
    await done;
  });

  it("an informer survives a cleanly dropped watch and a 410 Gone (relist)", async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const informer = makeInformer(kc, "/api/v1/namespaces/default/secrets", () =>
      core.listNamespacedSecret({ namespace: "default" }),
    );
    const added: string[] = [];
    informer.on("add", (o) => added.push(o.metadata!.name!));
    await informer.start();
    try {
      await core.createNamespacedSecret({ namespace: "default", body: { metadata: { name: "s1" } } });
      await waitFor(() => added.includes("s1"), "s1");
      cluster.faults.dropWatches();
      await core.createNamespacedSecret({ namespace: "default", body: { metadata: { name: "s2" } } });
      await waitFor(() => added.includes("s2"), "s2 after a dropped watch");
      // compact history and drop: the resumed watch gets 410 and the informer relists
      cluster.store.objects.compact();
      await waitFor(() => cluster.faults.openWatches() > 0, "watch reopened");
      cluster.faults.dropWatches();
      await core.createNamespacedSecret({ namespace: "default", body: { metadata: { name: "s3" } } });
      cluster.store.objects.compact();
      await waitFor(() => informer.list().some((s) => s.metadata?.name === "s3"), "s3 after relist");
      assert.deepEqual(
        informer
          .list()
          .map((s) => s.metadata!.name)
          .sort(),
        ["s1", "s2", "s3"],
      );
    } finally {
      await informer.stop();
    }
  });

  it("a watch from a compacted resourceVersion gets an ERROR event with 410 Gone", async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "old" } } });
    cluster.store.objects.compact();
    const events: Array<{ type: string; code?: number }> = [];
    await new Promise<void>((resolve) => {
      void new Watch(kc).watch(
        "/api/v1/namespaces/default/configmaps",
        { resourceVersion: "1" },
        (type, obj: { code?: number }) => events.push({ type, code: obj.code }),
        () => resolve(),
      );
    });
    assert.deepEqual(events, [{ type: "ERROR", code: 410 }]);
  });

  it("two clients contend for a Lease: one holds and renews it, the other takes over only after expiry", async () => {
    const a = client().makeApiClient(CoordinationV1Api);
    const b = client().makeApiClient(CoordinationV1Api);
    const ns = "default";
    const name = "wva-leader";
    const duration = 1;
    async function tryAcquire(api: CoordinationV1Api, id: string): Promise<boolean> {
      const now = new Date();
      let lease: V1Lease;
      try {
        lease = await api.readNamespacedLease({ namespace: ns, name });
      } catch (err) {
        if (!(err instanceof ApiException && err.code === 404)) throw err;
        try {
          await api.createNamespacedLease({
            namespace: ns,
            body: {
              metadata: { name },
              spec: {
                holderIdentity: id,
                leaseDurationSeconds: duration,
                acquireTime: now,
                renewTime: now,
                leaseTransitions: 0,
              },
            },
          });
          return true;
        } catch (e) {
          if (e instanceof ApiException && e.code === 409) return false;
          throw e;
        }
      }
      const spec = lease.spec!;
      const expired =
        !spec.renewTime ||
        new Date(spec.renewTime).getTime() + (spec.leaseDurationSeconds ?? 0) * 1000 < now.getTime();
      if (spec.holderIdentity !== id && !expired) return false;
      const transitions = (spec.leaseTransitions ?? 0) + (spec.holderIdentity === id ? 0 : 1);
      try {
        await api.replaceNamespacedLease({
          namespace: ns,
          name,
          body: {
            ...lease,
            spec: { ...spec, holderIdentity: id, renewTime: now, leaseTransitions: transitions },
          },
        });
        return true;
      } catch (e) {
        if (e instanceof ApiException && e.code === 409) return false;
        throw e;
      }
    }
    const [ra, rb] = await Promise.all([tryAcquire(a, "a"), tryAcquire(b, "b")]);
    assert.equal(Number(ra) + Number(rb), 1, "exactly one client acquires the lease");
    const [holder, other] = ra ? [a, b] : [b, a];
    const [holderId, otherId] = ra ? ["a", "b"] : ["b", "a"];
    const first = await holder.readNamespacedLease({ namespace: ns, name });
    assert.equal(first.spec?.holderIdentity, holderId);
    assert.equal(await tryAcquire(other, otherId), false, "the other cannot take a fresh lease");
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(await tryAcquire(holder, holderId), true, "the holder renews");
    const renewed = await holder.readNamespacedLease({ namespace: ns, name });
    assert.notEqual(renewed.metadata?.resourceVersion, first.metadata?.resourceVersion);
    assert.equal(await tryAcquire(other, otherId), false);
    // the holder stops renewing; after the lease duration the other takes over
    await waitFor(() => tryAcquire(other, otherId), "take-over after expiry", 10_000);
    const taken = await other.readNamespacedLease({ namespace: ns, name });
    assert.equal(taken.spec?.holderIdentity, otherId);
    assert.equal(taken.spec?.leaseTransitions, 1);
  });

  it("TokenReview and SubjectAccessReview answer from the identity table", async () => {
    const res = await fetch(`${cluster.url}/apis/authentication.k8s.io/v1/tokenreviews`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token: cluster.token },
      }),
    });
    const review = (await res.json()) as { status: { authenticated: boolean; user: { username: string } } };
    assert.equal(review.status.authenticated, true);
    assert.equal(review.status.user.username, "admin");
    const bad = await fetch(`${cluster.url}/apis/authentication.k8s.io/v1/tokenreviews`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ spec: { token: "nope" } }),
    });
    assert.equal(((await bad.json()) as { status: { authenticated: boolean } }).status.authenticated, false);
    cluster.authz.setTable({
      identities: [{ token: "t-reader", username: "reader", groups: ["viewers"] }],
      rules: [{ subjects: ["group:viewers"], verbs: ["get", "list"], apiGroups: [""], resources: ["pods"] }],
    });
    const sar = async (verb: string) => {
      const r = await fetch(`${cluster.url}/apis/authorization.k8s.io/v1/subjectaccessreviews`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          spec: {
            user: "reader",
            groups: ["viewers"],
            resourceAttributes: { verb, resource: "pods", namespace: "default" },
          },
        }),
      });
      return ((await r.json()) as { status: { allowed: boolean } }).status.allowed;
    };
    assert.equal(await sar("list"), true);
    assert.equal(await sar("delete"), false);
  });
});
