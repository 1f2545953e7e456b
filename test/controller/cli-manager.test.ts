import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { SYSTEM_NS, useTestEnv, waitFor } from "../support/controller.js";

interface Lease {
  spec?: { holderIdentity?: string };
}

describe("manager process", () => {
  const env = useTestEnv({}, { stopAfterEach: false });

  it("runs against a kubeconfig, leads, and on SIGTERM stops gracefully (exit 0, lease released)", async () => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli/manager.ts",
        "--leader-elect",
        "--metrics-bind-address=127.0.0.1:0",
        "--health-probe-bind-address=127.0.0.1:0",
        "--metrics-secure=false",
      ],
      {
        env: {
          ...process.env,
          KUBECONFIG: env.cluster.kubeconfigPath,
          POD_NAMESPACE: SYSTEM_NS,
          WVA_METRICS_SOURCE: "pods",
          GLOBAL_OPT_INTERVAL: "300ms",
          WVA_LOG_LEVEL: "info",
        },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${SYSTEM_NS}/leases/72dd1cf1.llm-d.ai`;
    await waitFor(() => /"msg":"started leading"/.test(stderr), "the manager leads", 60_000);
    const held = await env.client.get<Lease>(leasePath);
    assert.match(held.spec?.holderIdentity ?? "", /_[0-9a-f]{8}$/);
    child.kill("SIGTERM");
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /"msg":"shutting down"/);
    assert.match(stderr, /"msg":"manager stopped"/);
    assert.equal((await env.client.get<Lease>(leasePath)).spec?.holderIdentity, "", "lease released");
  });
});
