import { formatDuration, tryParseDuration } from "../util/duration.js";
import { DEFAULT_TRANSITION_TIMEOUT_MS } from "../engine/types.js";
import { ConfigFieldError } from "./errors.js";

/** Default name of the main ConfigMap (env `CONFIG_MAP_NAME` overrides it). */
export const MAIN_CONFIG_MAP = "wva-variantautoscaling-config";
/** Default name of the saturation ConfigMap (env `SATURATION_CONFIG_MAP_NAME` overrides it). */
export const SATURATION_CONFIG_MAP = "wva-saturation-scaling-config";
/** Default namespace of the controller (env `POD_NAMESPACE` overrides it). */
export const DEFAULT_SYSTEM_NAMESPACE = "workload-variant-autoscaler-system";

type Kind = "string" | "bool" | "duration" | "int";

interface InfraKeyDef {
  key: string;
  flag: string;
  kind: Kind;
  def: string | boolean | number;
  prop: keyof InfraConfig;
}

/** Infrastructure settings (wva-core 3.1 / 3.2). Durations are milliseconds. */
export interface InfraConfig {
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  leaderElect: boolean;
  leaderElectionID: string;
  leaderElectionLeaseDurationMs: number;
  leaderElectionRenewDeadlineMs: number;
  leaderElectionRetryPeriodMs: number;
  restClientTimeoutMs: number;
  metricsSecure: boolean;
  enableHTTP2: boolean;
  watchNamespace: string;
  v: number;
  webhookCertPath: string;
  webhookCertName: string;
  webhookCertKey: string;
  metricsCertPath: string;
  metricsCertName: string;
  metricsCertKey: string;
}

/** The infrastructure keys: env / ConfigMap key, flag name, type, default. */
export const INFRA_KEYS: readonly InfraKeyDef[] = [
  {
    key: "METRICS_BIND_ADDRESS",
    flag: "metrics-bind-address",
    kind: "string",
    def: "0",
    prop: "metricsBindAddress",
  },
  {
    key: "HEALTH_PROBE_BIND_ADDRESS",
    flag: "health-probe-bind-address",
    kind: "string",
    def: ":8081",
    prop: "healthProbeBindAddress",
  },
  { key: "LEADER_ELECT", flag: "leader-elect", kind: "bool", def: false, prop: "leaderElect" },
  {
    key: "LEADER_ELECTION_ID",
    flag: "leader-election-id",
    kind: "string",
    def: "72dd1cf1.llm-d.ai",
    prop: "leaderElectionID",
  },
  {
    key: "LEADER_ELECTION_LEASE_DURATION",
    flag: "leader-election-lease-duration",
    kind: "duration",
    def: 60_000,
    prop: "leaderElectionLeaseDurationMs",
  },
  {
    key: "LEADER_ELECTION_RENEW_DEADLINE",
    flag: "leader-election-renew-deadline",
    kind: "duration",
    def: 50_000,
    prop: "leaderElectionRenewDeadlineMs",
  },
  {
    key: "LEADER_ELECTION_RETRY_PERIOD",
    flag: "leader-election-retry-period",
    kind: "duration",
    def: 10_000,
    prop: "leaderElectionRetryPeriodMs",
  },
  {
    key: "REST_CLIENT_TIMEOUT",
    flag: "rest-client-timeout",
    kind: "duration",
    def: 60_000,
    prop: "restClientTimeoutMs",
  },
  { key: "METRICS_SECURE", flag: "metrics-secure", kind: "bool", def: true, prop: "metricsSecure" },
  { key: "ENABLE_HTTP2", flag: "enable-http2", kind: "bool", def: false, prop: "enableHTTP2" },
  { key: "WATCH_NAMESPACE", flag: "watch-namespace", kind: "string", def: "", prop: "watchNamespace" },
  { key: "V", flag: "v", kind: "int", def: 2, prop: "v" },
  { key: "WEBHOOK_CERT_PATH", flag: "webhook-cert-path", kind: "string", def: "", prop: "webhookCertPath" },
  {
    key: "WEBHOOK_CERT_NAME",
    flag: "webhook-cert-name",
    kind: "string",
    def: "tls.crt",
    prop: "webhookCertName",
  },
  {
    key: "WEBHOOK_CERT_KEY",
    flag: "webhook-cert-key",
    kind: "string",
    def: "tls.key",
    prop: "webhookCertKey",
  },
  { key: "METRICS_CERT_PATH", flag: "metrics-cert-path", kind: "string", def: "", prop: "metricsCertPath" },
  {
    key: "METRICS_CERT_NAME",
    flag: "metrics-cert-name",
    kind: "string",
    def: "tls.crt",
    prop: "metricsCertName",
  },
  {
    key: "METRICS_CERT_KEY",
    flag: "metrics-cert-key",
    kind: "string",
    def: "tls.key",
    prop: "metricsCertKey",
  },
];

