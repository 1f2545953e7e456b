import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { startCluster, type RunningCluster } from "../../src/playground/cluster/index.js";
import { requireKubectl } from "../support/tools.js";
import { waitFor } from "./cluster-fixtures.js";

let cluster: RunningCluster;
let kubectlPath: string | undefined;
let dir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("error", reject);
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const kubectlArgs = () => ["--kubeconfig", cluster.kubeconfigPath, "--cache-dir", join(dir, "cache")];

async function ok(...args: string[]): Promise<string> {
  const r = await run(kubectlPath!, [...kubectlArgs(), ...args]);
  assert.equal(r.code, 0, `kubectl ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

function skipWithoutKubectl(t: TestContext): boolean {
  kubectlPath = requireKubectl(t);
  return kubectlPath === undefined;
}

describe("playground cluster: everyday kubectl operations", () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "wva-kubectl-ops-"));
    cluster = await startCluster({
      nodes: "1xH100:8",
      podStartupDelayMs: 50,
      namespaceTerminationDelayMs: 300,
      onPodStarted: async (pod, log) =>
        log(`INFO serving ${pod.metadata?.name} on ${pod.status?.podIP}:8000`),
    });
  });
  after(async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("make deploy then make undeploy (without ignore-not-found) succeed; the namespace terminates", async (t) => {
    if (skipWithoutKubectl(t)) return;
    const env = { KUBECONFIG: cluster.kubeconfigPath, KUBECACHEDIR: join(dir, "cache") };
    const kubectl = `KUBECTL=${kubectlPath!}`;
    const deploy = await run("make", ["-s", "deploy", kubectl], env);
    assert.equal(deploy.code, 0, deploy.stderr);
    assert.match(deploy.stdout, /namespace\/workload-variant-autoscaler-system created/);
    const undeploy = await run("make", ["-s", "undeploy", "ignore-not-found=false", kubectl], env);
    assert.equal(undeploy.code, 0, undeploy.stderr);
    assert.doesNotMatch(undeploy.stderr, /NotFound|not found/);
    assert.match(undeploy.stdout, /namespace "workload-variant-autoscaler-system" deleted/);
    const r = await run(kubectlPath!, [
      ...kubectlArgs(),
      "get",
      "namespace",
      "workload-variant-autoscaler-system",
    ]);
    assert.equal(r.code, 1, "kubectl delete waits until the namespace is gone");
  });

  it("a deleted namespace is Terminating, refuses creates, then disappears with its objects", async () => {
    const api = cluster.store;
    const nsType = api.typeFor("v1", "Namespace");
    const cm = api.typeFor("v1", "ConfigMap");
    api.create(nsType, { metadata: { name: "doomed" } });
    api.create(cm, { metadata: { name: "a", namespace: "doomed" } });
    api.create(cm, { metadata: { name: "held", namespace: "doomed", finalizers: ["example.com/hold"] } });
    api.delete(nsType, undefined, "doomed");
    const ns = api.get(nsType, undefined, "doomed");
    assert.equal(ns.status?.phase, "Terminating");
    assert.ok(ns.metadata?.deletionTimestamp);
    assert.ok(api.peek(cm, "doomed", "a"), "objects stay during the termination delay");
    assert.throws(
      () => api.create(cm, { metadata: { name: "b", namespace: "doomed" } }),
      /configmaps "b" is forbidden: unable to create new content in namespace doomed because it is being terminated/,
    );
    await waitFor(() => api.peek(cm, "doomed", "a") === undefined, "objects deleted");
    assert.ok(api.peek(nsType, undefined, "doomed"), "a finalizer on an object keeps the namespace");
    const held = api.get(cm, "doomed", "held");
    api.update(cm, { ...held, metadata: { ...held.metadata, finalizers: [] } }, "doomed");
    await waitFor(() => api.peek(nsType, undefined, "doomed") === undefined, "namespace gone");
  });

  it("kubectl logs prints a pod's output and -f follows it until the pod is deleted", async (t) => {
    if (skipWithoutKubectl(t)) return;
    const api = cluster.store;
    const pt = api.typeFor("v1", "Pod");
    api.create(pt, {
      metadata: { name: "talker", namespace: "default" },
      spec: { containers: [{ name: "vllm", image: "vllm" }] },
    });
    await waitFor(() => api.peek(pt, "default", "talker")?.status?.phase === "Running", "pod running");
    await waitFor(() => cluster.appendPodLog("default", "talker", "INFO second line"), "log appended");
    const out = await ok("logs", "talker");
    assert.match(out, /^INFO serving talker on 127\.1\.\d+\.\d+:8000\nINFO second line\n$/);
    assert.equal(await ok("logs", "talker", "--tail", "1"), "INFO second line\n");
    assert.equal(await ok("logs", "talker", "--since", "1h", "--tail", "1"), "INFO second line\n");
    assert.match(await ok("logs", "talker", "--timestamps"), /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO serving/);
    const follow = spawn(kubectlPath!, [...kubectlArgs(), "logs", "-f", "--tail", "0", "talker"]);
    let followed = "";
    follow.stdout.on("data", (d: Buffer) => (followed += d.toString()));
    const exited = new Promise<number | null>((r) => follow.on("close", r));
    await new Promise((r) => setTimeout(r, 500));
    cluster.appendPodLog("default", "talker", "INFO third line");
    await waitFor(() => followed.includes("INFO third line"), "followed line");
    assert.doesNotMatch(followed, /second line/);
    api.delete(pt, "default", "talker");
    assert.equal(await exited, 0, "kubectl logs -f ends when the pod goes away");
    const none = await run(kubectlPath!, [...kubectlArgs(), "logs", "nobody"]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /pods "nobody" not found/);
  });

  it("kubectl get events -A and the built-in kinds show kubectl's usual columns", async (t) => {
    if (skipWithoutKubectl(t)) return;
    const api = cluster.store;
    api.create(api.typeFor("apps/v1", "Deployment"), {
      metadata: { name: "web", namespace: "default" },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "c", image: "nginx" }] },
        },
      },
    });
    api.create(api.typeFor("v1", "ConfigMap"), {
      metadata: { name: "cfg", namespace: "default" },
      data: { a: "1" },
    });
    const et = api.typeFor("v1", "Event");
    await waitFor(() => api.peekList(et, "default").some((e) => e.reason === "ScalingReplicaSet"), "event");
    const events = (await ok("get", "events", "-A")).trimEnd().split("\n");
    assert.deepEqual(events[0].split(/\s{2,}/), [
      "NAMESPACE",
      "LAST SEEN",
      "TYPE",
      "REASON",
      "OBJECT",
      "MESSAGE",
    ]);
    assert.ok(
      events.some((l) =>
        /^default\s+\d+s\s+Normal\s+ScalingReplicaSet\s+deployment\/web\s+Scaled up replica set web-\w+ from 0 to 1$/.test(
          l,
        ),
      ),
      events.join("\n"),
    );
    const header = async (...args: string[]) => (await ok("get", ...args)).split("\n")[0].split(/\s{2,}/);
    assert.deepEqual(await header("deployments", "-o", "wide"), [
      "NAME",
      "READY",
      "UP-TO-DATE",
      "AVAILABLE",
      "AGE",
      "CONTAINERS",
      "IMAGES",
      "SELECTOR",
    ]);
    assert.deepEqual(await header("rs"), ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]);
    assert.deepEqual(await header("nodes"), ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    assert.deepEqual(await header("configmaps", "-A"), ["NAMESPACE", "NAME", "DATA", "AGE"]);
  });

  it("kubectl top pods and nodes show the emulated pods' requests as usage", async (t) => {
    if (skipWithoutKubectl(t)) return;
    const api = cluster.store;
    const pt = api.typeFor("v1", "Pod");
    api.create(pt, {
      metadata: { name: "gpu-user", namespace: "default", labels: { app: "top" } },
      spec: {
        containers: [
          {
            name: "vllm",
            image: "vllm",
            resources: { requests: { cpu: "2", memory: "1Gi" }, limits: { "nvidia.com/gpu": "2" } },
          },
        ],
      },
    });
    await waitFor(() => api.peek(pt, "default", "gpu-user")?.status?.phase === "Running", "pod running");
    const pods = (await ok("top", "pods", "-l", "app=top")).trimEnd().split("\n");
    assert.deepEqual(pods[0].trim().split(/\s{2,}/), ["NAME", "CPU(cores)", "MEMORY(bytes)"]);
    assert.match(pods[1], /^gpu-user\s+2000m\s+1024Mi$/);
    const nodes = (await ok("top", "nodes")).trimEnd().split("\n");
    assert.match(nodes[0], /^NAME\s+CPU\(cores\)\s+CPU\(%\)\s+MEMORY\(bytes\)\s+MEMORY\(%\)/);
    assert.match(nodes[1], /^gpu-h100-0\s+2000m\s+3%\s+1024Mi\s+0%$/);
    const raw = JSON.parse(
      await ok("get", "--raw", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/gpu-user"),
    ) as { containers: Array<{ usage: Record<string, string> }> };
    assert.equal(raw.containers[0].usage["nvidia.com/gpu"], "2");
  });
});
