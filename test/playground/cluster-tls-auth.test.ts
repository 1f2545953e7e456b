import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { startCluster } from "../../src/playground/cluster/index.js";

describe("playground cluster over HTTPS with authentication", () => {
  it("serves HTTPS with a generated CA that the kubeconfig trusts, and enforces the identity table", async () => {
    const cluster = await startCluster({
      https: true,
      requireAuth: true,
      token: "admin-token",
      identities: {
        identities: [
          { token: "admin-token", username: "admin", groups: ["system:masters"] },
          { token: "viewer-token", username: "viewer", groups: ["viewers"] },
        ],
        rules: [
          {
            subjects: ["group:system:masters"],
            verbs: ["*"],
            apiGroups: ["*"],
            resources: ["*"],
            nonResourceURLs: ["*"],
          },
          {
            subjects: ["group:viewers"],
            verbs: ["get", "list", "watch"],
            apiGroups: [""],
            resources: ["configmaps"],
          },
        ],
      },
    });
    try {
      assert.match(cluster.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.match(cluster.caPem ?? "", /BEGIN CERTIFICATE/);
      const kc = new KubeConfig();
      kc.loadFromFile(cluster.kubeconfigPath);
      const admin = kc.makeApiClient(CoreV1Api);
      await admin.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "c" } } });

      const viewerKc = new KubeConfig();
      viewerKc.loadFromOptions({
        clusters: [
          { name: "c", server: cluster.url, caData: Buffer.from(cluster.caPem!).toString("base64") },
        ],
        users: [{ name: "viewer", token: "viewer-token" }],
        contexts: [{ name: "c", cluster: "c", user: "viewer" }],
        currentContext: "c",
      });
      const viewer = viewerKc.makeApiClient(CoreV1Api);
      const list = await viewer.listNamespacedConfigMap({ namespace: "default" });
      assert.deepEqual(
        list.items.map((c) => c.metadata?.name),
        ["c"],
      );
      await assert.rejects(
        viewer.deleteNamespacedConfigMap({ namespace: "default", name: "c" }),
        (err: unknown) => {
          assert.ok(err instanceof ApiException);
          assert.equal(err.code, 403);
          assert.match(String(err.body), /User \\"viewer\\" cannot delete resource \\"configmaps\\"/);
          return true;
        },
      );

      // no token: 401; a client that does not trust the CA fails the TLS handshake
      const anonymous = await fetch(`${cluster.url}/api/v1/namespaces`).catch((e: unknown) => e);
      assert.ok(anonymous instanceof Error, "fetch without the CA cannot verify the certificate");
      const https = await import("node:https");
      const status = await new Promise<number>((resolve, reject) => {
        https
          .get(`${cluster.url}/api/v1/namespaces`, { ca: cluster.caPem }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on("error", reject);
      });
      assert.equal(status, 401);
    } finally {
      await cluster.stop();
    }
  });
});
