import assert from "node:assert/strict";
import https from "node:https";
import { before, describe, it } from "node:test";
import {
  ScriptedCollector,
  createDeployment,
  createVA,
  acceleratorLabel,
  useTestEnv,
  withIdentities,
  waitFor,
} from "../support/controller.js";

function get(
  url: string,
  opts: { token?: string; ca?: string } = {},
): Promise<{ status: number; body: string; alpn?: string }> {
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions & { ALPNProtocols?: string[] } = {
      ca: opts.ca,
      ALPNProtocols: ["h2", "http/1.1"],
      headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {},
      servername: "localhost",
    };
    const req = https.get(url, options, (res) => {
      let body = "";
      const alpn = (res.socket as { alpnProtocol?: string } | null)?.alpnProtocol;
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, alpn }));
    });
    req.on("error", reject);
  });
}

describe("metrics and probe endpoints", () => {
  const env = useTestEnv();
  before(async () => {
    env.cluster.authz.setTable(
      withIdentities(env.cluster.token, {
        identities: [
          {
            token: "scraper-token",
            username: "system:serviceaccount:monitoring:prometheus",
            groups: ["system:serviceaccounts"],
          },
          { token: "nobody-token", username: "nobody", groups: ["system:authenticated"] },
        ],
        rules: [
          {
            subjects: ["system:serviceaccount:monitoring:prometheus"],
            verbs: ["get"],
            nonResourceURLs: ["/metrics"],
          },
        ],
      }),
    );
    await createDeployment(env.client, "ns1", "ep", 1);
    await createVA(env.client, "ns1", "ep", "ep", "m-ep", {
      labels: acceleratorLabel("L40S"),
    });
  });

  it("HTTPS /metrics with a generated certificate: 401 without or with an unknown token, 403 without get on /metrics, 200 for an allowed caller", async () => {
    const m = await env.start({ metricsSource: new ScriptedCollector(), flags: { metricsSecure: true } });
    assert.match(m.metricsUrl!, /^https:\/\//);
    const ca = m.metricsCertPem;
    assert.match(ca ?? "", /BEGIN CERTIFICATE/);
    await m.nextCycle();
    assert.equal((await get(m.metricsUrl!, { ca })).status, 401);
    assert.equal((await get(m.metricsUrl!, { ca, token: "made-up" })).status, 401);
    const denied = await get(m.metricsUrl!, { ca, token: "nobody-token" });
    assert.equal(denied.status, 403);
    assert.match(denied.body, /nobody/);
    const ok = await get(m.metricsUrl!, { ca, token: "scraper-token" });
    assert.equal(ok.status, 200);
    assert.match(
      ok.body,
      /^wva_desired_replicas\{variant_name="ep",namespace="ns1",accelerator_type="L40S"\} 1$/m,
    );
    assert.equal(ok.alpn, "http/1.1", "HTTP/2 is off unless --enable-http2");
  });

  it("plain HTTP /metrics with --metrics-secure=false needs no token; probes answer on their own port", async () => {
    const m = await env.start({ metricsSource: new ScriptedCollector(), flags: { metricsSecure: false } });
    assert.match(m.metricsUrl!, /^http:\/\//);
    await m.ready();
    const res = await fetch(m.metricsUrl!);
    assert.equal(res.status, 200);
    assert.equal((await fetch(`${m.probeUrl}/healthz`)).status, 200);
    await waitFor(async () => (await fetch(`${m.probeUrl}/readyz`)).status === 200, "readyz");
    assert.equal((await fetch(`${m.probeUrl}/nope`)).status, 404);
    assert.equal((await fetch(m.metricsUrl!.replace("/metrics", "/other"))).status, 404);
  });

  it("a metrics bind address of 0 disables the metrics server", async () => {
    const m = await env.start({ metricsSource: new ScriptedCollector(), flags: { metricsBindAddress: "0" } });
    assert.equal(m.metricsUrl, undefined);
  });
});