/** Prometheus connection settings (wva-core 4.5). */
export interface PrometheusConfig {
  baseURL: string;
  tlsInsecureSkipVerify: boolean;
  caCertPath: string;
  clientCertPath: string;
  clientKeyPath: string;
  serverName: string;
  bearerToken: string;
  /** Token file (env only); read by the client when no direct token is set. */
  tokenPath: string;
  /** Where the settings came from: all from env when env PROMETHEUS_BASE_URL is set, else the ConfigMap. */
  source: "env" | "configmap";
}

/** `PROMETHEUS_METRICS_CACHE_*` settings. Durations are milliseconds. */
export interface CacheConfig {
  enabled: boolean;
  ttlMs: number;
  cleanupIntervalMs: number;
  fetchIntervalMs: number;
  freshThresholdMs: number;
  staleThresholdMs: number;
  unavailableThresholdMs: number;
}

export const DEFAULT_CACHE_CONFIG: Readonly<CacheConfig> = Object.freeze({
  enabled: true,
  ttlMs: 30_000,
  cleanupIntervalMs: 60_000,
  fetchIntervalMs: 30_000,
  freshThresholdMs: 60_000,
  staleThresholdMs: 120_000,
  unavailableThresholdMs: 300_000,
});

const CACHE_KEYS: ReadonlyArray<[string, keyof CacheConfig]> = [
  ["PROMETHEUS_METRICS_CACHE_ENABLED", "enabled"],
  ["PROMETHEUS_METRICS_CACHE_TTL", "ttlMs"],
  ["PROMETHEUS_METRICS_CACHE_CLEANUP_INTERVAL", "cleanupIntervalMs"],
  ["PROMETHEUS_METRICS_CACHE_FETCH_INTERVAL", "fetchIntervalMs"],
  ["PROMETHEUS_METRICS_CACHE_FRESH_THRESHOLD", "freshThresholdMs"],
  ["PROMETHEUS_METRICS_CACHE_STALE_THRESHOLD", "staleThresholdMs"],
  ["PROMETHEUS_METRICS_CACHE_UNAVAILABLE_THRESHOLD", "unavailableThresholdMs"],
];

/** Default engine period (`GLOBAL_OPT_INTERVAL`). */
export const DEFAULT_GLOBAL_OPT_INTERVAL_MS = 60_000;
export const DEFAULT_SCALE_FROM_ZERO_CONCURRENCY = 10;

/** The whole main configuration. */
export interface MainConfig {
  infra: InfraConfig;
  prometheus: PrometheusConfig;
  /** Engine loop period; the loop follows it (an upstream quirk fixed). */
  globalOptIntervalMs: number;
  cache: CacheConfig;
  /** `WVA_SCALE_TO_ZERO` (env, else ConfigMap; case-insensitive `true`). */
  scaleToZeroEnabled: boolean;
  /** `WVA_LIMITED_MODE` (env, else ConfigMap). */
  limitedMode: boolean;
  scaleFromZeroMaxConcurrency: number;
  eppMetricReaderBearerToken: string;
  /** `WVA_NODE_SELECTOR`: label selector added to GPU node discovery. */
  nodeSelector: string;
  /** `TRANSITION_LOCK_TIMEOUT`: after how long a model stuck in transition is released (default 10m). */
  transitionTimeoutMs: number;
  /** Values that were ignored (unparsable) and what was used instead. */
  warnings: string[];
}

