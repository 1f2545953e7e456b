import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { tmpdir } from "node:os";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { requireKubectl } from "../support/tools.js";

const wva = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", "src/cli/wva.ts", ...args], { encoding: "utf8" });

describe("wva cluster up", () => {
  for (const [args, field] of [
    [["--gpu-nodes", "2xH100"], /--gpu-nodes: "2xH100" must look like COUNTxACCELERATOR:GPUS/],
    [["--gpu-nodes", "2xH100:8,zz"], /--gpu-nodes: "zz" must look like/],
    [["--gpu-nodes", "0xH100:8"], /--gpu-nodes: node count in "0xH100:8" must be between 1 and 1000/],
    [["--port", "70000"], /--port: "70000" must be an integer between 0 and 65535/],
    [["--pod-startup-delay", "soon"], /--pod-startup-delay:/],
  ] as Array<[string[], RegExp]>) {
    it(`rejects ${args.join(" ")} with exit 2 and one line naming the field`, () => {
      const r = wva("cluster", "up", "--kubeconfig", join(tmpdir(), "never-written"), ...args);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trimEnd().split("\n").length, 1);
      assert.match(r.stderr, field);
    });
  }

  it("requires --kubeconfig", () => {
    const r = wva("cluster", "up");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--kubeconfig: is required/);
  });

  it("serves until SIGTERM, writes a kubeconfig kubectl can use, and shuts down cleanly", async (t) => {
    const kubectl = requireKubectl(t);
    if (!kubectl) return;
    const dir = mkdtempSync(join(tmpdir(), "wva-cluster-cli-"));
    const kubeconfig = join(dir, "kubeconfig");
    const p = spawn(process.execPath, [
      "--import",
      "tsx",
      "src/cli/wva.ts",
      "cluster",
      "up",
      "--kubeconfig",
      kubeconfig,
      "--gpu-nodes",
      "1xH100:8,2xA100:4",
    ]);
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => p.on("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000;
      while (!out.includes("kubeconfig:") && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      assert.match(out, /an emulator, not a real cluster/);
      const cfg = parse(readFileSync(kubeconfig, "utf8")) as {
        clusters: Array<{ cluster: { server: string } }>;
      };
      assert.match(cfg.clusters[0].cluster.server, /^http:\/\/127\.0\.0\.1:\d+$/);
      const nodes = await new Promise<string>((resolve, reject) => {
        const k = spawn(kubectl!, [
          "--kubeconfig",
          kubeconfig,
          "--cache-dir",
          join(dir, "cache"),
          "get",
          "nodes",
          "-L",
          "nvidia.com/gpu.product",
          "--no-headers",
        ]);
        let s = "";
        k.stdout.on("data", (d: Buffer) => (s += d.toString()));
        k.on("close", (code) => (code === 0 ? resolve(s) : reject(new Error(`kubectl exit ${code}`))));
      });
      const lines = nodes.trim().split("\n");
      assert.equal(lines.length, 3);
      assert.equal(lines.filter((l) => l.includes("NVIDIA-A100-SXM4-80GB")).length, 2);
      assert.equal(lines.filter((l) => l.includes("NVIDIA-H100-80GB-HBM3")).length, 1);
      p.kill("SIGTERM");
      assert.equal(await exited, 0);
      assert.match(out, /SIGTERM: shutting down/);
    } finally {
      if (p.exitCode === null) p.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("exits 1 with one line when the port is already in use", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    try {
      const port = (busy.address() as AddressInfo).port;
      const dir = mkdtempSync(join(tmpdir(), "wva-cluster-busy-"));
      const r = spawnSync(
        process.execPath,
        [
          "--import",
          "tsx",
          "src/cli/wva.ts",
          "cluster",
          "up",
          "--kubeconfig",
          join(dir, "kc"),
          "--port",
          String(port),
        ],
        { encoding: "utf8", timeout: 30_000 },
      );
      rmSync(dir, { recursive: true, force: true });
      assert.equal(r.status, 1, `exit ${r.status} ${r.signal ?? ""}: ${r.stderr}`);
      assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      busy.close();
    }
  });

  it("--external-metrics-from: the HPA recipe follows wva_desired_replicas and kubectl get --raw sees it", async (t) => {
    const kubectl = requireKubectl(t);
    if (!kubectl) return;
    let desired = 3;
    const metrics = createHttpServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end(
        "# TYPE wva_desired_replicas gauge\n" +
          `wva_desired_replicas{variant_name="llama-8b-h100",namespace="llm-inference",accelerator_type="H100"} ${desired}\n`,
      );
    });
    await new Promise<void>((r) => metrics.listen(0, "127.0.0.1", r));
    const metricsUrl = `http://127.0.0.1:${(metrics.address() as AddressInfo).port}/metrics`;
    const dir = mkdtempSync(join(tmpdir(), "wva-cluster-hpa-"));
    const kubeconfig = join(dir, "kubeconfig");
    const p = spawn(process.execPath, [
      "--import",
      "tsx",
      "src/cli/wva.ts",
      "cluster",
      "up",
      "--kubeconfig",
      kubeconfig,
      "--pod-startup-delay",
      "0s",
      "--hpa-sync-period",
      "500ms",
      "--external-metrics-from",
      metricsUrl,
    ]);
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    // asynchronous: the metrics endpoint the cluster reads is served by this process
    const k = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const c = spawn(kubectl!, ["--kubeconfig", kubeconfig, "--cache-dir", join(dir, "cache"), ...args]);
        let stdout = "";
        let stderr = "";
        c.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        c.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        c.on("close", (status) => resolve({ status, stdout, stderr }));
      });
    try {
      const deadline = Date.now() + 30_000;
      while (!out.includes("kubeconfig:") && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      assert.match(out, new RegExp(`external metrics: ${metricsUrl}`));
      writeFileSync(
        join(dir, "target.yaml"),
        `apiVersion: v1
kind: Namespace
metadata: {name: llm-inference}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: llama-8b-h100-decode, namespace: llm-inference}
spec:
  replicas: 1
  selector: {matchLabels: {app: llama}}
  template:
    metadata: {labels: {app: llama}}
    spec:
      containers: [{name: vllm, image: vllm, resources: {limits: {nvidia.com/gpu: "1"}}}]
`,
      );
      const applied = await k(
        "apply",
        "-f",
        join(dir, "target.yaml"),
        "-f",
        "config/samples/hpa-integration.yaml",
      );
      assert.equal(applied.status, 0, applied.stderr);
      const raw = await k(
        "get",
        "--raw",
        "/apis/external.metrics.k8s.io/v1beta1/namespaces/llm-inference/wva_desired_replicas?labelSelector=variant_name%3Dllama-8b-h100%2Cexported_namespace%3Dllm-inference",
      );
      assert.equal(raw.status, 0, raw.stderr);
      const list = JSON.parse(raw.stdout) as {
        kind: string;
        items: Array<{ metricName: string; value: string }>;
      };
      assert.equal(list.kind, "ExternalMetricValueList");
      assert.deepEqual(
        list.items.map((i) => [i.metricName, i.value]),
        [["wva_desired_replicas", "3"]],
      );
      const replicas = async () =>
        (
          await k(
            "get",
            "deploy",
            "llama-8b-h100-decode",
            "-n",
            "llm-inference",
            "-o",
            "jsonpath={.spec.replicas}",
          )
        ).stdout;
      const until = async (want: string) => {
        const end = Date.now() + 20_000;
        while ((await replicas()) !== want && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
        assert.equal(await replicas(), want);
      };
      await until("3");
      desired = 2;
      await until("2");
      const hpa = await k("get", "hpa", "-n", "llm-inference", "--no-headers");
      assert.match(
        hpa.stdout,
        /llama-8b-h100-hpa\s+Deployment\/llama-8b-h100-decode\s+\d+m?\/1 \(avg\)\s+1\s+10\s/,
      );
    } finally {
      p.kill("SIGTERM");
      metrics.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
