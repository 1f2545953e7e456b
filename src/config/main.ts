/**
 * Loads the manager's settings from the table in settings.ts: flag > environment > main ConfigMap >
 * default, every value checked against its range; and applies runtime changes of the main ConfigMap.
 * The rules are described in docs/design/configuration-precedence.md.
 */
import { formatDuration, tryParseDuration } from "../util/duration.js";
import { ConfigFieldError } from "./errors.js";
import {
  SETTING_DEFS,
  type FlagSettings,
  type PrometheusSettings,
  type SettingDef,
  type Settings,
} from "./settings.js";

/** Prometheus connection settings and where they came from. */
export interface PrometheusConfig extends PrometheusSettings {
  /** All from the environment when it sets PROMETHEUS_BASE_URL, else all from the main ConfigMap. */
  source: "env" | "configmap";
}

/** The whole main configuration. */
export interface MainConfig extends Settings {
  /** Undefined when no Prometheus URL is configured and Prometheus is not the metrics source. */
  prometheus?: PrometheusConfig;
  /** Values that were ignored (unparsable) and what was used instead. */
  warnings: string[];
}

type TextMap = Record<string, string | undefined>;

/** Inputs of {@link loadMainConfig}. */
export interface MainConfigSources {
  /** Only the flags given explicitly (on the command line or by the embedding program). */
  flags?: Partial<FlagSettings>;
  env?: TextMap;
  /** Data of the main ConfigMap. */
  configMap?: TextMap;
}

const TRUE_WORDS = ["true", "1", "yes"];

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === "" ? undefined : v;
}

/** The text form of a value, as in the docs and in messages. */
export function formatSettingValue(def: SettingDef, value: unknown): string {
  return def.kind === "duration" ? formatDuration(value as number) : String(value);
}

/** The allowed range of a setting in words, or undefined when any value of its type is allowed. */
export function rangeText(def: SettingDef): string | undefined {
  if (def.kind === "int") return `${def.min} to ${def.max}`;
  if (def.kind === "duration") return `${formatDuration(def.min)} to ${formatDuration(def.max)}`;
  if (def.kind === "enum") return def.values.join(", ");
  return undefined;
}

/** The rule a value breaks, or undefined when it is in range. */
function ruleBroken(def: SettingDef, value: unknown): string | undefined {
  if (def.kind === "int" || def.kind === "duration") {
    const n = value as number;
    if (!Number.isFinite(n) || n < def.min || n > def.max || (def.kind === "int" && !Number.isInteger(n))) {
      return `must be ${def.kind === "int" ? "an integer" : "a duration"} from ${rangeText(def)}, got ${
        Number.isFinite(n) ? formatSettingValue(def, n) : String(n)
      }`;
    }
  }
  if (def.kind === "enum" && !def.values.includes(value as string))
    return `must be one of ${def.values.join(", ")}, got "${String(value)}"`;
  return undefined;
}

/** Checks a value against its setting's range; throws ConfigFieldError naming `field`. */
export function checkSettingValue(def: SettingDef, value: unknown, field: string): void {
  const rule = ruleBroken(def, value);
  if (rule !== undefined) throw new ConfigFieldError(field, rule);
}

/**
 * Parses the text of a setting from the environment or a ConfigMap. Returns undefined for an empty
 * value; `{ invalid }` names what the text is not.
 */
function parseText(
  def: SettingDef,
  text: string | undefined,
): { value: unknown } | { invalid: string } | undefined {
  const v = nonEmpty(text);
  if (v === undefined) return undefined;
  switch (def.kind) {
    case "string":
    case "enum":
      return { value: v };
    case "bool": {
      const text = def.text ?? "words";
      if (text === "exact") return { value: v === "true" };
      if (text === "caseless") return { value: v.toLowerCase() === "true" };
      return { value: TRUE_WORDS.includes(v) };
    }
    case "int":
      return /^[+-]?\d+$/.test(v.trim()) ? { value: Number(v.trim()) } : { invalid: "integer" };
    case "duration": {
      const ms = tryParseDuration(v);
      return ms === undefined ? { invalid: "duration" } : { value: ms };
    }
  }
}

const WHERE = { env: "the environment", configMap: "the main ConfigMap" } as const;

/**
 * One setting from one text source: undefined when unset or unparsable (an unparsable value is
 * reported in `warnings`, except for enums, which are refused); out-of-range values are refused.
 */
