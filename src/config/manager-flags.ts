/**
 * Command-line flags of the controller manager (`./bin/manager`), compatible with upstream's
 * `cmd/main.go`: the same names, types and defaults, Go `flag` syntax (`--name value`, `--name=value`,
 * single or double dash; booleans take `--name` or `--name=false`), plus `--actuator`.
 *
 * `parseManagerArgs` is pure: it returns the typed flags and which of them were set explicitly (for the
 * flag > env > ConfigMap > default precedence), or throws UsageError naming the flag and the rule.
 */
import { UsageError } from "../cli/usage-error.js";
import { formatDuration, parseDuration } from "../util/duration.js";

export const ACTUATORS = ["hpa", "direct"] as const;
export type Actuator = (typeof ACTUATORS)[number];

export interface ManagerFlags {
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  leaderElect: boolean;
  metricsSecure: boolean;
  webhookCertPath: string;
  webhookCertName: string;
  webhookCertKey: string;
  metricsCertPath: string;
  metricsCertName: string;
  metricsCertKey: string;
  enableHttp2: boolean;
  watchNamespace: string;
  /** Log verbosity (2 = default, 3 = verbose, 4 = debug, 5 = trace). */
  v: number;
  /** Durations in milliseconds. */
  leaderElectionLeaseDuration: number;
  leaderElectionRenewDeadline: number;
  leaderElectionRetryPeriod: number;
  restClientTimeout: number;
  actuator: Actuator;
}

type Kind = "string" | "bool" | "int" | "duration" | "enum";

export interface FlagDef {
  /** Flag name without dashes. */
  name: string;
  key: keyof ManagerFlags;
  kind: Kind;
  help: string;
  /** Environment / main ConfigMap key of the same setting (wva-core 3.2), when there is one. */
  env?: string;
  values?: readonly string[];
}

export const MANAGER_FLAG_DEFAULTS: Readonly<ManagerFlags> = Object.freeze({
  metricsBindAddress: "0",
  healthProbeBindAddress: ":8081",
  leaderElect: false,
  metricsSecure: true,
  webhookCertPath: "",
  webhookCertName: "tls.crt",
  webhookCertKey: "tls.key",
  metricsCertPath: "",
  metricsCertName: "tls.crt",
  metricsCertKey: "tls.key",
  enableHttp2: false,
  watchNamespace: "",
  v: 2,
  leaderElectionLeaseDuration: 60_000,
  leaderElectionRenewDeadline: 50_000,
  leaderElectionRetryPeriod: 10_000,
  restClientTimeout: 60_000,
  actuator: "hpa",
});

