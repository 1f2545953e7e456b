import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  applyRuntimeUpdate,
  detectImmutableChanges,
  immutableChangeMessage,
  loadInfraConfig,
  loadMainConfig,
} from "../../src/config/main.js";

const URL_ENV = { PROMETHEUS_BASE_URL: "https://prometheus:9090" };

describe("main ConfigMap and environment (wva-core 10.10)", () => {
  it("C5: only PROMETHEUS_BASE_URL in env ⇒ shipped defaults", () => {
    const c = loadMainConfig({ env: URL_ENV });
    assert.equal(c.infra.metricsBindAddress, "0");
    assert.equal(c.infra.healthProbeBindAddress, ":8081");
    assert.equal(c.infra.leaderElect, false);
    assert.equal(c.globalOptIntervalMs, 60_000);
    assert.equal(c.infra.leaderElectionID, "72dd1cf1.llm-d.ai");
    assert.equal(c.infra.leaderElectionLeaseDurationMs, 60_000);
    assert.equal(c.infra.v, 2);
    assert.equal(c.transitionTimeoutMs, 600_000);
    assert.equal(c.prometheus.source, "env");
  });

  it("C6: string precedence flag > env > ConfigMap", () => {
    const env = { ...URL_ENV, METRICS_BIND_ADDRESS: "env-value" };
    const configMap = { METRICS_BIND_ADDRESS: "cm-value" };
    assert.equal(
      loadMainConfig({ flags: { "metrics-bind-address": "flag-value" }, env, configMap }).infra
        .metricsBindAddress,
      "flag-value",
    );
    assert.equal(loadMainConfig({ env, configMap }).infra.metricsBindAddress, "env-value");
    assert.equal(loadMainConfig({ env: URL_ENV, configMap }).infra.metricsBindAddress, "cm-value");
  });

  it("C7: no Prometheus configuration anywhere fails to load", () => {
    assert.throws(
      () => loadMainConfig({ env: {}, configMap: {} }),
      /PROMETHEUS_BASE_URL: no Prometheus configuration found/,
    );
  });

  it("C8: GLOBAL_OPT_INTERVAL 30s is used; an invalid value falls back to 60s with a warning", () => {
    assert.equal(
      loadMainConfig({ env: URL_ENV, configMap: { GLOBAL_OPT_INTERVAL: "30s" } }).globalOptIntervalMs,
      30_000,
    );
    const c = loadMainConfig({ env: URL_ENV, configMap: { GLOBAL_OPT_INTERVAL: "invalid-duration" } });
    assert.equal(c.globalOptIntervalMs, 60_000);
    assert.match(c.warnings.join("\n"), /GLOBAL_OPT_INTERVAL: invalid duration "invalid-duration"/);
  });

  it("C8: an interval <= 0 fails at start-up", () => {
    assert.throws(
      () => loadMainConfig({ env: URL_ENV, configMap: { GLOBAL_OPT_INTERVAL: "0s" } }),
      /GLOBAL_OPT_INTERVAL: must be > 0/,
    );
  });

  it("C10: feature flags from the ConfigMap", () => {
    const c = loadMainConfig({
      env: URL_ENV,
      configMap: {
        WVA_SCALE_TO_ZERO: "true",
        WVA_LIMITED_MODE: "false",
        SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY: "5",
      },
    });
    assert.equal(c.scaleToZeroEnabled, true);
    assert.equal(c.limitedMode, false);
    assert.equal(c.scaleFromZeroMaxConcurrency, 5);
  });

  it("C10: WVA_LIMITED_MODE in env is honoured (upstream read it from the ConfigMap only, though Helm sets env)", () => {
    const c = loadMainConfig({
      env: { ...URL_ENV, WVA_LIMITED_MODE: "true" },
      configMap: { WVA_LIMITED_MODE: "false" },
    });
    assert.equal(c.limitedMode, true);
  });

  it("C10: scale-from-zero concurrency <= 0 fails; a non-integer falls back to 10", () => {
    assert.throws(
      () => loadMainConfig({ env: URL_ENV, configMap: { SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY: "0" } }),
      /SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY: must be > 0/,
    );
    const c = loadMainConfig({ env: URL_ENV, configMap: { SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY: "many" } });
    assert.equal(c.scaleFromZeroMaxConcurrency, 10);
  });

  it("C11: cache keys: ENABLED false and TTL 60s, others default", () => {
    const c = loadMainConfig({
      env: URL_ENV,
      configMap: { PROMETHEUS_METRICS_CACHE_ENABLED: "false", PROMETHEUS_METRICS_CACHE_TTL: "60s" },
    });
    assert.equal(c.cache.enabled, false);
    assert.equal(c.cache.ttlMs, 60_000);
    assert.equal(c.cache.cleanupIntervalMs, 60_000);
    assert.equal(c.cache.fetchIntervalMs, 30_000);
    assert.equal(c.cache.unavailableThresholdMs, 300_000);
  });

  it("C12: bool precedence — an explicit flag wins over the ConfigMap both ways; env over ConfigMap; else ConfigMap", () => {
    // Upstream's binary treated every flag default as explicitly set, so env/ConfigMap never won for
    // booleans (wva-core 12.8); here only flags given on the command line count.
    const cm = (v: string) => ({ LEADER_ELECT: v });
    assert.equal(
      loadInfraConfig({ flags: { "leader-elect": false }, configMap: cm("true") }).leaderElect,
      false,
    );
    assert.equal(
      loadInfraConfig({ flags: { "leader-elect": true }, configMap: cm("false") }).leaderElect,
      true,
    );
    assert.equal(loadInfraConfig({ env: { LEADER_ELECT: "yes" }, configMap: cm("false") }).leaderElect, true);
    assert.equal(loadInfraConfig({ env: { LEADER_ELECT: "no" }, configMap: cm("true") }).leaderElect, false);
    assert.equal(loadInfraConfig({ configMap: cm("1") }).leaderElect, true);
    assert.equal(loadInfraConfig({ configMap: cm("TRUE") }).leaderElect, false); // case-sensitive words
  });

  it("durations and V: unparsable env/ConfigMap values count as unset; bad flags are errors naming the flag", () => {
    const w: string[] = [];
    const c = loadInfraConfig(
      {
        env: { LEADER_ELECTION_LEASE_DURATION: "soon", V: "loud" },
        configMap: { LEADER_ELECTION_LEASE_DURATION: "90s", V: "4" },
      },
      w,
    );
    assert.equal(c.leaderElectionLeaseDurationMs, 90_000);
    assert.equal(c.v, 4);
    assert.equal(w.length, 2);
    assert.equal(loadInfraConfig({ flags: { v: 5 }, env: { V: "3" } }).v, 5);
    assert.throws(
      () => loadInfraConfig({ flags: { "rest-client-timeout": "later" } }),
      /^.*--rest-client-timeout: must be a duration/,
    );
  });

  it("Prometheus settings (4.5): all from env when env has the URL, else all from the ConfigMap", () => {
    const cm = {
      PROMETHEUS_BASE_URL: "https://cm:9090",
      PROMETHEUS_TLS_INSECURE_SKIP_VERIFY: "true",
      PROMETHEUS_CA_CERT_PATH: "/ca",
      PROMETHEUS_BEARER_TOKEN: "cm-token",
    };
    const fromEnv = loadMainConfig({
      env: { ...URL_ENV, PROMETHEUS_TOKEN_PATH: "/var/token", PROMETHEUS_TLS_INSECURE_SKIP_VERIFY: "yes" },
      configMap: cm,
    }).prometheus;
    assert.equal(fromEnv.baseURL, "https://prometheus:9090");
    assert.equal(fromEnv.caCertPath, "");
    assert.equal(fromEnv.tokenPath, "/var/token");
    assert.equal(fromEnv.tlsInsecureSkipVerify, false); // exactly "true"
    const fromCm = loadMainConfig({ env: { PROMETHEUS_TOKEN_PATH: "/ignored" }, configMap: cm }).prometheus;
    assert.deepEqual(fromCm, {
      baseURL: "https://cm:9090",
      tlsInsecureSkipVerify: true,
      caCertPath: "/ca",
      clientCertPath: "",
      clientKeyPath: "",
      serverName: "",
      bearerToken: "cm-token",
      tokenPath: "",
      source: "configmap",
    });
  });

  it("TRANSITION_LOCK_TIMEOUT sets the bound of the transition lock; invalid values keep 10m", () => {
    assert.equal(
      loadMainConfig({ env: URL_ENV, configMap: { TRANSITION_LOCK_TIMEOUT: "5m" } }).transitionTimeoutMs,
      300_000,
    );
    const c = loadMainConfig({ env: URL_ENV, configMap: { TRANSITION_LOCK_TIMEOUT: "0s" } });
    assert.equal(c.transitionTimeoutMs, 600_000);
    assert.match(c.warnings[0], /TRANSITION_LOCK_TIMEOUT: "0s" is not a positive duration/);
  });
});