/** Inputs of {@link loadMainConfig}. */
export interface MainConfigSources {
  /** Only the flags given explicitly on the command line, keyed by flag name (e.g. `leader-elect`). */
  flags?: Record<string, string | boolean | number | undefined>;
  env?: Record<string, string | undefined>;
  /** Data of the main ConfigMap. */
  configMap?: Record<string, string>;
}

const TRUE_WORDS = ["true", "1", "yes"];

/** env / ConfigMap booleans: true iff exactly `true`, `1` or `yes`; undefined when empty. */
export function parseBoolWord(v: string | undefined): boolean | undefined {
  if (v === undefined || v === "") return undefined;
  return TRUE_WORDS.includes(v);
}

/** Go `strconv.ParseBool`. */
function parseGoBool(v: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  return undefined;
}

function parseIntStrict(v: string | undefined): number | undefined {
  if (v === undefined || !/^[+-]?\d+$/.test(v.trim())) return undefined;
  return Number(v.trim());
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === "" ? undefined : v;
}

/** Value of one key from env / ConfigMap text, or undefined when unset or unparsable. */
function fromText(def: InfraKeyDef, text: string | undefined, where: string, warnings: string[]): unknown {
  const v = nonEmpty(text);
  if (v === undefined) return undefined;
  switch (def.kind) {
    case "string":
      return v;
    case "bool":
      return parseBoolWord(v);
    case "duration": {
      const ms = tryParseDuration(v);
      if (ms === undefined) warnings.push(`${def.key} (${where}): invalid duration "${v}"; ignored`);
      return ms;
    }
    case "int": {
      const n = parseIntStrict(v);
      if (n === undefined || n < 0) {
        warnings.push(`${def.key} (${where}): not a non-negative integer "${v}"; ignored`);
        return undefined;
      }
      return n;
    }
  }
}

function fromFlag(def: InfraKeyDef, value: string | boolean | number): unknown {
  switch (def.kind) {
    case "string":
      if (typeof value !== "string") throw new ConfigFieldError(`--${def.flag}`, "must be a string");
      return value === "" ? undefined : value;
    case "bool":
      if (typeof value === "boolean") return value;
      if (typeof value === "string" && parseGoBool(value) !== undefined) return parseGoBool(value);
      throw new ConfigFieldError(`--${def.flag}`, `must be true or false, got "${String(value)}"`);
    case "duration": {
      if (typeof value === "number") return value;
      const ms = tryParseDuration(String(value));
      if (ms === undefined) {
        throw new ConfigFieldError(
          `--${def.flag}`,
          `must be a duration such as 30s or 1m, got "${String(value)}"`,
        );
      }
      return ms;
    }
    case "int": {
      const n = typeof value === "number" ? value : parseIntStrict(String(value));
      if (n === undefined || !Number.isInteger(n) || n < 0) {
        throw new ConfigFieldError(`--${def.flag}`, `must be a non-negative integer, got "${String(value)}"`);
      }
      return n;
    }
  }
}

/**
 * Infrastructure settings with precedence flag > env > ConfigMap > default (wva-core 3.2). Only flags
 * given explicitly count; booleans in env/ConfigMap are true iff `true`, `1` or `yes`; unparsable
 * durations and integers in env/ConfigMap count as unset (with a warning).
 */
export function loadInfraConfig(src: MainConfigSources, warnings: string[] = []): InfraConfig {
  const out: Record<string, unknown> = {};
  for (const def of INFRA_KEYS) {
    const flag = src.flags?.[def.flag];
    let v: unknown = flag === undefined ? undefined : fromFlag(def, flag);
    if (v === undefined) v = fromText(def, src.env?.[def.key], "env", warnings);
    if (v === undefined) v = fromText(def, src.configMap?.[def.key], "ConfigMap", warnings);
    out[def.prop] = v ?? def.def;
  }
  return out as unknown as InfraConfig;
}

