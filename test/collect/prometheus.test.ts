import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ResultCache, cacheKey } from "../../src/collect/cache.js";
import { maxSampleAgeMs, staleReason } from "../../src/collect/freshness.js";
import { loadPrometheusConfig } from "../../src/config/main.js";
import {
  PrometheusConfigError,
  fromLoadedSettings,
  isLoopbackHost,
  resolveBearerToken,
  resolvePrometheusConfig,
  validatePrometheusConfig,
} from "../../src/collect/prometheus/config.js";
import { parseQueryResponse } from "../../src/collect/prometheus/parse.js";
import { PrometheusSource, prometheusSourceFromSettings } from "../../src/collect/prometheus/source.js";
import { QueryName } from "../../src/collect/queries.js";

const vector = (samples: Array<[Record<string, string>, string]>) =>
  JSON.stringify({
    status: "success",
    data: {
      resultType: "vector",
      result: samples.map(([metric, v]) => ({ metric, value: [1700000000.5, v] })),
    },
  });

describe("result parsing", () => {
  it("NaN and +Inf and -Inf sample values parse as 0", () => {
    const vals = parseQueryResponse(
      vector([
        [{ pod: "a" }, "NaN"],
        [{ pod: "b" }, "+Inf"],
        [{ pod: "c" }, "-Inf"],
        [{ pod: "d" }, "0.25"],
      ]),
    );
    assert.deepEqual(
      vals.map((v) => v.value),
      [0, 0, 0, 0.25],
    );
    assert.equal(vals[3].timestamp, 1700000000500);
    assert.deepEqual(vals[3].labels, { pod: "d" });
  });

  it("scalar 42 gives one value without labels", () => {
    const vals = parseQueryResponse(
      JSON.stringify({ status: "success", data: { resultType: "scalar", result: [1700000000, "42"] } }),
    );
    assert.deepEqual(vals, [{ value: 42, timestamp: 1700000000000, labels: {} }]);
  });

  it("matrix gives the last point of each series", () => {
    const body = JSON.stringify({
      status: "success",
      data: {
        resultType: "matrix",
        result: [
          {
            metric: { pod: "a" },
            values: [
              [1, "1"],
              [2, "7"],
            ],
          },
          { metric: { pod: "b" }, values: [] },
        ],
      },
    });
    assert.deepEqual(parseQueryResponse(body), [{ value: 7, timestamp: 2000, labels: { pod: "a" } }]);
  });

  it("errors and garbage are reported with their reason", () => {
    assert.throws(() => parseQueryResponse("<html>"), /not JSON/);
    assert.throws(
      () =>
        parseQueryResponse(JSON.stringify({ status: "error", errorType: "bad_data", error: "parse error" })),
      /bad_data: parse error/,
    );
    assert.throws(
      () => parseQueryResponse(JSON.stringify({ status: "success", data: { resultType: "x" } })),
      /unknown result type/,
    );
  });
});

describe("result cache and freshness", () => {
  it("keys sort parameters", () => {
    assert.equal(cacheKey("q", { modelID: "m", namespace: "ns" }), "q:modelID=m,namespace=ns");
    assert.equal(cacheKey("q"), "q:");
  });

  it("entries expire after the TTL and are purged", () => {
    let t = 1000;
    const c = new ResultCache(30_000, () => t, 0);
    c.set("q", { a: "1" }, { queryName: "q", values: [], collectedAt: t });
    t += 29_999;
    assert.ok(c.get("q", { a: "1" }));
    assert.equal(c.get("q", { a: "2" }), undefined);
    t += 1;
    assert.equal(c.purge(), 1);
    assert.equal(c.get("q", { a: "1" }), undefined);
    assert.equal(c.size, 0);
    assert.throws(() => new ResultCache(0), /ttl must be > 0/);
  });

  it("a pod's data is stale beyond three scrape intervals, or without a current sample", () => {
    const now = 100_000;
    const bound = maxSampleAgeMs(10_000);
    assert.equal(bound, 30_000);
    assert.equal(staleReason(now - 30_000, now, bound), undefined);
    assert.equal(staleReason(now + 5000, now, bound), undefined, "clock skew counts as fresh");
    assert.equal(staleReason(now - 30_001, now, bound), "newest sample 30 s old (bound 30 s)");
    assert.equal(staleReason(undefined, now, bound), "no current sample");
    assert.equal(staleReason(Number.NaN, now, bound), "no current sample");
  });
});