describe("immutable keys changed at runtime (wva-core 10.10 C14)", () => {
  const running = loadMainConfig({
    env: {},
    configMap: { PROMETHEUS_BASE_URL: "https://prometheus-initial:9090" },
  });

  it("C14: a mutable key only ⇒ no change", () => {
    assert.deepEqual(detectImmutableChanges(running, { GLOBAL_OPT_INTERVAL: "120s" }), []);
  });

  it("C14: a new Prometheus URL is reported", () => {
    assert.deepEqual(
      detectImmutableChanges(running, { PROMETHEUS_BASE_URL: "https://prometheus-new:9090" }),
      [
        {
          key: "PROMETHEUS_BASE_URL",
          parameter: "Prometheus BaseURL",
          old: "https://prometheus-initial:9090",
          new: "https://prometheus-new:9090",
        },
      ],
    );
  });

  it("C14: each infrastructure key is reported on its own, two keys together, mixed with mutable ones", () => {
    assert.deepEqual(
      detectImmutableChanges(running, { METRICS_BIND_ADDRESS: ":9443" }).map((c) => c.key),
      ["METRICS_BIND_ADDRESS"],
    );
    assert.deepEqual(
      detectImmutableChanges(running, { HEALTH_PROBE_BIND_ADDRESS: ":8082" }).map((c) => c.key),
      ["HEALTH_PROBE_BIND_ADDRESS"],
    );
    assert.deepEqual(
      detectImmutableChanges(running, { LEADER_ELECTION_ID: "other" }).map((c) => c.key),
      ["LEADER_ELECTION_ID"],
    );
    assert.deepEqual(
      detectImmutableChanges(running, {
        METRICS_BIND_ADDRESS: ":9443",
        HEALTH_PROBE_BIND_ADDRESS: ":8082",
      }).map((c) => c.key),
      ["METRICS_BIND_ADDRESS", "HEALTH_PROBE_BIND_ADDRESS"],
    );
    assert.deepEqual(
      detectImmutableChanges(running, {
        PROMETHEUS_BASE_URL: "https://x:9090",
        GLOBAL_OPT_INTERVAL: "30s",
      }).map((c) => c.key),
      ["PROMETHEUS_BASE_URL"],
    );
  });

  it("C14: an empty ConfigMap or unchanged values ⇒ none", () => {
    assert.deepEqual(detectImmutableChanges(running, {}), []);
    assert.deepEqual(
      detectImmutableChanges(running, { PROMETHEUS_BASE_URL: "https://prometheus-initial:9090" }),
      [],
    );
  });

  it("C14: the runtime update rejects the immutable change and still applies the mutable keys", () => {
    const u = applyRuntimeUpdate(running, {
      PROMETHEUS_BASE_URL: "https://x:9090",
      GLOBAL_OPT_INTERVAL: "120s",
      PROMETHEUS_METRICS_CACHE_TTL: "45s",
      TRANSITION_LOCK_TIMEOUT: "2m",
    });
    assert.equal(u.rejected.length, 1);
    assert.equal(u.config.prometheus.baseURL, "https://prometheus-initial:9090");
    assert.equal(u.config.globalOptIntervalMs, 120_000);
    assert.equal(u.config.cache.ttlMs, 45_000);
    assert.equal(u.config.transitionTimeoutMs, 120_000);
    assert.match(
      immutableChangeMessage("wva-variantautoscaling-config", u.rejected),
      /attempted to change immutable parameters that require controller restart: \[Prometheus BaseURL \(old: "https:\/\/prometheus-initial:9090", new: "https:\/\/x:9090"\)\]\. These changes were rejected\. Mutable parameter updates were still applied\.$/,
    );
  });

  it("runtime: an invalid interval keeps the running one; start-only key changes are reported", () => {
    assert.deepEqual(
      applyRuntimeUpdate(running, { WVA_LIMITED_MODE: "true" }, { WVA_LIMITED_MODE: "true" }).warnings,
      [],
    );
    const u = applyRuntimeUpdate(running, { GLOBAL_OPT_INTERVAL: "soon", WVA_LIMITED_MODE: "true" }, {});
    assert.equal(u.config.globalOptIntervalMs, 60_000);
    assert.equal(u.rejected.length, 0);
    assert.match(
      u.warnings.join("\n"),
      /GLOBAL_OPT_INTERVAL: "soon" is not a positive duration; keeping 1m0s/,
    );
    assert.match(u.warnings.join("\n"), /WVA_LIMITED_MODE: read at start-up only/);
  });
});