/**
 * Prometheus settings (wva-core 4.5): all from env when env `PROMETHEUS_BASE_URL` is set, else from the
 * ConfigMap (which has no token-file key). Throws when neither has a base URL.
 */
export function loadPrometheusConfig(src: MainConfigSources): PrometheusConfig {
  const env = src.env ?? {};
  const cm = src.configMap ?? {};
  const fromEnv = nonEmpty(env.PROMETHEUS_BASE_URL) !== undefined;
  const s = fromEnv ? env : cm;
  const baseURL = nonEmpty(s.PROMETHEUS_BASE_URL);
  if (baseURL === undefined) {
    throw new ConfigFieldError(
      "PROMETHEUS_BASE_URL",
      "no Prometheus configuration found. Please set PROMETHEUS_BASE_URL environment variable or configure via ConfigMap",
    );
  }
  return {
    baseURL,
    tlsInsecureSkipVerify: s.PROMETHEUS_TLS_INSECURE_SKIP_VERIFY === "true",
    caCertPath: s.PROMETHEUS_CA_CERT_PATH ?? "",
    clientCertPath: s.PROMETHEUS_CLIENT_CERT_PATH ?? "",
    clientKeyPath: s.PROMETHEUS_CLIENT_KEY_PATH ?? "",
    serverName: s.PROMETHEUS_SERVER_NAME ?? "",
    bearerToken: s.PROMETHEUS_BEARER_TOKEN ?? "",
    tokenPath: fromEnv ? (env.PROMETHEUS_TOKEN_PATH ?? "") : "",
    source: fromEnv ? "env" : "configmap",
  };
}

/**
 * Cache settings from the ConfigMap: unset keys take defaults, unparsable values take defaults with a
 * warning.
 */
export function loadCacheConfig(
  cm: Record<string, string> | undefined,
  warnings: string[] = [],
): CacheConfig {
  const out: CacheConfig = { ...DEFAULT_CACHE_CONFIG };
  for (const [key, prop] of CACHE_KEYS) {
    const v = nonEmpty(cm?.[key]);
    if (v === undefined) continue;
    if (prop === "enabled") {
      const b = parseGoBool(v);
      if (b === undefined) warnings.push(`${key}: invalid boolean "${v}"; using default`);
      else out.enabled = b;
    } else {
      const ms = tryParseDuration(v);
      if (ms === undefined || ms < 0) warnings.push(`${key}: invalid duration "${v}"; using default`);
      else out[prop] = ms;
    }
  }
  return out;
}

/** `GLOBAL_OPT_INTERVAL` (env, else ConfigMap): unparsable → undefined with a warning. */
function readInterval(src: MainConfigSources, warnings: string[]): number | undefined {
  const text = nonEmpty(src.env?.GLOBAL_OPT_INTERVAL) ?? nonEmpty(src.configMap?.GLOBAL_OPT_INTERVAL);
  if (text === undefined) return undefined;
  const ms = tryParseDuration(text);
  if (ms === undefined) {
    warnings.push(
      `GLOBAL_OPT_INTERVAL: invalid duration "${text}"; using ${formatDuration(DEFAULT_GLOBAL_OPT_INTERVAL_MS)}`,
    );
  }
  return ms;
}

function readTransitionTimeout(text: string | undefined, fallback: number, warnings: string[]): number {
  const v = nonEmpty(text);
  if (v === undefined) return fallback;
  const ms = tryParseDuration(v);
  if (ms === undefined || ms <= 0) {
    warnings.push(
      `TRANSITION_LOCK_TIMEOUT: "${v}" is not a positive duration; using ${formatDuration(fallback)}`,
    );
    return fallback;
  }
  return ms;
}

/**
 * Loads the main configuration at start-up. Throws ConfigFieldError (start-up must fail) when there is
 * no Prometheus base URL, when `GLOBAL_OPT_INTERVAL` is <= 0 or when
 * `SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY` is <= 0; other bad values fall back to defaults and are
 * listed in `warnings`.
 */
