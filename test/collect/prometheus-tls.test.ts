import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createAgent } from "../../src/collect/prometheus/config.js";
import { PrometheusSource } from "../../src/collect/prometheus/source.js";
import { QueryName } from "../../src/collect/queries.js";
import { requireTool } from "../support/tools.js";

function findOpenssl(): string | undefined {
  try {
    return execFileSync("sh", ["-c", "command -v openssl"]).toString().trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Certificates made with the real openssl: a CA, a server cert for prometheus.test, a client cert. */
function makeCerts(openssl: string, dir: string): void {
  const run = (...args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: "pipe" });
  run(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=wva-test-ca",
  );
  for (const [name, cn, ext] of [
    ["server", "prometheus.test", "subjectAltName=DNS:prometheus.test\nextendedKeyUsage=serverAuth\n"],
    ["client", "wva-controller", "extendedKeyUsage=clientAuth\n"],
  ]) {
    writeFileSync(join(dir, `${name}.ext`), ext);
    run(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${cn}`,
    );
    run(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
    );
  }
}

describe("Prometheus source over TLS (mutual TLS, CA bundle, server name, bearer token)", () => {
  let dir = "";
  let server: https.Server | undefined;
  let url = "";
  let lastAuth: string | undefined;
  let lastClientCN: string | undefined;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "wva-tls-"));
  });
  after(async () => {
    if (server) await new Promise<void>((r) => server!.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function startServer(): Promise<void> {
    server = https.createServer(
      {
        key: readFileSync(join(dir, "server.key")),
        cert: readFileSync(join(dir, "server.pem")),
        ca: readFileSync(join(dir, "ca.pem")),
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: "TLSv1.2",
      },
      (req, res) => {
        lastAuth = req.headers.authorization;
        const sock = req.socket as import("node:tls").TLSSocket;
        lastClientCN = sock.getPeerCertificate().subject?.CN as string | undefined;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            status: "success",
            data: { resultType: "vector", result: [{ metric: { pod: "p" }, value: [1, "0.5"] }] },
          }),
        );
      },
    );
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    url = `https://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  }

  const query = async (cfg: Partial<import("../../src/collect/prometheus/config.js").PrometheusConfig>) => {
    const src = new PrometheusSource({ config: { baseURL: url, ...cfg }, sleep: async () => undefined });
    try {
      const r = await src.refresh([QueryName.kvCacheUsage], { namespace: "ns", modelID: "m" });
      return r.get(QueryName.kvCacheUsage);
    } finally {
      src.close();
    }
  };

  it("connects with CA bundle, client certificate, server name and token; fails without each", async (t) => {
    const openssl = requireTool(t, "openssl", findOpenssl(), "apt-get install -y openssl");
    if (!openssl) return;
    makeCerts(openssl, dir);
    await startServer();
    const full = {
      caCertPath: join(dir, "ca.pem"),
      clientCertPath: join(dir, "client.pem"),
      clientKeyPath: join(dir, "client.key"),
      serverName: "prometheus.test",
      bearerToken: "tok",
    };
    const ok = await query(full);
    assert.equal(ok?.error, undefined);
    assert.equal(ok?.values[0].value, 0.5);
    assert.equal(lastAuth, "Bearer tok");
    assert.equal(lastClientCN, "wva-controller");

    const noClientCert = await query({ ...full, clientCertPath: undefined, clientKeyPath: undefined });
    assert.ok(noClientCert?.error, "the server requires a client certificate");

    const noServerName = await query({ ...full, serverName: undefined });
    assert.match(
      noServerName?.error ?? "",
      /altnames|hostname|IP/i,
      "certificate is for prometheus.test, not 127.0.0.1",
    );

    const noCA = await query({ ...full, caCertPath: undefined });
    assert.match(noCA?.error ?? "", /certificate/i, "an unknown CA is rejected");

    const insecure = await query({
      ...full,
      caCertPath: undefined,
      serverName: undefined,
      insecureSkipVerify: true,
    });
    assert.equal(insecure?.error, undefined, "insecure skip verify accepts the unknown CA");
  });

  it("the agent refuses TLS below 1.2", () => {
    const agent = createAgent({ baseURL: "https://prometheus.test" }) as https.Agent;
    assert.equal(agent.options.minVersion, "TLSv1.2");
    agent.destroy();
  });
});