export const MANAGER_FLAGS: readonly FlagDef[] = [
  {
    name: "metrics-bind-address",
    key: "metricsBindAddress",
    kind: "string",
    env: "METRICS_BIND_ADDRESS",
    help: 'address the metrics endpoint binds to: ":8443" for HTTPS, ":8080" for HTTP, "0" to disable',
  },
  {
    name: "health-probe-bind-address",
    key: "healthProbeBindAddress",
    kind: "string",
    env: "HEALTH_PROBE_BIND_ADDRESS",
    help: "address the /healthz and /readyz probes bind to",
  },
  {
    name: "leader-elect",
    key: "leaderElect",
    kind: "bool",
    env: "LEADER_ELECT",
    help: "enable leader election so that only one manager replica is active",
  },
  {
    name: "metrics-secure",
    key: "metricsSecure",
    kind: "bool",
    env: "METRICS_SECURE",
    help: "serve metrics over HTTPS with authentication and authorization (use --metrics-secure=false for HTTP)",
  },
  {
    name: "webhook-cert-path",
    key: "webhookCertPath",
    kind: "string",
    env: "WEBHOOK_CERT_PATH",
    help: "directory holding the webhook certificate",
  },
  {
    name: "webhook-cert-name",
    key: "webhookCertName",
    kind: "string",
    env: "WEBHOOK_CERT_NAME",
    help: "webhook certificate file name",
  },
  {
    name: "webhook-cert-key",
    key: "webhookCertKey",
    kind: "string",
    env: "WEBHOOK_CERT_KEY",
    help: "webhook key file name",
  },
  {
    name: "metrics-cert-path",
    key: "metricsCertPath",
    kind: "string",
    env: "METRICS_CERT_PATH",
    help: "directory holding the metrics server certificate; empty = generate a self-signed one",
  },
  {
    name: "metrics-cert-name",
    key: "metricsCertName",
    kind: "string",
    env: "METRICS_CERT_NAME",
    help: "metrics server certificate file name",
  },
  {
    name: "metrics-cert-key",
    key: "metricsCertKey",
    kind: "string",
    env: "METRICS_CERT_KEY",
    help: "metrics server key file name",
  },
  {
    name: "enable-http2",
    key: "enableHttp2",
    kind: "bool",
    env: "ENABLE_HTTP2",
    help: "allow HTTP/2 on the metrics and webhook servers (off: HTTP/1.1 only)",
  },
  {
    name: "watch-namespace",
    key: "watchNamespace",
    kind: "string",
    env: "WATCH_NAMESPACE",
    help: "watch only this namespace; empty = all namespaces",
  },
  {
    name: "v",
    key: "v",
    kind: "int",
    env: "V",
    help: "log verbosity: 2 default, 3 verbose, 4 debug, 5 trace",
  },
  {
    name: "leader-election-lease-duration",
    key: "leaderElectionLeaseDuration",
    kind: "duration",
    env: "LEADER_ELECTION_LEASE_DURATION",
    help: "how long non-leaders wait before taking over an unrenewed lease",
  },
  {
    name: "leader-election-renew-deadline",
    key: "leaderElectionRenewDeadline",
    kind: "duration",
    env: "LEADER_ELECTION_RENEW_DEADLINE",
    help: "how long the leader keeps retrying to renew before giving up leadership",
  },
  {
    name: "leader-election-retry-period",
    key: "leaderElectionRetryPeriod",
    kind: "duration",
    env: "LEADER_ELECTION_RETRY_PERIOD",
    help: "interval between leader election attempts",
  },
  {
    name: "rest-client-timeout",
    key: "restClientTimeout",
    kind: "duration",
    env: "REST_CLIENT_TIMEOUT",
    help: "timeout of Kubernetes API requests",
  },
  {
    name: "actuator",
    key: "actuator",
    kind: "enum",
    values: ACTUATORS,
    help: "how targets are acted on: hpa = publish wva_desired_replicas for an HPA or KEDA; direct = also set the target's replicas through the scale subresource",
  },
];

/** Flags handled by the program itself rather than the controller. */
const PROGRAM_FLAGS = ["help", "h", "version", "json"] as const;

export interface ParsedManagerArgs {
  flags: ManagerFlags;
  /** Keys of the flags given on the command line (a given flag wins over env and ConfigMap). */
  explicit: ReadonlySet<keyof ManagerFlags>;
  help: boolean;
  version: boolean;
  json: boolean;
}

const byName = new Map(MANAGER_FLAGS.map((d) => [d.name, d]));

function parseBool(def: FlagDef, text: string): boolean {
  // Go strconv.ParseBool
  if (["1", "t", "T", "true", "TRUE", "True"].includes(text)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(text)) return false;
  throw new UsageError(`invalid value "${text}" for flag --${def.name}: must be true or false`);
}

function parseValue(def: FlagDef, text: string): ManagerFlags[keyof ManagerFlags] {
  switch (def.kind) {
    case "string":
      return text;
    case "bool":
      return parseBool(def, text);
    case "int": {
      if (!/^\d+$/.test(text)) {
        throw new UsageError(
          `invalid value "${text}" for flag --${def.name}: must be a non-negative integer`,
        );
      }
      return Number(text);
    }
    case "duration": {
      let ms: number;
      try {
        ms = parseDuration(text);
      } catch {
        throw new UsageError(
          `invalid value "${text}" for flag --${def.name}: must be a duration such as 30s, 1m or 1h30m`,
        );
      }
      if (!(ms > 0))
        throw new UsageError(`invalid value "${text}" for flag --${def.name}: must be greater than 0`);
      return ms;
    }
    case "enum": {
      const values = def.values ?? [];
      if (!values.includes(text)) {
        throw new UsageError(
          `invalid value "${text}" for flag --${def.name}: must be one of ${values.join(", ")}`,
        );
      }
      return text as Actuator;
    }
  }
}