function fromSource(
  def: SettingDef,
  map: TextMap | undefined,
  where: keyof typeof WHERE,
  warnings: string[],
): unknown {
  const key = def.key ?? def.prop;
  const parsed = parseText(def, map?.[key]);
  if (parsed === undefined) return undefined;
  if ("invalid" in parsed) {
    warnings.push(`${key}: invalid ${parsed.invalid} "${map?.[key]}" in ${WHERE[where]}; ignored`);
    return undefined;
  }
  checkSettingValue(def, parsed.value, `${key} (${WHERE[where]})`);
  return parsed.value;
}

/** The value of one setting outside the Prometheus group, by precedence flag > env > ConfigMap > default. */
function resolve(def: SettingDef, src: MainConfigSources, warnings: string[]): unknown {
  if (def.flag !== undefined) {
    const flag = (src.flags as Record<string, unknown> | undefined)?.[def.prop];
    if (flag !== undefined) {
      checkSettingValue(def, flag, `--${def.flag}`);
      return flag;
    }
  }
  if (def.key === undefined) return def.def;
  return (
    fromSource(def, src.env, "env", warnings) ??
    (def.envOnly ? undefined : fromSource(def, src.configMap, "configMap", warnings)) ??
    def.def
  );
}

/** One setting (outside the Prometheus group) read from the given sources. */
export function readSetting<K extends keyof Settings>(prop: K, src: MainConfigSources): Settings[K] {
  const def = SETTING_DEFS.find((d) => d.prop === prop);
  if (def === undefined) throw new Error(`unknown setting ${String(prop)}`);
  return resolve(def, src, []) as Settings[K];
}

interface LeaseTimes {
  leaderElectionLeaseDurationMs: number;
  leaderElectionRenewDeadlineMs: number;
  leaderElectionRetryPeriodMs: number;
}

/**
 * client-go's leader-election rules: lease duration > renew deadline > 1.2 x retry period. `name`
 * gives the name of each setting as the user wrote it (flag or key).
 */
export function checkLeaderElection(t: LeaseTimes, name: (prop: keyof LeaseTimes) => string): void {
  const text = (p: keyof LeaseTimes) => `${name(p)} (${formatDuration(t[p])})`;
  if (!(t.leaderElectionLeaseDurationMs > t.leaderElectionRenewDeadlineMs)) {
    throw new ConfigFieldError(
      name("leaderElectionLeaseDurationMs"),
      `${text("leaderElectionLeaseDurationMs")} must be greater than ${text("leaderElectionRenewDeadlineMs")}`,
    );
  }
  if (!(t.leaderElectionRenewDeadlineMs > 1.2 * t.leaderElectionRetryPeriodMs)) {
    throw new ConfigFieldError(
      name("leaderElectionRenewDeadlineMs"),
      `${text("leaderElectionRenewDeadlineMs")} must be greater than 1.2 x ${text("leaderElectionRetryPeriodMs")}`,
    );
  }
}

/** Where a setting's value came from, in the words the user wrote it. */
function sourceName(def: SettingDef, src: MainConfigSources): string {
  if (def.flag !== undefined && (src.flags as Record<string, unknown> | undefined)?.[def.prop] !== undefined)
    return `--${def.flag}`;
  const key = def.key ?? def.prop;
  if (nonEmpty(src.env?.[key]) !== undefined) return `${key} (${WHERE.env})`;
  if (nonEmpty(src.configMap?.[key]) !== undefined) return `${key} (${WHERE.configMap})`;
  return `${key} (default)`;
}

/**
 * Prometheus settings: all from the environment when it sets `PROMETHEUS_BASE_URL`, else all from the
 * main ConfigMap (the token file only from the environment). Throws when neither has a base URL.
 */
export function loadPrometheusConfig(src: MainConfigSources): PrometheusConfig {
  const fromEnv = nonEmpty(src.env?.PROMETHEUS_BASE_URL) !== undefined;
  const out: Record<string, unknown> = { source: fromEnv ? "env" : "configmap" };
  for (const def of SETTING_DEFS) {
    if (def.group !== "prometheus") continue;
    const map = fromEnv ? src.env : def.envOnly ? undefined : src.configMap;
    out[def.prop] = fromSource(def, map, fromEnv ? "env" : "configMap", []) ?? def.def;
  }
  const cfg = out as unknown as PrometheusConfig;
  if (cfg.baseURL === "") {
    throw new ConfigFieldError(
      "PROMETHEUS_BASE_URL",
      "no Prometheus configuration found. Please set PROMETHEUS_BASE_URL environment variable or configure via ConfigMap",
    );
  }
  return cfg;
}