describe("Prometheus connection settings", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "wva-promcfg-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("env wins over the ConfigMap; neither is an error", () => {
    const cfg = resolvePrometheusConfig(
      { PROMETHEUS_BASE_URL: "https://p:9090", PROMETHEUS_TOKEN_PATH: "/t" },
      { PROMETHEUS_BASE_URL: "https://cm" },
    );
    assert.equal(cfg.baseURL, "https://p:9090");
    assert.equal(cfg.tokenPath, "/t");
    const cm = resolvePrometheusConfig(
      {},
      { PROMETHEUS_BASE_URL: "https://cm", PROMETHEUS_TLS_INSECURE_SKIP_VERIFY: "true" },
    );
    assert.equal(cm.baseURL, "https://cm");
    assert.equal(cm.insecureSkipVerify, true);
    assert.throws(() => resolvePrometheusConfig({}, {}), /no Prometheus configuration found/);
  });

  it("https is required except for loopback hosts or with PROMETHEUS_ALLOW_HTTP=true", () => {
    assert.throws(
      () => validatePrometheusConfig({ baseURL: "http://prometheus.monitoring:9090" }),
      /scheme must be https.*PROMETHEUS_ALLOW_HTTP/,
    );
    validatePrometheusConfig({ baseURL: "http://127.0.0.1:9090" });
    validatePrometheusConfig({ baseURL: "http://localhost:9090" });
    validatePrometheusConfig({ baseURL: "http://[::1]:9090" });
    validatePrometheusConfig({ baseURL: "http://prometheus:9090", allowHttp: true });
    const env = resolvePrometheusConfig({
      PROMETHEUS_BASE_URL: "http://prometheus:9090",
      PROMETHEUS_ALLOW_HTTP: "true",
    });
    validatePrometheusConfig(env);
    assert.throws(() => validatePrometheusConfig({ baseURL: "ftp://x" }), /scheme must be https/);
    assert.throws(() => validatePrometheusConfig({ baseURL: "not a url" }), /not a valid URL/);
    assert.equal(isLoopbackHost("127.1.0.5"), true);
    assert.equal(isLoopbackHost("10.0.0.1"), false);
  });

  it("TLS files must exist, the CA must parse, cert and key come together", () => {
    assert.throws(
      () => validatePrometheusConfig({ baseURL: "https://p", caCertPath: join(dir, "none.pem") }),
      /PROMETHEUS_CA_CERT_PATH: file .* does not exist/,
    );
    const bad = join(dir, "bad.pem");
    writeFileSync(bad, "not a certificate");
    assert.throws(
      () => validatePrometheusConfig({ baseURL: "https://p", caCertPath: bad }),
      /holds no valid PEM certificate/,
    );
    assert.throws(
      () => validatePrometheusConfig({ baseURL: "https://p", clientCertPath: bad }),
      (e: Error) => e instanceof PrometheusConfigError && /must be set together/.test(e.message),
    );
    assert.throws(
      () => validatePrometheusConfig({ baseURL: "https://p", tokenPath: join(dir, "nope") }),
      /PROMETHEUS_TOKEN_PATH/,
    );
  });

  it("settings loaded by the configuration module convert into the source's config", () => {
    const loaded = loadPrometheusConfig({
      env: {
        PROMETHEUS_BASE_URL: "https://prom:9090",
        PROMETHEUS_SERVER_NAME: "prom.internal",
        PROMETHEUS_TOKEN_PATH: "/t",
      },
    });
    const cfg = fromLoadedSettings(loaded, true);
    assert.equal(cfg.baseURL, "https://prom:9090");
    assert.equal(cfg.serverName, "prom.internal");
    assert.equal(cfg.tokenPath, "/t");
    assert.equal(cfg.caCertPath, undefined);
    assert.equal(cfg.allowHttp, true);
  });

  it("the token file is read once and trimmed; a direct token wins", () => {
    const f = join(dir, "token");
    writeFileSync(f, "  secret-token\n");
    assert.equal(resolveBearerToken({ baseURL: "https://p", tokenPath: f }), "secret-token");
    assert.equal(resolveBearerToken({ baseURL: "https://p", tokenPath: f, bearerToken: "direct" }), "direct");
    assert.equal(resolveBearerToken({ baseURL: "https://p" }), undefined);
  });
});

