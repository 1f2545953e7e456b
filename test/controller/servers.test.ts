import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { describe, it } from "node:test";
import { startMetricsServer } from "../../src/controller/servers.js";
import { createServingCertificate } from "../../src/util/certificates.js";
import { waitFor } from "../support/controller.js";

async function pair(cn: string): Promise<{ cert: string; key: string }> {
  const p = createServingCertificate({ commonName: cn });
  return { cert: p.certPem, key: p.keyPem };
}

function peer(url: string, alpn: string[]): Promise<{ cn: string; alpn: string | false }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      { host: u.hostname, port: Number(u.port), rejectUnauthorized: false, ALPNProtocols: alpn },
      () => {
        const cert = s.getPeerX509Certificate() as X509Certificate;
        resolve({ cn: /CN=([^\n,]+)/.exec(cert.subject)?.[1] ?? "", alpn: s.alpnProtocol ?? false });
        s.end();
      },
    );
    s.on("error", reject);
  });
}

describe("metrics server TLS", () => {
  it("serves the certificate of --metrics-cert-path and reloads it when the files change", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wva-cert-"));
    try {
      const a = await pair("first");
      writeFileSync(join(dir, "tls.crt"), a.cert);
      writeFileSync(join(dir, "tls.key"), a.key);
      const srv = (await startMetricsServer({
        bindAddress: "127.0.0.1:0",
        secure: true,
        certPath: dir,
        authorizer: { check: async () => ({ status: 200, message: "ok" }) },
        render: async () => ({ contentType: "text/plain", body: "" }),
      }))!;
      try {
        assert.equal((await peer(srv.url, ["http/1.1"])).cn, "first");
        const b = await pair("second");
        writeFileSync(join(dir, "tls.crt"), b.cert);
        writeFileSync(join(dir, "tls.key"), b.key);
        await waitFor(
          async () => (await peer(srv.url, ["http/1.1"])).cn === "second",
          "reloaded certificate",
          15_000,
        );
      } finally {
        await srv.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("negotiates HTTP/1.1 only unless --enable-http2", async () => {
    const opts = {
      bindAddress: "127.0.0.1:0",
      secure: true,
      render: async () => ({ contentType: "text/plain", body: "" }),
    };
    const h1 = (await startMetricsServer({ ...opts, enableHttp2: false }))!;
    const h2 = (await startMetricsServer({ ...opts, enableHttp2: true }))!;
    try {
      assert.equal((await peer(h1.url, ["h2", "http/1.1"])).alpn, "http/1.1");
      assert.equal((await peer(h2.url, ["h2", "http/1.1"])).alpn, "h2");
    } finally {
      await h1.close();
      await h2.close();
    }
  });

  it("a missing certificate file fails start-up with the path in the error", async () => {
    await assert.rejects(
      startMetricsServer({
        bindAddress: "127.0.0.1:0",
        secure: true,
        certPath: "/nonexistent/certs",
        render: async () => ({ contentType: "text/plain", body: "" }),
      }),
      /\/nonexistent\/certs\/tls.crt/,
    );
  });
});