/**
 * Loads the main configuration at start-up. Throws ConfigFieldError naming the field when a value is
 * out of its range, when the leader-election durations break their relations, or, with
 * `requirePrometheus` (the default), when there is no Prometheus base URL. Unparsable values in the
 * environment or the ConfigMap count as unset and are listed in `warnings`.
 */
export function loadMainConfig(
  src: MainConfigSources,
  opts: { requirePrometheus?: boolean } = {},
): MainConfig {
  const warnings: string[] = [];
  const out: Record<string, unknown> = {};
  for (const def of SETTING_DEFS) if (def.group === undefined) out[def.prop] = resolve(def, src, warnings);
  const settings = out as unknown as Settings;
  checkLeaderElection(settings, (prop) =>
    sourceName(
      SETTING_DEFS.find((d) => d.prop === prop)!,
      src,
    ),
  );
  let prometheus: PrometheusConfig | undefined;
  try {
    prometheus = loadPrometheusConfig(src);
  } catch (err) {
    if (opts.requirePrometheus ?? true) throw err;
  }
  return { ...settings, prometheus, warnings };
}

/** A rejected runtime change of a key that needs a restart. */
export interface ImmutableChange {
  key: string;
  /** Human-readable parameter name, e.g. "Prometheus BaseURL". */
  parameter: string;
  old: string;
  new: string;
}

function runningValue(running: MainConfig, def: SettingDef): unknown {
  const holder = (def.group === "prometheus" ? (running.prometheus ?? {}) : running) as Record<
    string,
    unknown
  >;
  return holder[def.prop] ?? def.def;
}

/** Settings of the main ConfigMap with the given mutability. */
function mainConfigMapRows(mutability: SettingDef["mutability"]): SettingDef[] {
  return SETTING_DEFS.filter((d) => d.key !== undefined && !d.envOnly && d.mutability === mutability);
}

/**
 * Immutable keys present in an updated main ConfigMap whose value differs from the running config. An
 * empty result means the update can be applied as is.
 */
export function detectImmutableChanges(running: MainConfig, cm: TextMap | undefined): ImmutableChange[] {
  const out: ImmutableChange[] = [];
  for (const def of mainConfigMapRows("immutable")) {
    const v = nonEmpty(cm?.[def.key!]);
    if (v === undefined) continue;
    const old = formatSettingValue(def, runningValue(running, def));
    if (v !== old) out.push({ key: def.key!, parameter: def.label ?? def.key!, old, new: v });
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
  /** Ignored values (unparsable, out of range, start-only keys changed). */
  warnings: string[];
}

/**
 * Applies a runtime update of the main ConfigMap: immutable changes are rejected (and returned); the
 * runtime settings present are applied, an unparsable or out-of-range value keeps the running one.
 * Every key present of a setting read at start-up only is reported in `warnings`; the caller passes
 * only the keys whose value changed.
 */
export function applyRuntimeUpdate(running: MainConfig, cm: TextMap | undefined): RuntimeUpdate {
  const warnings: string[] = [];
  const data = cm ?? {};
  const rejected = detectImmutableChanges(running, data);
  const config: MainConfig = { ...running, warnings: [] };
  const values = config as unknown as Record<string, unknown>;
  for (const def of mainConfigMapRows("runtime")) {
    const key = def.key!;
    const parsed = parseText(def, data[key]);
    if (parsed === undefined) continue;
    const keep = `keeping ${formatSettingValue(def, values[def.prop])}`;
    if ("invalid" in parsed) warnings.push(`${key}: invalid ${parsed.invalid} "${data[key]}"; ${keep}`);
    else {
      const rule = ruleBroken(def, parsed.value);
      if (rule !== undefined) warnings.push(`${key}: ${rule}; ${keep}`);
      else values[def.prop] = parsed.value;
    }
  }
  for (const def of mainConfigMapRows("restart")) {
    const key = def.key!;
    if (data[key] === undefined) continue;
    warnings.push(`${key}: read at start-up only; the change takes effect after a restart`);
  }
  config.warnings = warnings;
  return { config, rejected, warnings };
}