/** Parses the manager's arguments (without the node and script paths). Throws UsageError. */
export function parseManagerArgs(args: readonly string[]): ParsedManagerArgs {
  const flags: ManagerFlags = { ...MANAGER_FLAG_DEFAULTS };
  const values = flags as unknown as Record<string, unknown>;
  const explicit = new Set<keyof ManagerFlags>();
  const program = { help: false, version: false, json: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      if (i + 1 < args.length)
        throw new UsageError(`unexpected argument "${args[i + 1]}": the manager takes no arguments`);
      break;
    }
    const m = /^--?([^-=][^=]*)(?:=([\s\S]*))?$/.exec(arg);
    if (!m) throw new UsageError(`unexpected argument "${arg}": the manager takes no arguments`);
    const [, name, inline] = m;
    if ((PROGRAM_FLAGS as readonly string[]).includes(name)) {
      const on = inline === undefined ? true : parseBool({ name, key: "v", kind: "bool", help: "" }, inline);
      if (name === "h" || name === "help") program.help = on;
      else program[name as "version" | "json"] = on;
      continue;
    }
    const def = byName.get(name);
    if (!def) throw new UsageError(`unknown flag --${name} (see --help)`);
    let text: string;
    if (inline !== undefined) text = inline;
    else if (def.kind === "bool") text = "true";
    else if (i + 1 < args.length) text = args[++i];
    else throw new UsageError(`flag --${def.name} needs a value`);
    values[def.key] = parseValue(def, text);
    explicit.add(def.key);
  }
  if (program.json && !program.version) throw new UsageError("flag --json is only valid with --version");
  checkLeaderElection(flags);
  return { flags, explicit, ...program };
}

/** client-go's leader-election rules: lease > renew deadline > 1.2 x retry period. */
export function checkLeaderElection(f: ManagerFlags): void {
  if (!(f.leaderElectionLeaseDuration > f.leaderElectionRenewDeadline)) {
    throw new UsageError(
      `flag --leader-election-lease-duration (${formatDuration(f.leaderElectionLeaseDuration)}) must be greater than --leader-election-renew-deadline (${formatDuration(f.leaderElectionRenewDeadline)})`,
    );
  }
  if (!(f.leaderElectionRenewDeadline > 1.2 * f.leaderElectionRetryPeriod)) {
    throw new UsageError(
      `flag --leader-election-renew-deadline (${formatDuration(f.leaderElectionRenewDeadline)}) must be greater than 1.2 x --leader-election-retry-period (${formatDuration(f.leaderElectionRetryPeriod)})`,
    );
  }
}

function defaultText(def: FlagDef): string {
  const value = MANAGER_FLAG_DEFAULTS[def.key];
  if (def.kind === "duration") return formatDuration(value as number);
  if (def.kind === "string" || def.kind === "enum") return JSON.stringify(value);
  return String(value);
}

function argText(def: FlagDef): string {
  switch (def.kind) {
    case "bool":
      return "[=bool]";
    case "int":
      return "int";
    case "duration":
      return "duration";
    case "enum":
      return (def.values ?? []).join("|");
    default:
      return "string";
  }
}

/** The manager's `--help` text. */
export function managerHelp(): string {
  const rows: Array<[string, string]> = [
    ...MANAGER_FLAGS.map((d): [string, string] => [
      `--${d.name} ${argText(d)}`,
      `${d.help} (default ${defaultText(d)})`,
    ]),
    ["--version", "print the version and exit"],
    ["--json", "with --version: print the version as JSON"],
    ["-h, --help", "print this help and exit"],
  ];
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return [
    "Usage: manager [flags]",
    "",
    "WVA controller manager. Flags follow Go syntax: --name value, --name=value; booleans --name or --name=false.",
    "",
    "Flags:",
    ...rows.map(([l, r]) => `  ${l.padEnd(width)}${r}`),
    "",
  ].join("\n");
}
