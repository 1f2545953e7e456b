import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
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

/** Runs the real kubectl asynchronously (the emulator runs in this process). */
function kubectl(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      kubectlPath!,
      ["--kubeconfig", cluster.kubeconfigPath, "--cache-dir", join(dir, "cache"), ...args],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("error", reject);
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  assert.equal(r.code, 0, `kubectl ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const deploymentYaml = (name: string, replicas: number, gpus: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: llm-inference
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      nodeSelector: {nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3}
      containers:
        - name: vllm
          image: vllm/vllm-openai:latest
          ports: [{containerPort: 8000}]
          resources:
            limits: {nvidia.com/gpu: "${gpus}"}
`;

async function podNames(selector: string): Promise<string[]> {
  const out = JSON.parse(await ok("get", "pods", "-n", "llm-inference", "-l", selector, "-o", "json")) as {
    items: Array<{ metadata: { name: string } }>;
  };
  return out.items.map((p) => p.metadata.name).sort();
}

function skipWithoutKubectl(t: TestContext): boolean {
  kubectlPath = requireKubectl(t);
  return kubectlPath === undefined;
}

describe("playground cluster with the real kubectl", () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "wva-kubectl-"));
    cluster = await startCluster({ nodes: "2xH100:8,1xA100:4", podStartupDelayMs: 100 });
  });
  after(async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("kubectl apply -f installs the generated CRD and every sample; a second apply reports unchanged", async (t) => {
    if (skipWithoutKubectl(t)) return;
    const namespaces = file(
      "ns.yaml",
      ["llm-inference", "tenant-gold", "tenant-silver"]
        .map((n) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${n}}\n`)
        .join("---\n"),
    );
    const crd = await ok(
      "apply",
      "-f",
      "config/crd/bases/llmd.ai_variantautoscalings.yaml",
      "-f",
      namespaces,
    );
    assert.match(crd, /customresourcedefinition.apiextensions.k8s.io\/variantautoscalings.llmd.ai created/);
    const samples = readdirSync("config/samples")
      .filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml")
      .flatMap((f) => ["-f", join("config/samples", f)]);
    const out = await ok("apply", ...samples);
    assert.match(out, /variantautoscaling.llmd.ai\/llama-8b-h100 created/);
    assert.match(out, /horizontalpodautoscaler.autoscaling\/llama-8b-h100-hpa created/);
    const again = await ok("apply", ...samples);
    assert.doesNotMatch(again, /created|configured/);
    assert.match(again, /variantautoscaling.llmd.ai\/llama-8b-h100 unchanged/);
    // kustomize rendering of the same directory applies cleanly too
    assert.match(await ok("apply", "-k", "config/samples"), /unchanged/);
  });

  it("kubectl get va prints the CRD's printer columns and the schema default", async (t) => {
    if (skipWithoutKubectl(t)) return;
    const out = await ok("get", "va", "-n", "llm-inference", "-l", "tier=premium");
    const [header, row] = out.trimEnd().split("\n");
    assert.deepEqual(header.split(/\s{2,}/), [
      "NAME",
      "TARGET",
      "MODEL",
      "OPTIMIZED",
      "METRICSREADY",
      "REASON",
      "AGE",
    ]);
    assert.match(row, /^llama-70b-premium-h100\s+llama-70b-premium-h100\s+meta\/llama-3\.1-70b\s+\d+s$/);
    assert.equal(
      await ok(
        "get",
        "va",
        "llama-8b-default-cost",
        "-n",
        "llm-inference",
        "-o",
        "jsonpath={.spec.variantCost}",
      ),
      "10.0",
    );
  });

  it("an invalid VariantAutoscaling is rejected with the schema errors", async (t) => {
    if (skipWithoutKubectl(t)) return;
    const bad = file(
      "bad-va.yaml",
      `apiVersion: llmd.ai/v1alpha1
kind: VariantAutoscaling
metadata: {name: broken, namespace: llm-inference}
spec:
  scaleTargetRef: {kind: Deployment, name: x}
  variantCost: "cheap"
`,
    );
    const r = await kubectl("apply", "-f", bad);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /The VariantAutoscaling "broken" is invalid/);
    assert.match(r.stderr, /spec\.modelID: Required value/);
    assert.match(
      r.stderr,
      /spec\.variantCost: Invalid value: "cheap": spec\.variantCost in body should match/,
    );
    const unknown = file(
      "unknown-field.yaml",
      `apiVersion: llmd.ai/v1alpha1
kind: VariantAutoscaling
metadata: {name: typo, namespace: llm-inference}
spec:
  scaleTargetRef: {kind: Deployment, name: x}
  modelID: m
  modelId: typo
`,
    );
    const u = await kubectl("apply", "-f", unknown);
    assert.equal(u.code, 1);
    assert.match(u.stderr, /unknown field "spec.modelId"/);
    assert.equal((await kubectl("get", "va", "broken", "-n", "llm-inference")).code, 1);
  });

  it("kubectl scale deployment changes the pods; pods beyond free GPUs stay Pending", async (t) => {
    if (skipWithoutKubectl(t)) return;
    await ok("apply", "-f", file("dep.yaml", deploymentYaml("llama", 1, 4)));
    await waitFor(async () => (await podNames("app=llama")).length === 1, "1 pod");
    assert.match(
      await ok("scale", "deployment", "llama", "-n", "llm-inference", "--replicas=5"),
      /deployment.apps\/llama scaled/,
    );
    await waitFor(async () => (await podNames("app=llama")).length === 5, "5 pods");
    // two H100 nodes with 8 GPUs each hold four 4-GPU pods
    const pending = await waitFor(async () => {
      const out = await ok(
        "get",
        "pods",
        "-n",
        "llm-inference",
        "-l",
        "app=llama",
        "--field-selector",
        "status.phase=Pending",
        "-o",
        "name",
      );
      return out.trim().split("\n").filter(Boolean).length === 1 ? out : undefined;
    }, "one pending pod");
    const name = pending.trim().replace("pod/", "");
    const reason = await ok(
      "get",
      "pod",
      name,
      "-n",
      "llm-inference",
      "-o",
      'jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}',
    );
    assert.match(reason, /Insufficient nvidia.com\/gpu/);
    const events = await ok(
      "get",
      "events",
      "-n",
      "llm-inference",
      "--field-selector",
      "reason=FailedScheduling",
      "-o",
      "jsonpath={.items[*].involvedObject.name}",
    );
    assert.match(events, new RegExp(name));
    const describe = await ok("describe", "deployment", "llama", "-n", "llm-inference");
    assert.match(describe, /ScalingReplicaSet\s+.*Scaled up replica set llama-\w+ from 1 to 5/);
    await waitFor(
      async () =>
        (await ok(
          "get",
          "deploy",
          "llama",
          "-n",
          "llm-inference",
          "-o",
          "jsonpath={.status.readyReplicas}",
        )) === "4",
      "4 ready",
    );
    const table = await ok("get", "deploy", "llama", "-n", "llm-inference");
    assert.match(table, /llama\s+4\/5\s+5\s+4\s+/);
    await ok("scale", "deployment", "llama", "-n", "llm-inference", "--replicas=2");
    await waitFor(async () => (await podNames("app=llama")).length === 2, "2 pods");
  });

  it("kubectl get pods -w streams changes as they happen", async (t) => {
    if (skipWithoutKubectl(t)) return;
    const w = spawn(kubectlPath!, [
      "--kubeconfig",
      cluster.kubeconfigPath,
      "get",
      "pods",
      "-n",
      "llm-inference",
      "-l",
      "app=llama",
      "-w",
    ]);
    let out = "";
    w.stdout.on("data", (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(() => out.includes("Running"), "initial rows");
      const before = await podNames("app=llama");
      await ok("scale", "deployment", "llama", "-n", "llm-inference", "--replicas=3");
      const added = await waitFor(
        async () => (await podNames("app=llama")).find((n) => !before.includes(n)),
        "new pod",
      );
      await waitFor(
        () => new RegExp(`${added}\\s+1/1\\s+Running`).test(out),
        "the new pod streamed as Running",
      );
      assert.match(
        out,
        new RegExp(`${added}\\s+0/1\\s+(Pending|Running)`),
        "the new pod streamed before it was ready",
      );
      assert.equal(out.split("\n").filter((l) => l.startsWith("NAME")).length, 1, "one header");
    } finally {
      w.kill("SIGTERM");
    }
  });

  it("kubectl patch (merge, json, strategic) and label selectors work on built-in kinds", async (t) => {
    if (skipWithoutKubectl(t)) return;
    await ok(
      "patch",
      "deployment",
      "llama",
      "-n",
      "llm-inference",
      "--type=merge",
      "-p",
      '{"metadata":{"labels":{"tier":"gold"}}}',
    );
    await ok(
      "patch",
      "deployment",
      "llama",
      "-n",
      "llm-inference",
      "--type=json",
      "-p",
      '[{"op":"add","path":"/metadata/labels/extra","value":"x"}]',
    );
    await ok(
      "patch",
      "deployment",
      "llama",
      "-n",
      "llm-inference",
      "-p",
      '{"spec":{"template":{"spec":{"containers":[{"name":"vllm","env":[{"name":"A","value":"1"}]}]}}}}',
    );
    const d = JSON.parse(
      await ok("get", "deploy", "-n", "llm-inference", "-l", "tier=gold,extra in (x)", "-o", "json"),
    ) as {
      items: Array<{
        spec: { template: { spec: { containers: Array<{ image: string; env: unknown[] }> } } };
      }>;
    };
    assert.equal(d.items.length, 1);
    const c = d.items[0].spec.template.spec.containers[0];
    assert.equal(c.image, "vllm/vllm-openai:latest", "strategic merge kept the container's other fields");
    assert.deepEqual(c.env, [{ name: "A", value: "1" }]);
  });

  it("kubectl delete deployment cascades to its ReplicaSets and Pods", async (t) => {
    if (skipWithoutKubectl(t)) return;
    await waitFor(async () => (await podNames("app=llama")).length === 3, "3 pods");
    assert.match(
      await ok("delete", "deployment", "llama", "-n", "llm-inference"),
      /deployment.apps "llama" deleted/,
    );
    await waitFor(async () => (await podNames("app=llama")).length === 0, "pods gone");
    assert.equal((await ok("get", "rs", "-n", "llm-inference", "-o", "name")).trim(), "");
    const r = await kubectl("get", "deployment", "llama", "-n", "llm-inference");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /NotFound|not found/);
  });

  it("kubectl delete of a namespace removes its objects; kubectl delete crd removes its resources", async (t) => {
    if (skipWithoutKubectl(t)) return;
    await ok("delete", "namespace", "tenant-gold");
    assert.equal((await ok("get", "va", "-n", "tenant-gold", "-o", "name")).trim(), "");
    await ok("delete", "crd", "variantautoscalings.llmd.ai");
    const r = await kubectl("get", "va", "-A");
    assert.equal(r.code, 1);
    // kubectl's cached discovery still knows the type, so the list itself answers 404
    assert.match(
      r.stderr,
      /the server doesn't have a resource type "va"|could not find the requested resource/,
    );
  });
});