export function loadMainConfig(src: MainConfigSources): MainConfig {
  const warnings: string[] = [];
  const env = src.env ?? {};
  const cm = src.configMap ?? {};
  const infra = loadInfraConfig(src, warnings);
  const prometheus = loadPrometheusConfig(src);
  const interval = readInterval(src, warnings) ?? DEFAULT_GLOBAL_OPT_INTERVAL_MS;
  if (interval <= 0)
    throw new ConfigFieldError("GLOBAL_OPT_INTERVAL", `must be > 0, got ${formatDuration(interval)}`);

  const concText =
    nonEmpty(env.SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY) ??
    nonEmpty(cm.SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY);
  let concurrency = DEFAULT_SCALE_FROM_ZERO_CONCURRENCY;
  if (concText !== undefined) {
    const n = parseIntStrict(concText);
    if (n === undefined)
      warnings.push(`SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY: not an integer "${concText}"; using 10`);
    else if (n <= 0)
      throw new ConfigFieldError("SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY", `must be > 0, got ${n}`);
    else concurrency = n;
  }

  const stz = nonEmpty(env.WVA_SCALE_TO_ZERO) ?? nonEmpty(cm.WVA_SCALE_TO_ZERO);
  const limited = nonEmpty(env.WVA_LIMITED_MODE) ?? nonEmpty(cm.WVA_LIMITED_MODE);
  return {
    infra,
    prometheus,
    globalOptIntervalMs: interval,
    cache: loadCacheConfig(cm, warnings),
    scaleToZeroEnabled: (stz ?? "").toLowerCase() === "true",
    limitedMode: (limited ?? "").toLowerCase() === "true",
    scaleFromZeroMaxConcurrency: concurrency,
    eppMetricReaderBearerToken:
      nonEmpty(env.EPP_METRIC_READER_BEARER_TOKEN) ?? cm.EPP_METRIC_READER_BEARER_TOKEN ?? "",
    nodeSelector: nonEmpty(env.WVA_NODE_SELECTOR) ?? cm.WVA_NODE_SELECTOR ?? "",
    transitionTimeoutMs: readTransitionTimeout(
      nonEmpty(env.TRANSITION_LOCK_TIMEOUT) ?? cm.TRANSITION_LOCK_TIMEOUT,
      DEFAULT_TRANSITION_TIMEOUT_MS,
      warnings,
    ),
    warnings,
  };
}

/** A rejected runtime change of a key that needs a restart. */
export interface ImmutableChange {
  key: string;
  /** Human-readable parameter name, e.g. "Prometheus BaseURL". */
  parameter: string;
  old: string;
  new: string;
}

/** Keys checked at runtime: changing them requires a restart. */
export const IMMUTABLE_KEYS: ReadonlyArray<[string, string, (c: MainConfig) => string]> = [
  ["PROMETHEUS_BASE_URL", "Prometheus BaseURL", (c) => c.prometheus.baseURL],
  ["METRICS_BIND_ADDRESS", "Metrics bind address", (c) => c.infra.metricsBindAddress],
  ["HEALTH_PROBE_BIND_ADDRESS", "Health probe bind address", (c) => c.infra.healthProbeBindAddress],
  ["LEADER_ELECTION_ID", "Leader election ID", (c) => c.infra.leaderElectionID],
  ["WEBHOOK_CERT_PATH", "Webhook certificate path", (c) => c.infra.webhookCertPath],
  ["WEBHOOK_CERT_NAME", "Webhook certificate name", (c) => c.infra.webhookCertName],
  ["WEBHOOK_CERT_KEY", "Webhook certificate key", (c) => c.infra.webhookCertKey],
  ["METRICS_CERT_PATH", "Metrics certificate path", (c) => c.infra.metricsCertPath],
  ["METRICS_CERT_NAME", "Metrics certificate name", (c) => c.infra.metricsCertName],
  ["METRICS_CERT_KEY", "Metrics certificate key", (c) => c.infra.metricsCertKey],
];

