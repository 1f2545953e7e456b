import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ConfigFieldError } from "../../src/config/errors.js";
import { withSettingsDocTable } from "../../src/config/settings-doc.js";
import { SETTING_DEFS } from "../../src/config/settings.js";
import { MAX_TIMER_DELAY_MS } from "../../src/util/timer.js";
import {
  applyRuntimeUpdate,
  detectImmutableChanges,
  immutableChangeMessage,
  loadMainConfig,
} from "../../src/config/main.js";

const URL_ENV = { PROMETHEUS_BASE_URL: "https://prometheus:9090" };

describe("main ConfigMap and environment", () => {
  it("only PROMETHEUS_BASE_URL in env ⇒ shipped defaults", () => {
    const c = loadMainConfig({ env: URL_ENV });
    assert.equal(c.metricsBindAddress, "0");
    assert.equal(c.healthProbeBindAddress, ":8081");
    assert.equal(c.leaderElect, false);
    assert.equal(c.globalOptIntervalMs, 60_000);
    assert.equal(c.leaderElectionID, "72dd1cf1.llm-d.ai");
    assert.equal(c.leaderElectionLeaseDurationMs, 60_000);
    assert.equal(c.v, 2);
    assert.equal(c.transitionTimeoutMs, 600_000);
    assert.equal(c.prometheus?.source, "env");
  });

  it("string precedence flag > env > ConfigMap", () => {
    const env = { ...URL_ENV, METRICS_BIND_ADDRESS: "env-value" };
    const configMap = { METRICS_BIND_ADDRESS: "cm-value" };
    assert.equal(
      loadMainConfig({ flags: { metricsBindAddress: "flag-value" }, env, configMap }).metricsBindAddress,
      "flag-value",
    );
    assert.equal(loadMainConfig({ env, configMap }).metricsBindAddress, "env-value");
    assert.equal(loadMainConfig({ env: URL_ENV, configMap }).metricsBindAddress, "cm-value");
  });

  it("no Prometheus configuration anywhere fails to load", () => {
    assert.throws(
      () => loadMainConfig({ env: {}, configMap: {} }),
      /PROMETHEUS_BASE_URL: no Prometheus configuration found/,
    );
  });

  it("GLOBAL_OPT_INTERVAL 30s is used; an invalid value falls back to 60s with a warning", () => {
    assert.equal(
      loadMainConfig({ env: URL_ENV, configMap: { GLOBAL_OPT_INTERVAL: "30s" } }).globalOptIntervalMs,
      30_000,
    );
    const c = loadMainConfig({ env: URL_ENV, configMap: { GLOBAL_OPT_INTERVAL: "invalid-duration" } });
    assert.equal(c.globalOptIntervalMs, 60_000);
    assert.match(c.warnings.join("\n"), /GLOBAL_OPT_INTERVAL: invalid duration "invalid-duration"/);
  });

  it("an interval <= 0 fails at start-up", () => {
    assert.throws(
      () => loadMainConfig({ env: URL_ENV, configMap: { GLOBAL_OPT_INTERVAL: "0s" } }),
      /GLOBAL_OPT_INTERVAL \(the main ConfigMap\): must be a duration from 100ms to 24h0m0s, got 0s/,
    );
  });

  it("WVA_SCALE_TO_ZERO from the ConfigMap, the environment winning (any case of true)", () => {
    assert.equal(
      loadMainConfig({ env: URL_ENV, configMap: { WVA_SCALE_TO_ZERO: "true" } }).scaleToZero,
      true,
    );
    assert.equal(
      loadMainConfig({
        env: { ...URL_ENV, WVA_SCALE_TO_ZERO: "TRUE" },
        configMap: { WVA_SCALE_TO_ZERO: "false" },
      }).scaleToZero,
      true,
    );
    assert.equal(loadMainConfig({ env: URL_ENV }).scaleToZero, false);
  });

  it("bool precedence — an explicit flag wins over the ConfigMap both ways; env over ConfigMap; else ConfigMap", () => {
    // Upstream's binary treated every flag default as explicitly set, so env/ConfigMap never won for
    // booleans; here only flags given on the command line count.
    const cm = (v: string) => ({ LEADER_ELECT: v });
    assert.equal(
      loadMainConfig({ flags: { leaderElect: false }, env: URL_ENV, configMap: cm("true") }).leaderElect,
      false,
    );
    assert.equal(
      loadMainConfig({ flags: { leaderElect: true }, env: URL_ENV, configMap: cm("false") }).leaderElect,
      true,
    );
    assert.equal(
      loadMainConfig({ env: { ...URL_ENV, LEADER_ELECT: "yes" }, configMap: cm("false") }).leaderElect,
      true,
    );
    assert.equal(
      loadMainConfig({ env: { ...URL_ENV, LEADER_ELECT: "no" }, configMap: cm("true") }).leaderElect,
      false,
    );
    assert.equal(loadMainConfig({ env: URL_ENV, configMap: cm("1") }).leaderElect, true);
    assert.equal(loadMainConfig({ env: URL_ENV, configMap: cm("TRUE") }).leaderElect, false); // case-sensitive words
  });

  it("durations and V: unparsable env/ConfigMap values count as unset; given flags win", () => {
    const c = loadMainConfig({
      env: { ...URL_ENV, LEADER_ELECTION_LEASE_DURATION: "soon", V: "loud" },
      configMap: { LEADER_ELECTION_LEASE_DURATION: "90s", V: "4" },
    });
    assert.equal(c.leaderElectionLeaseDurationMs, 90_000);
    assert.equal(c.v, 4);
    assert.equal(c.warnings.length, 2);
    assert.match(
      c.warnings.join("\n"),
      /LEADER_ELECTION_LEASE_DURATION: invalid duration "soon" in the environment/,
    );
    assert.equal(loadMainConfig({ flags: { v: 5 }, env: { ...URL_ENV, V: "3" } }).v, 5);
  });

  it("flag values out of range are errors naming the flag", () => {
    assert.throws(
      () => loadMainConfig({ flags: { v: -1 }, env: URL_ENV }),
      /--v: must be an integer from 0 to 10, got -1/,
    );
    assert.throws(
      () => loadMainConfig({ flags: { restClientTimeoutMs: 0 }, env: URL_ENV }),
      /--rest-client-timeout: must be a duration from 100ms to 1h0m0s, got 0s/,
    );
    assert.equal(
      loadMainConfig({ flags: { restClientTimeoutMs: 5000 }, env: URL_ENV }).restClientTimeoutMs,
      5000,
    );
  });

  it("durations outside their range are refused from env and ConfigMap with the key named", () => {
    // 600h would overflow Node's timers and fire after 1 ms; 1ns would make the engine loop spin
    for (const [key, text] of [
      ["GLOBAL_OPT_INTERVAL", "600h"],
      ["GLOBAL_OPT_INTERVAL", "1ns"],
      ["LEADER_ELECTION_RETRY_PERIOD", "600h"],
      ["LEADER_ELECTION_LEASE_DURATION", "0s"],
      ["REST_CLIENT_TIMEOUT", "-1s"],
      ["TRANSITION_LOCK_TIMEOUT", "9999h"],
      ["V", "99"],
    ]) {
      for (const where of ["env", "configMap"] as const) {
        const src =
          where === "env"
            ? { env: { ...URL_ENV, [key]: text } }
            : { env: URL_ENV, configMap: { [key]: text } };
        assert.throws(
          () => loadMainConfig(src),
          (e: unknown) => e instanceof ConfigFieldError && e.field.startsWith(key) && /must be/.test(e.rule),
          `${key}=${text} in ${where}`,
        );
      }
    }
  });

  it("leader-election relations are checked for values from env and ConfigMap, naming their source", () => {
    assert.throws(
      () => loadMainConfig({ env: URL_ENV, configMap: { LEADER_ELECTION_RENEW_DEADLINE: "70s" } }),
      /LEADER_ELECTION_LEASE_DURATION \(default\) \(1m0s\) must be greater than LEADER_ELECTION_RENEW_DEADLINE \(the main ConfigMap\) \(1m10s\)/,
    );
    assert.throws(
      () => loadMainConfig({ env: { ...URL_ENV, LEADER_ELECTION_RETRY_PERIOD: "45s" } }),
      /LEADER_ELECTION_RENEW_DEADLINE \(default\) \(50s\) must be greater than 1\.2 x LEADER_ELECTION_RETRY_PERIOD \(the environment\) \(45s\)/,
    );
    assert.throws(
      () => loadMainConfig({ flags: { leaderElectionRenewDeadlineMs: 900 }, env: URL_ENV }),
      /--leader-election-renew-deadline \(900ms\) must be greater than 1\.2 x LEADER_ELECTION_RETRY_PERIOD \(default\)/,
    );
  });

  it("the Prometheus URL is required only when asked for", () => {
    assert.equal(loadMainConfig({ env: {} }, { requirePrometheus: false }).prometheus, undefined);
  });

  it("Prometheus settings: all from env when env has the URL, else all from the ConfigMap", () => {
    const cm = {
      PROMETHEUS_BASE_URL: "https://cm:9090",
      PROMETHEUS_TLS_INSECURE_SKIP_VERIFY: "true",
      PROMETHEUS_CA_CERT_PATH: "/ca",
      PROMETHEUS_BEARER_TOKEN: "cm-token",
    };
    const fromEnv = loadMainConfig({
      env: { ...URL_ENV, PROMETHEUS_TOKEN_PATH: "/var/token", PROMETHEUS_TLS_INSECURE_SKIP_VERIFY: "yes" },
      configMap: cm,
    }).prometheus!;
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

  it("TRANSITION_LOCK_TIMEOUT sets the bound of the transition lock; unparsable keeps 10m, 0s is refused", () => {
    assert.equal(
      loadMainConfig({ env: URL_ENV, configMap: { TRANSITION_LOCK_TIMEOUT: "5m" } }).transitionTimeoutMs,
      300_000,
    );
    const c = loadMainConfig({ env: URL_ENV, configMap: { TRANSITION_LOCK_TIMEOUT: "later" } });
    assert.equal(c.transitionTimeoutMs, 600_000);
    assert.match(c.warnings[0], /TRANSITION_LOCK_TIMEOUT: invalid duration "later"/);
    assert.throws(
      () => loadMainConfig({ env: URL_ENV, configMap: { TRANSITION_LOCK_TIMEOUT: "0s" } }),
      /TRANSITION_LOCK_TIMEOUT \(the main ConfigMap\): must be a duration from 1s to 24h0m0s/,
    );
  });
});

describe("immutable keys changed at runtime", () => {
  const running = loadMainConfig({
    env: {},
    configMap: { PROMETHEUS_BASE_URL: "https://prometheus-initial:9090" },
  });

  it("a mutable key only ⇒ no change", () => {
    assert.deepEqual(detectImmutableChanges(running, { GLOBAL_OPT_INTERVAL: "120s" }), []);
  });

  it("a new Prometheus URL is reported", () => {
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

  it("each infrastructure key is reported on its own, two keys together, mixed with mutable ones", () => {
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

  it("an empty ConfigMap or unchanged values ⇒ none", () => {
    assert.deepEqual(detectImmutableChanges(running, {}), []);
    assert.deepEqual(
      detectImmutableChanges(running, { PROMETHEUS_BASE_URL: "https://prometheus-initial:9090" }),
      [],
    );
  });

  it("the runtime update rejects the immutable change and still applies the mutable keys", () => {
    const u = applyRuntimeUpdate(running, {
      PROMETHEUS_BASE_URL: "https://x:9090",
      GLOBAL_OPT_INTERVAL: "120s",
      TRANSITION_LOCK_TIMEOUT: "2m",
    });
    assert.equal(u.rejected.length, 1);
    assert.equal(u.config.prometheus?.baseURL, "https://prometheus-initial:9090");
    assert.equal(u.config.globalOptIntervalMs, 120_000);
    assert.equal(u.config.transitionTimeoutMs, 120_000);
    assert.match(
      immutableChangeMessage("wva-variantautoscaling-config", u.rejected),
      /attempted to change immutable parameters that require controller restart: \[Prometheus BaseURL \(old: "https:\/\/prometheus-initial:9090", new: "https:\/\/x:9090"\)\]\. These changes were rejected\. Mutable parameter updates were still applied\.$/,
    );
  });

  it("runtime: an invalid or out-of-range interval keeps the running one; start-only key changes are reported", () => {
    const u = applyRuntimeUpdate(running, { GLOBAL_OPT_INTERVAL: "soon", WVA_NODE_SELECTOR: "a=b" });
    assert.equal(u.config.globalOptIntervalMs, 60_000);
    assert.equal(u.rejected.length, 0);
    assert.match(u.warnings.join("\n"), /GLOBAL_OPT_INTERVAL: invalid duration "soon"; keeping 1m0s/);
    assert.match(u.warnings.join("\n"), /WVA_NODE_SELECTOR: read at start-up only/);
    for (const text of ["600h", "1ns", "0s"]) {
      const w = applyRuntimeUpdate(running, { GLOBAL_OPT_INTERVAL: text });
      assert.equal(w.config.globalOptIntervalMs, 60_000, text);
      assert.match(w.warnings.join("\n"), /GLOBAL_OPT_INTERVAL: must be a duration from 100ms to 24h0m0s/);
    }
  });
});

describe("settings documentation", () => {
  it("the table in docs/user-guide/configuration.md matches the settings table (npm run manifests)", () => {
    const page = readFileSync("docs/user-guide/configuration.md", "utf8");
    assert.equal(withSettingsDocTable(page), page, "stale settings table: run npm run manifests");
    for (const d of SETTING_DEFS) {
      if (d.key) assert.ok(page.includes(`\`${d.key}\``), `${d.key} missing from the docs`);
    }
  });

  it("every duration range stays below Node's timer limit", () => {
    for (const d of SETTING_DEFS) {
      // 0 only for a window that is no timer (the direct actuator's scale-down stabilisation)
      if (d.kind === "duration") assert.ok(d.min >= 0 && d.max <= MAX_TIMER_DELAY_MS, d.prop);
    }
  });
});
