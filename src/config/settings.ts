// Over 450 lines: a data table, one row per manager setting, kept whole so each setting is declared once.
/**
 * The manager's settings: one table from which the flag parser, `--help`, the loader with its
 * precedence, the runtime-change rules and the table in docs/user-guide/configuration.md are derived.
 * How the sources combine is described in docs/design/configuration-precedence.md.
 */

export const ACTUATORS = ["hpa", "direct"] as const;
/** Log output formats: one JSON object per line, or one readable line per entry. */
export const LOG_FORMATS = ["json", "text"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export type Actuator = (typeof ACTUATORS)[number];
export const METRICS_SOURCES = ["prometheus", "pods"] as const;
export type MetricsSourceName = (typeof METRICS_SOURCES)[number];

/**
 * What a change of the main ConfigMap does to a running manager: `runtime` = applied at once;
 * `restart` = logged, takes effect after a restart; `immutable` = rejected with a Warning event.
 * `process` settings come from the environment or the command line only.
 */
export type Mutability = "runtime" | "restart" | "immutable" | "process";

/**
 * How a boolean is read from the environment or a ConfigMap: `words` = true iff `true`, `1` or `yes`;
 * `exact` = true iff exactly `true`; `caseless` = true iff `true` in any case. Flags take Go's syntax.
 */
export type BoolText = "words" | "exact" | "caseless";

interface Common {
  /** Property of the loaded settings. */
  prop: string;
  /** Environment variable (and main ConfigMap key unless `envOnly`). */
  key?: string;
  /** Command-line flag without dashes. */
  flag?: string;
  /** Read from the environment only, never from the main ConfigMap. */
  envOnly?: boolean;
  /**
   * `prometheus`: the Prometheus connection group, read as a whole from the environment when it sets
   * `PROMETHEUS_BASE_URL`, else as a whole from the main ConfigMap.
   */
  group?: "prometheus";
  mutability: Mutability;
  /** Name of the parameter in the event of a rejected change (immutable settings). */
  label?: string;
  help: string;
}

export interface StringSetting extends Common {
  kind: "string";
  def: string;
}
export interface BoolSetting extends Common {
  kind: "bool";
  def: boolean;
  text?: BoolText;
}
export interface IntSetting extends Common {
  kind: "int";
  def: number;
  min: number;
  max: number;
}
/** Durations are milliseconds; `min` and `max` bound them (every max is below Node's timer limit). */
export interface DurationSetting extends Common {
  kind: "duration";
  def: number;
  min: number;
  max: number;
}
export interface EnumSetting extends Common {
  kind: "enum";
  def: string;
  values: readonly string[];
}
export type SettingDef = StringSetting | BoolSetting | IntSetting | DurationSetting | EnumSetting;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const SETTINGS = [
  {
    prop: "metricsBindAddress",
    key: "METRICS_BIND_ADDRESS",
    flag: "metrics-bind-address",
    kind: "string",
    def: "0",
    mutability: "immutable",
    label: "Metrics bind address",
    help: 'address the metrics endpoint binds to: ":8443" for HTTPS, ":8080" for HTTP, "0" to disable',
  },
  {
    prop: "healthProbeBindAddress",
    key: "HEALTH_PROBE_BIND_ADDRESS",
    flag: "health-probe-bind-address",
    kind: "string",
    def: ":8081",
    mutability: "immutable",
    label: "Health probe bind address",
    help: "address the /healthz and /readyz probes bind to",
  },
  {
    prop: "leaderElect",
    key: "LEADER_ELECT",
    flag: "leader-elect",
    kind: "bool",
    def: false,
    mutability: "restart",
    help: "enable leader election so that only one manager replica is active",
  },
  {
    prop: "leaderElectionID",
    key: "LEADER_ELECTION_ID",
    kind: "string",
    def: "72dd1cf1.llm-d.ai",
    mutability: "immutable",
    label: "Leader election ID",
    help: "name of the leader-election Lease (prefixed with CONTROLLER_INSTANCE when set)",
  },
  {
    prop: "metricsSecure",
    key: "METRICS_SECURE",
    flag: "metrics-secure",
    kind: "bool",
    def: true,
    mutability: "restart",
    help: "serve metrics over HTTPS with authentication and authorization (use --metrics-secure=false for HTTP)",
  },
  {
    prop: "webhookCertPath",
    key: "WEBHOOK_CERT_PATH",
    flag: "webhook-cert-path",
    kind: "string",
    def: "",
    mutability: "immutable",
    label: "Webhook certificate path",
    help: "directory holding the webhook certificate",
  },
  {
    prop: "webhookCertName",
    key: "WEBHOOK_CERT_NAME",
    flag: "webhook-cert-name",
    kind: "string",
    def: "tls.crt",
    mutability: "immutable",
    label: "Webhook certificate name",
    help: "webhook certificate file name",
  },
  {
    prop: "webhookCertKey",
    key: "WEBHOOK_CERT_KEY",
    flag: "webhook-cert-key",
    kind: "string",
    def: "tls.key",
    mutability: "immutable",
    label: "Webhook certificate key",
    help: "webhook key file name",
  },
  {
    prop: "metricsCertPath",
    key: "METRICS_CERT_PATH",
    flag: "metrics-cert-path",
    kind: "string",
    def: "",
    mutability: "immutable",
    label: "Metrics certificate path",
    help: "directory holding the metrics server certificate; empty = generate a self-signed one",
  },
  {
    prop: "metricsCertName",
    key: "METRICS_CERT_NAME",
    flag: "metrics-cert-name",
    kind: "string",
    def: "tls.crt",
    mutability: "immutable",
    label: "Metrics certificate name",
    help: "metrics server certificate file name",
  },
  {
    prop: "metricsCertKey",
    key: "METRICS_CERT_KEY",
    flag: "metrics-cert-key",
    kind: "string",
    def: "tls.key",
    mutability: "immutable",
    label: "Metrics certificate key",
    help: "metrics server key file name",
  },
  {
    prop: "enableHttp2",
    key: "ENABLE_HTTP2",
    flag: "enable-http2",
    kind: "bool",
    def: false,
    mutability: "restart",
    help: "allow HTTP/2 on the metrics and webhook servers (off: HTTP/1.1 only)",
  },
  {
    prop: "watchNamespace",
    key: "WATCH_NAMESPACE",
    flag: "watch-namespace",
    kind: "string",
    def: "",
    mutability: "restart",
    help: "watch only this namespace; empty = all namespaces",
  },
  {
    prop: "v",
    key: "V",
    flag: "v",
    kind: "int",
    def: 2,
    min: 0,
    max: 10,
    mutability: "restart",
    help: "log verbosity: 2 default, 3 verbose, 4 debug, 5 trace",
  },
  {
    prop: "logFormat",
    key: "WVA_LOG_FORMAT",
    flag: "log-format",
    envOnly: true,
    kind: "enum",
    def: "json",
    values: LOG_FORMATS,
    mutability: "process",
    help: "log output: json = one JSON object per line (for log collectors), text = one readable line per entry (local runs)",
  },
  {
    prop: "leaderElectionLeaseDurationMs",
    key: "LEADER_ELECTION_LEASE_DURATION",
    flag: "leader-election-lease-duration",
    kind: "duration",
    def: 60 * SECOND,
    min: 100,
    max: HOUR,
    mutability: "restart",
    help: "how long non-leaders wait before taking over an unrenewed lease; must exceed the renew deadline",
  },
  {
    prop: "leaderElectionRenewDeadlineMs",
    key: "LEADER_ELECTION_RENEW_DEADLINE",
    flag: "leader-election-renew-deadline",
    kind: "duration",
    def: 50 * SECOND,
    min: 100,
    max: HOUR,
    mutability: "restart",
    help: "how long the leader keeps retrying to renew before giving up leadership; must exceed 1.2 x the retry period",
  },
  {
    prop: "leaderElectionRetryPeriodMs",
    key: "LEADER_ELECTION_RETRY_PERIOD",
    flag: "leader-election-retry-period",
    kind: "duration",
    def: 10 * SECOND,
    min: 100,
    max: HOUR,
    mutability: "restart",
    help: "interval between leader election attempts",
  },
  {
    prop: "restClientTimeoutMs",
    key: "REST_CLIENT_TIMEOUT",
    flag: "rest-client-timeout",
    kind: "duration",
    def: 60 * SECOND,
    min: 100,
    max: HOUR,
    mutability: "restart",
    help: "timeout of Kubernetes API requests",
  },
  {
    prop: "actuator",
    flag: "actuator",
    kind: "enum",
    def: "hpa",
    values: ACTUATORS,
    mutability: "process",
    help: "how targets are acted on: hpa = publish wva_desired_replicas for an HPA or KEDA; direct = also set the target's replicas through the scale subresource",
  },
  {
    prop: "globalOptIntervalMs",
    key: "GLOBAL_OPT_INTERVAL",
    kind: "duration",
    def: 60 * SECOND,
    min: 100,
    max: 24 * HOUR,
    mutability: "runtime",
    help: "period of the engine loop",
  },
  {
    prop: "metricsScrapeIntervalMs",
    key: "METRICS_SCRAPE_INTERVAL",
    kind: "duration",
    def: 15 * SECOND,
    min: SECOND,
    max: 10 * MINUTE,
    mutability: "restart",
    help: "how often the pods' metrics are scraped; a pod whose newest sample is three intervals old is stale, and its model is not scaled down",
  },
  {
    prop: "scaleDownStabilizationMs",
    key: "DIRECT_SCALE_DOWN_STABILIZATION_WINDOW",
    kind: "duration",
    def: 5 * MINUTE,
    min: 0,
    max: HOUR,
    mutability: "restart",
    help: "direct actuator: a lower target is applied only once every target of this window was at most that low (like the HPA's scale-down stabilisation); 0 applies it at once",
  },
  {
    prop: "transitionTimeoutMs",
    key: "TRANSITION_LOCK_TIMEOUT",
    kind: "duration",
    def: 10 * MINUTE,
    min: SECOND,
    max: 24 * HOUR,
    mutability: "runtime",
    help: 'how long a model may stay "in transition" before WVA decides from its current replicas again',
  },
  {
    prop: "scaleToZero",
    key: "WVA_SCALE_TO_ZERO",
    kind: "bool",
    text: "caseless",
    def: false,
    mutability: "restart",
    help: "scale-to-zero for models the scale-to-zero ConfigMap says nothing about",
  },
  {
    prop: "eppMetricReaderBearerToken",
    key: "EPP_METRIC_READER_BEARER_TOKEN",
    kind: "string",
    def: "",
    mutability: "restart",
    help: "bearer token sent when scraping the endpoint pickers' metrics (scale from zero) and pods scraped directly (WVA_METRICS_SOURCE=pods)",
  },
  {
    prop: "poolGroup",
    key: "POOL_GROUP",
    kind: "enum",
    def: "inference.networking.x-k8s.io",
    values: ["inference.networking.x-k8s.io", "inference.networking.k8s.io"],
    mutability: "restart",
    help: "API group of the watched InferencePools: inference.networking.x-k8s.io (v1alpha2) or inference.networking.k8s.io (v1)",
  },
  {
    prop: "scaleFromZeroMaxConcurrency",
    key: "SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY",
    kind: "int",
    def: 10,
    min: 1,
    max: 1000,
    mutability: "restart",
    help: "models at zero replicas the scale-from-zero loop checks at once",
  },
  {
    prop: "nodeSelector",
    key: "WVA_NODE_SELECTOR",
    kind: "string",
    def: "",
    mutability: "restart",
    help: "label selector limiting GPU node discovery",
  },
  {
    prop: "baseURL",
    key: "PROMETHEUS_BASE_URL",
    group: "prometheus",
    kind: "string",
    def: "",
    mutability: "immutable",
    label: "Prometheus BaseURL",
    help: "Prometheus URL; required when Prometheus is the metrics source",
  },
  {
    prop: "tlsInsecureSkipVerify",
    key: "PROMETHEUS_TLS_INSECURE_SKIP_VERIFY",
    group: "prometheus",
    kind: "bool",
    text: "exact",
    def: false,
    mutability: "restart",
    help: "skip verification of Prometheus's certificate",
  },
  {
    prop: "caCertPath",
    key: "PROMETHEUS_CA_CERT_PATH",
    group: "prometheus",
    kind: "string",
    def: "",
    mutability: "restart",
    help: "CA bundle verifying Prometheus's certificate",
  },
  {
    prop: "clientCertPath",
    key: "PROMETHEUS_CLIENT_CERT_PATH",
    group: "prometheus",
    kind: "string",
    def: "",
    mutability: "restart",
    help: "client certificate (mutual TLS; set together with the key)",
  },
  {
    prop: "clientKeyPath",
    key: "PROMETHEUS_CLIENT_KEY_PATH",
    group: "prometheus",
    kind: "string",
    def: "",
    mutability: "restart",
    help: "client key (mutual TLS)",
  },
  {
    prop: "serverName",
    key: "PROMETHEUS_SERVER_NAME",
    group: "prometheus",
    kind: "string",
    def: "",
    mutability: "restart",
    help: "TLS server name expected from Prometheus",
  },
  {
    prop: "bearerToken",
    key: "PROMETHEUS_BEARER_TOKEN",
    group: "prometheus",
    kind: "string",
    def: "",
    mutability: "restart",
    help: "sent as `Authorization: Bearer <token>`",
  },
  {
    prop: "tokenPath",
    key: "PROMETHEUS_TOKEN_PATH",
    group: "prometheus",
    envOnly: true,
    kind: "string",
    def: "",
    mutability: "process",
    help: "file holding the bearer token, used when no token is set",
  },
  {
    prop: "systemNamespace",
    key: "POD_NAMESPACE",
    envOnly: true,
    kind: "string",
    def: "workload-variant-autoscaler-system",
    mutability: "process",
    help: "the controller namespace: global ConfigMaps, leader-election Lease, events",
  },
  {
    prop: "mainConfigMapName",
    key: "CONFIG_MAP_NAME",
    envOnly: true,
    kind: "string",
    def: "wva-variantautoscaling-config",
    mutability: "process",
    help: "name of the main ConfigMap",
  },
  {
    prop: "saturationConfigMapName",
    key: "SATURATION_CONFIG_MAP_NAME",
    envOnly: true,
    kind: "string",
    def: "wva-saturation-scaling-config",
    mutability: "process",
    help: "name of the saturation ConfigMap (global and namespace-local)",
  },
  {
    prop: "controllerInstance",
    key: "CONTROLLER_INSTANCE",
    envOnly: true,
    kind: "string",
    def: "",
    mutability: "process",
    help: "multi-controller isolation: only VAs labelled `wva.llmd.ai/controller-instance=<value>` are handled, every `wva_*` series carries `controller_instance`, and the Lease name is prefixed with the instance",
  },
  {
    prop: "prometheusAllowHttp",
    key: "PROMETHEUS_ALLOW_HTTP",
    envOnly: true,
    kind: "bool",
    text: "exact",
    def: false,
    mutability: "process",
    help: "allow an `http://` Prometheus URL on a non-loopback host (otherwise the bearer token would cross the network in clear text)",
  },
  {
    prop: "metricsSource",
    key: "WVA_METRICS_SOURCE",
    envOnly: true,
    kind: "enum",
    def: "prometheus",
    values: METRICS_SOURCES,
    mutability: "process",
    help: "`prometheus`, or `pods` to scrape each ready pod's `/metrics` directly (clusters without Prometheus)",
  },
] as const satisfies readonly SettingDef[];

type Row = (typeof SETTINGS)[number];
type ValueOf<S> = S extends { kind: "string" }
  ? string
  : S extends { kind: "bool" }
    ? boolean
    : S extends { kind: "int" | "duration" }
      ? number
      : S extends { values: ReadonlyArray<infer V> }
        ? V
        : never;

/** The manager's settings (every row outside the Prometheus group). Durations are milliseconds. */
export type Settings = {
  -readonly [S in Row as S extends { group: string } ? never : S["prop"]]: ValueOf<S>;
};

/** Prometheus connection settings (the `prometheus` group). */
export type PrometheusSettings = {
  -readonly [S in Row as S extends { group: "prometheus" } ? S["prop"] : never]: ValueOf<S>;
};

/** Settings that have a command-line flag. */
export type FlagSettings = {
  -readonly [S in Row as S extends { flag: string } ? S["prop"] : never]: ValueOf<S>;
};

/** The rows as the general definition type. */
export const SETTING_DEFS: readonly SettingDef[] = SETTINGS;

/** Defaults of every setting outside the Prometheus group. */
export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze(
  Object.fromEntries(
    SETTING_DEFS.filter((d) => d.group === undefined).map((d) => [d.prop, d.def]),
  ) as Settings,
);