/** Keys read only at start-up that are not checked: a runtime change is ignored (reported as a warning). */
export const START_ONLY_KEYS = [
  "PROMETHEUS_TLS_INSECURE_SKIP_VERIFY",
  "PROMETHEUS_CA_CERT_PATH",
  "PROMETHEUS_CLIENT_CERT_PATH",
  "PROMETHEUS_CLIENT_KEY_PATH",
  "PROMETHEUS_SERVER_NAME",
  "PROMETHEUS_BEARER_TOKEN",
  "WVA_SCALE_TO_ZERO",
  "WVA_LIMITED_MODE",
  "SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY",
  "EPP_METRIC_READER_BEARER_TOKEN",
  "WVA_NODE_SELECTOR",
  ...INFRA_KEYS.map((d) => d.key).filter((k) => !IMMUTABLE_KEYS.some(([ik]) => ik === k)),
];

/**
 * Immutable keys present in an updated main ConfigMap whose value differs from the running config
 * (wva-core 8.2, C14). An empty result means the update can be applied as is.
 */
export function detectImmutableChanges(
  running: MainConfig,
  cm: Record<string, string> | undefined,
): ImmutableChange[] {
  const out: ImmutableChange[] = [];
  for (const [key, parameter, get] of IMMUTABLE_KEYS) {
    const v = cm?.[key];
    if (v === undefined || v === "") continue;
    const old = get(running);
    if (v !== old) out.push({ key, parameter, old, new: v });
  }
  return out;
}

/** Message of the `ImmutableConfigChangeRejected` warning event. */
export function immutableChangeMessage(configMapName: string, changes: readonly ImmutableChange[]): string {
  const list = changes.map((c) => `${c.parameter} (old: "${c.old}", new: "${c.new}")`).join(" ");
  return (
    `ConfigMap ${configMapName} attempted to change immutable parameters that require controller restart: [${list}]. ` +
    "These changes were rejected. Mutable parameter updates were still applied."
  );
}

/** Result of a runtime update of the main ConfigMap. */
export interface RuntimeUpdate {
  config: MainConfig;
  /** Immutable keys whose change was rejected. */
  rejected: ImmutableChange[];
  /** Ignored values (unparsable, start-only keys changed). */
  warnings: string[];
}

/**
 * Applies a runtime update of the main ConfigMap: immutable changes are rejected (and returned), the
 * mutable keys (`GLOBAL_OPT_INTERVAL`, `TRANSITION_LOCK_TIMEOUT`, the cache block) are applied; an
 * unparsable or non-positive interval keeps the running value. With `previous` (the ConfigMap data the
 * running config came from), changes of start-only keys are reported in `warnings`.
 */
export function applyRuntimeUpdate(
  running: MainConfig,
  cm: Record<string, string> | undefined,
  previous?: Record<string, string>,
): RuntimeUpdate {
  const warnings: string[] = [];
  const data = cm ?? {};
  const rejected = detectImmutableChanges(running, data);
  const config: MainConfig = { ...running, cache: { ...running.cache }, warnings: [] };
  const iv = nonEmpty(data.GLOBAL_OPT_INTERVAL);
  if (iv !== undefined) {
    const ms = tryParseDuration(iv);
    if (ms === undefined || ms <= 0) {
      warnings.push(
        `GLOBAL_OPT_INTERVAL: "${iv}" is not a positive duration; keeping ${formatDuration(running.globalOptIntervalMs)}`,
      );
    } else config.globalOptIntervalMs = ms;
  }
  config.transitionTimeoutMs = readTransitionTimeout(
    data.TRANSITION_LOCK_TIMEOUT,
    running.transitionTimeoutMs,
    warnings,
  );
  if (CACHE_KEYS.some(([k]) => data[k] !== undefined)) config.cache = loadCacheConfig(data, warnings);
  for (const key of START_ONLY_KEYS) {
    if (previous !== undefined && data[key] !== previous[key])
      warnings.push(`${key}: read at start-up only; the change takes effect after a restart`);
  }
  config.warnings = warnings;
  return { config, rejected, warnings };
}