/** A scripted stand-in for the Prometheus HTTP API, to make failures happen on demand. */
async function scriptedApi(
  handler: (n: number, query: string, req: http.IncomingMessage) => [number, string],
) {
  let n = 0;
  const seen: Array<{ query: string; auth?: string }> = [];
  const server = http.createServer(async (req, res) => {
    let body = "";
    for await (const c of req) body += c;
    const query = new URLSearchParams(body).get("query") ?? "";
    seen.push({ query, auth: req.headers.authorization });
    const [status, text] = handler(++n, query, req);
    res.writeHead(status, { "content-type": "application/json" });
    res.end(text);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe("Prometheus source", () => {
  it("retries 5xx with exponential back-off and jitter, then succeeds", async () => {
    const api = await scriptedApi((n) =>
      n < 3 ? [503, "unavailable"] : [200, vector([[{ pod: "p" }, "0.5"]])],
    );
    const delays: number[] = [];
    const src = new PrometheusSource({
      config: { baseURL: api.url, bearerToken: "tok" },
      sleep: async (ms) => void delays.push(ms),
      random: () => 1,
    });
    try {
      const res = await src.refresh([QueryName.kvCacheUsage], { namespace: "ns", modelID: "m" });
      const r = res.get(QueryName.kvCacheUsage);
      assert.equal(r?.error, undefined);
      assert.equal(r?.values[0].value, 0.5);
      assert.deepEqual(delays, [550, 1100]);
      assert.equal(api.seen.length, 3);
      assert.equal(api.seen[0].auth, "Bearer tok");
    } finally {
      src.close();
      await api.close();
    }
  });

  it("gives up after 5 attempts with the error in the result; refresh does not throw", async () => {
    const api = await scriptedApi(() => [500, "boom"]);
    const delays: number[] = [];
    const src = new PrometheusSource({
      config: { baseURL: api.url },
      sleep: async (ms) => void delays.push(ms),
      random: () => 0,
    });
    try {
      const res = await src.refresh([QueryName.kvCacheUsage, QueryName.queueLength], {
        namespace: "ns",
        modelID: "m",
      });
      assert.match(res.get(QueryName.kvCacheUsage)?.error ?? "", /HTTP 500/);
      assert.match(res.get(QueryName.queueLength)?.error ?? "", /HTTP 500/);
      assert.equal(api.seen.length, 10);
      assert.deepEqual(
        [...delays].sort((a, b) => a - b),
        [500, 500, 1000, 1000, 2000, 2000, 4000, 4000],
      );
    } finally {
      src.close();
      await api.close();
    }
  });

  it("does not retry a bad query (HTTP 400) and reports Prometheus' error", async () => {
    const api = await scriptedApi(() => [
      400,
      JSON.stringify({ status: "error", errorType: "bad_data", error: "parse error at char 3" }),
    ]);
    const src = new PrometheusSource({ config: { baseURL: api.url }, sleep: async () => undefined });
    try {
      const res = await src.refresh([QueryName.kvCacheUsage], { namespace: "ns", modelID: "m" });
      assert.match(res.get(QueryName.kvCacheUsage)?.error ?? "", /bad_data: parse error/);
      assert.equal(api.seen.length, 1);
    } finally {
      src.close();
      await api.close();
    }
  });

  it("the per-query timeout bounds all attempts", async () => {
    const api = await scriptedApi(() => [503, "slow"]);
    const src = new PrometheusSource({
      config: { baseURL: api.url },
      queryTimeoutMs: 300,
      baseBackoffMs: 100,
    });
    try {
      const res = await src.refresh([QueryName.kvCacheUsage], { namespace: "ns", modelID: "m" });
      assert.match(res.get(QueryName.kvCacheUsage)?.error ?? "", /HTTP 503/);
      assert.ok(api.seen.length < 5, `attempts ${api.seen.length}`);
    } finally {
      src.close();
      await api.close();
    }
  });

  it("the caller's budget ends the retries of every query at once", async () => {
    const api = await scriptedApi(() => [503, "down"]);
    // the default 10 s per query with 5 attempts: about 11 s of retries without a budget
    const src = new PrometheusSource({ config: { baseURL: api.url } });
    try {
      const start = Date.now();
      const res = await src.refresh(
        [QueryName.kvCacheUsage, QueryName.queueLength],
        { namespace: "ns", modelID: "m" },
        AbortSignal.timeout(400),
      );
      const took = Date.now() - start;
      assert.ok(took < 1500, `took ${took} ms`);
      for (const r of res.values()) assert.match(r.error ?? "", /timeout|aborted/i);
      assert.match(
        res.get(QueryName.kvCacheUsage)?.error ?? "",
        /last attempt: Prometheus answered HTTP 503/,
      );
    } finally {
      src.close();
      await api.close();
    }
  });

  it("a missing parameter yields an error result without a request", async () => {
    const api = await scriptedApi(() => [200, vector([])]);
    const src = new PrometheusSource({ config: { baseURL: api.url } });
    try {
      const res = await src.refresh([QueryName.kvCacheUsage], { namespace: "ns" });
      assert.match(res.get(QueryName.kvCacheUsage)?.error ?? "", /missing required parameter "modelID"/);
      assert.equal(api.seen.length, 0);
    } finally {
      src.close();
      await api.close();
    }
  });

  it("results are cached for 30 s per query and parameters", async () => {
    const api = await scriptedApi(() => [200, vector([[{ pod: "p" }, "1"]])]);
    let t = Date.now();
    const src = new PrometheusSource({ config: { baseURL: api.url }, clock: () => t });
    try {
      await src.refresh([QueryName.kvCacheUsage], { namespace: "ns", modelID: "m" });
      assert.equal(api.seen.length, 1);
      t += 10_000;
      assert.equal(src.get(QueryName.kvCacheUsage, { modelID: "m", namespace: "ns" })?.values[0].value, 1);
      assert.equal(src.get(QueryName.kvCacheUsage, { namespace: "other", modelID: "m" }), undefined);
      assert.equal(api.seen.length, 1);
      t += 20_000;
      assert.equal(src.get(QueryName.kvCacheUsage, { namespace: "ns", modelID: "m" }), undefined);
    } finally {
      src.close();
      await api.close();
    }
  });

  it("the connectivity check fails with a clear error after its bounded wait", async () => {
    const src = new PrometheusSource({ config: { baseURL: "http://127.0.0.1:1" } });
    try {
      await assert.rejects(
        src.waitUntilReachable(300, 100),
        /Prometheus at http:\/\/127\.0\.0\.1:1 is not reachable after 300 ms/,
      );
    } finally {
      src.close();
    }
  });

  it("rejects a non-loopback http URL at construction", () => {
    assert.throws(
      () => new PrometheusSource({ config: { baseURL: "http://prom.example:9090" } }),
      /must be https/,
    );
  });

  it("builds from env or ConfigMap settings, naming what is missing or wrong", () => {
    assert.throws(() => prometheusSourceFromSettings({}, {}), /no Prometheus configuration found/);
    assert.throws(
      () => prometheusSourceFromSettings({ PROMETHEUS_BASE_URL: "http://prom:9090" }),
      /PROMETHEUS_BASE_URL: scheme must be https/,
    );
    const s = prometheusSourceFromSettings({
      PROMETHEUS_BASE_URL: "http://prom:9090",
      PROMETHEUS_ALLOW_HTTP: "true",
    });
    assert.equal(s.name, "prometheus");
    s.close();
    const cm = prometheusSourceFromSettings({}, { PROMETHEUS_BASE_URL: "http://127.0.0.1:9090" });
    cm.close();
  });
});
