/**
 * Command-line flags of the controller manager (`./bin/manager`), derived from the settings table:
 * upstream's names, types and defaults, Go `flag` syntax (`--name value`, `--name=value`, single or
 * double dash; booleans take `--name` or `--name=false`).
 *
 * `parseManagerArgs` is pure: it returns the typed values of the flags given (they win over the
 * environment and the ConfigMap) and the flag values with defaults, or throws UsageError naming the
 * flag and the rule.
 */
import { formatDuration, parseDuration } from "../util/duration.js";
import { ConfigFieldError, UsageError } from "./errors.js";
import { checkLeaderElection, checkSettingValue, rangeText } from "./main.js";
import { DEFAULT_SETTINGS, SETTING_DEFS, type FlagSettings, type SettingDef } from "./settings.js";

export { ACTUATORS, type Actuator } from "./settings.js";

/** The settings that have a flag, in table order. */
export const MANAGER_FLAGS: readonly SettingDef[] = SETTING_DEFS.filter((d) => d.flag !== undefined);

/** Defaults of the flag settings. */
export const MANAGER_FLAG_DEFAULTS: Readonly<FlagSettings> = Object.freeze(
  Object.fromEntries(
    MANAGER_FLAGS.map((d) => [d.prop, DEFAULT_SETTINGS[d.prop as keyof FlagSettings]]),
  ) as FlagSettings,
);

/** Flags handled by the program itself rather than the controller. */
const PROGRAM_FLAGS = ["help", "h", "version", "json"] as const;

export interface ParsedManagerArgs {
  /** Every flag setting: the given value, else the default. */
  flags: FlagSettings;
  /** Only the flags given on the command line (a given flag wins over env and ConfigMap). */
  given: Partial<FlagSettings>;
  help: boolean;
  version: boolean;
  json: boolean;
}

const byName = new Map(MANAGER_FLAGS.map((d) => [d.flag!, d]));

function invalid(name: string, text: string, rule: string): UsageError {
  return new UsageError(`invalid value "${text}" for flag --${name}: ${rule}`);
}

function parseBool(name: string, text: string): boolean {
  // Go strconv.ParseBool
  if (["1", "t", "T", "true", "TRUE", "True"].includes(text)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(text)) return false;
  throw invalid(name, text, "must be true or false");
}

function parseValue(def: SettingDef, text: string): unknown {
  const name = def.flag!;
  let value: unknown;
  switch (def.kind) {
    case "string":
      return text;
    case "bool":
      return parseBool(name, text);
    case "int":
      if (!/^-?\d+$/.test(text)) throw invalid(name, text, `must be an integer from ${rangeText(def)}`);
      value = Number(text);
      break;
    case "duration":
      try {
        value = parseDuration(text);
      } catch {
        throw invalid(name, text, "must be a duration such as 30s, 1m or 1h30m");
      }
      break;
    case "enum":
      value = text;
      break;
  }
  try {
    checkSettingValue(def, value, `--${name}`);
  } catch (err) {
    if (err instanceof ConfigFieldError) throw invalid(name, text, err.rule);
    throw err;
  }
  return value;
}

/** Parses the manager's arguments (without the node and script paths). Throws UsageError. */
export function parseManagerArgs(args: readonly string[]): ParsedManagerArgs {
  const given: Record<string, unknown> = {};
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
      const on = inline === undefined ? true : parseBool(name, inline);
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
    else throw new UsageError(`flag --${name} needs a value`);
    given[def.prop] = parseValue(def, text);
  }
  if (program.json && !program.version) throw new UsageError("flag --json is only valid with --version");
  const flags = { ...MANAGER_FLAG_DEFAULTS, ...given } as FlagSettings;
  try {
    checkLeaderElection(flags, (prop) => `flag --${MANAGER_FLAGS.find((d) => d.prop === prop)!.flag}`);
  } catch (err) {
    if (err instanceof ConfigFieldError) throw new UsageError(err.rule);
    throw err;
  }
  return { flags, given: given as Partial<FlagSettings>, ...program };
}

function defaultText(def: SettingDef): string {
  if (def.kind === "duration") return formatDuration(def.def);
  if (def.kind === "string" || def.kind === "enum") return JSON.stringify(def.def);
  return String(def.def);
}

function argText(def: SettingDef): string {
  switch (def.kind) {
    case "bool":
      return "[=bool]";
    case "enum":
      return def.values.join("|");
    default:
      return def.kind;
  }
}

/** The manager's `--help` text. */
export function managerHelp(): string {
  const rows: Array<[string, string]> = [
    ...MANAGER_FLAGS.map((d): [string, string] => {
      const range = d.kind === "int" || d.kind === "duration" ? `, range ${rangeText(d)}` : "";
      return [`--${d.flag} ${argText(d)}`, `${d.help}${range} (default ${defaultText(d)})`];
    }),
    ["--version", "print the version and exit"],
    ["--json", "with --version: print the version as JSON"],
    ["-h, --help", "print this help and exit"],
  ];
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return [
    "Usage: manager [flags]",
    "",
    "WVA controller manager. Flags follow Go syntax: --name value, --name=value; booleans --name or --name=false.",
    "Settings that also come from the environment or the main ConfigMap: docs/user-guide/configuration.md.",
    "",
    "Flags:",
    ...rows.map(([l, r]) => `  ${l.padEnd(width)}${r}`),
    "",
  ].join("\n");
}
