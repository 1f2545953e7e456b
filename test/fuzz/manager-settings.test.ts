import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ConfigFieldError, UsageError } from "../../src/config/errors.js";
import { MANAGER_FLAGS, parseManagerArgs } from "../../src/config/manager-flags.js";
import { loadMainConfig } from "../../src/config/main.js";
import { SETTING_DEFS } from "../../src/config/settings.js";
import { MAX_TIMER_DELAY_MS } from "../../src/util/timer.js";
import { Tally, bounded, fuzzParameters, numberish } from "./support.js";

/** A value for a setting: mostly of its kind, sometimes hostile. */
const settingValue = fc.oneof(
  numberish,
  fc.constantFrom(
    "true",
    "false",
    "yes",
    "0",
    "1",
    "hpa",
    "direct",
    "pods",
    "json",
    "text",
    "http://127.0.0.1:9090",
  ),
  fc.string({ maxLength: 20 }),
);

const flagNames = MANAGER_FLAGS.map((d) => d.flag!);
const keys = SETTING_DEFS.flatMap((d) => (d.key ? [d.key] : []));

/** A rejection names the flag or setting it is about. */
function namesSetting(message: string): boolean {
  return (
    flagNames.some((f) => message.includes(`--${f}`)) ||
    keys.some((k) => message.includes(k)) ||
    /^unexpected argument|^unknown flag|^flag /.test(message)
  );
}

describe("fuzz: manager flags and environment", () => {
  it("command lines: parsed within every range or refused (exit 2) naming the flag", () => {
    const tally = new Tally("manager flags");
    const arg = fc.oneof(
      {
        arbitrary: fc.tuple(fc.constantFrom(...flagNames), settingValue).map(([f, v]) => `--${f}=${v}`),
        weight: 4,
      },
      { arbitrary: fc.constantFrom(...flagNames).map((f) => `--${f}`), weight: 1 },
      { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
    );
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 4 }), (args) => {
        tally.tried++;
        let parsed: ReturnType<typeof parseManagerArgs>;
        try {
          parsed = bounded("parseManagerArgs", () => parseManagerArgs(args));
        } catch (e) {
          tally.rejected++;
          assert.ok(e instanceof UsageError, `not a usage error: ${(e as Error).stack}`);
          assert.ok(namesSetting(e.message), e.message);
          assert.doesNotMatch(e.message, /\n/);
          return;
        }
        tally.accepted++;
        for (const d of MANAGER_FLAGS) {
          const v = (parsed.flags as Record<string, unknown>)[d.prop];
          if (d.kind === "duration" || d.kind === "int") {
            assert.ok(typeof v === "number" && v >= d.min && v <= d.max, `${d.prop} = ${String(v)}`);
          }
        }
      }),
      fuzzParameters(),
    );
    tally.report();
  });

  it("environment and main ConfigMap: loaded within every range or refused naming the setting", () => {
    const tally = new Tally("manager environment and ConfigMap");
    const textMap = fc.dictionary(fc.constantFrom(...keys), settingValue, { maxKeys: 5 });
    fc.assert(
      fc.property(textMap, textMap, (env, configMap) => {
        tally.tried++;
        let cfg: ReturnType<typeof loadMainConfig>;
        try {
          cfg = bounded("loadMainConfig", () =>
            loadMainConfig(
              { env: { PROMETHEUS_BASE_URL: "http://127.0.0.1:9090", ...env }, configMap },
              {
                requirePrometheus: false,
              },
            ),
          );
        } catch (e) {
          tally.rejected++;
          assert.ok(
            e instanceof ConfigFieldError || e instanceof UsageError,
            `unexpected: ${(e as Error).stack}`,
          );
          assert.ok(namesSetting(e.message), e.message);
          assert.doesNotMatch(e.message, /\n/);
          return;
        }
        tally.accepted++;
        for (const d of SETTING_DEFS) {
          if (d.group !== undefined || (d.kind !== "duration" && d.kind !== "int")) continue;
          const v = (cfg as unknown as Record<string, unknown>)[d.prop];
          assert.ok(typeof v === "number" && v >= d.min && v <= d.max, `${d.prop} = ${String(v)}`);
          if (d.kind === "duration") assert.ok((v as number) <= MAX_TIMER_DELAY_MS);
        }
        assert.ok(cfg.leaderElectionLeaseDurationMs > cfg.leaderElectionRenewDeadlineMs);
      }),
      fuzzParameters(),
    );
    tally.report();
  });
});
