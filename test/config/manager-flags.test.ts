import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UsageError } from "../../src/config/errors.js";
import {
  MANAGER_FLAG_DEFAULTS,
  MANAGER_FLAGS,
  managerHelp,
  parseManagerArgs,
} from "../../src/config/manager-flags.js";

/** The flags of the upstream Go manager with their defaults as printed by --help, plus --actuator and --log-format. */
const UPSTREAM: Array<[string, string]> = [
  ["metrics-bind-address", '"0"'],
  ["health-probe-bind-address", '":8081"'],
  ["leader-elect", "false"],
  ["metrics-secure", "true"],
  ["webhook-cert-path", '""'],
  ["webhook-cert-name", '"tls.crt"'],
  ["webhook-cert-key", '"tls.key"'],
  ["metrics-cert-path", '""'],
  ["metrics-cert-name", '"tls.crt"'],
  ["metrics-cert-key", '"tls.key"'],
  ["enable-http2", "false"],
  ["watch-namespace", '""'],
  ["v", "2"],
  ["leader-election-lease-duration", "1m0s"],
  ["leader-election-renew-deadline", "50s"],
  ["leader-election-retry-period", "10s"],
  ["rest-client-timeout", "1m0s"],
  ["actuator", '"hpa"'],
  ["log-format", '"json"'],
];

function usageError(args: string[], message: RegExp): void {
  assert.throws(
    () => parseManagerArgs(args),
    (err: unknown) => err instanceof UsageError && message.test(err.message),
  );
}

describe("manager flags", () => {
  it("--help lists every upstream flag and --actuator with its default", () => {
    const help = managerHelp();
    for (const [name, def] of UPSTREAM) {
      const line = help.split("\n").find((l) => l.trimStart().startsWith(`--${name} `));
      assert.ok(line, `--${name} missing from --help`);
      assert.ok(line.endsWith(`(default ${def})`), `--${name}: ${line}`);
    }
    assert.equal(MANAGER_FLAGS.length, UPSTREAM.length);
  });

  it("no arguments give the defaults and nothing explicit", () => {
    const p = parseManagerArgs([]);
    assert.deepEqual(p.flags, MANAGER_FLAG_DEFAULTS);
    assert.equal(p.flags.leaderElectionLeaseDurationMs, 60_000);
    assert.equal(p.flags.actuator, "hpa");
    assert.deepEqual(p.given, {});
    assert.deepEqual([p.help, p.version, p.json], [false, false, false]);
  });

  it("every definition's kind matches the type of its default", () => {
    for (const d of MANAGER_FLAGS) {
      const v = MANAGER_FLAG_DEFAULTS[d.prop as keyof typeof MANAGER_FLAG_DEFAULTS];
      const expected = {
        string: "string",
        enum: "string",
        bool: "boolean",
        int: "number",
        duration: "number",
      }[d.kind];
      assert.equal(typeof v, expected, d.flag);
    }
  });

  it("accepts Go flag syntax: --name value, --name=value, -name, bare and =false booleans", () => {
    const p = parseManagerArgs([
      "--metrics-bind-address=:8443",
      "-health-probe-bind-address",
      ":9091",
      "--leader-elect",
      "--metrics-secure=false",
      "--enable-http2=1",
      "--watch-namespace",
      "team-a",
      "--v=4",
      "--leader-election-lease-duration=30s",
      "--leader-election-renew-deadline",
      "20s",
      "--leader-election-retry-period=5s",
      "--rest-client-timeout=1m30s",
      "--actuator=direct",
    ]);
    assert.equal(p.flags.metricsBindAddress, ":8443");
    assert.equal(p.flags.healthProbeBindAddress, ":9091");
    assert.equal(p.flags.leaderElect, true);
    assert.equal(p.flags.metricsSecure, false);
    assert.equal(p.flags.enableHttp2, true);
    assert.equal(p.flags.watchNamespace, "team-a");
    assert.equal(p.flags.v, 4);
    assert.equal(p.flags.leaderElectionLeaseDurationMs, 30_000);
    assert.equal(p.flags.leaderElectionRenewDeadlineMs, 20_000);
    assert.equal(p.flags.leaderElectionRetryPeriodMs, 5_000);
    assert.equal(p.flags.restClientTimeoutMs, 90_000);
    assert.equal(p.flags.actuator, "direct");
    assert.equal(Object.keys(p.given).length, 12);
    assert.equal(p.given.metricsSecure, false);
  });

  it("a bare boolean does not consume the next argument", () => {
    usageError(["--leader-elect", "false"], /^unexpected argument "false"/);
  });

  it("an explicitly given default still counts as explicit; the last occurrence wins", () => {
    const p = parseManagerArgs(["--v=2", "--watch-namespace=a", "--watch-namespace=b"]);
    assert.equal(p.given.v, 2);
    assert.equal(p.flags.watchNamespace, "b");
  });

  it("--version, --json, --help and -h", () => {
    assert.deepEqual(
      (({ help, version, json }) => ({ help, version, json }))(parseManagerArgs(["--version", "--json"])),
      { help: false, version: true, json: true },
    );
    assert.equal(parseManagerArgs(["-h"]).help, true);
    assert.equal(parseManagerArgs(["--help"]).help, true);
  });

  it("bad values are usage errors naming the flag and the rule", () => {
    usageError(["--leader-elect=maybe"], /flag --leader-elect: must be true or false/);
    usageError(["--metrics-secure=yes"], /flag --metrics-secure: must be true or false/);
    usageError(["--v=x"], /flag --v: must be an integer from 0 to 10/);
    usageError(["--v=-1"], /flag --v: must be an integer from 0 to 10, got -1/);
    usageError(["--rest-client-timeout=abc"], /flag --rest-client-timeout: must be a duration/);
    usageError(["--rest-client-timeout=10"], /flag --rest-client-timeout: must be a duration/);
    usageError(
      ["--rest-client-timeout=0s"],
      /flag --rest-client-timeout: must be a duration from 100ms to 1h0m0s, got 0s/,
    );
    usageError(
      ["--leader-election-retry-period=-5s"],
      /flag --leader-election-retry-period: must be a duration from 100ms to 1h0m0s, got -5s/,
    );
    // 600h overflowed Node's timers: the elector then retried every millisecond
    usageError(
      ["--leader-election-retry-period=600h"],
      /flag --leader-election-retry-period: must be a duration from 100ms to 1h0m0s, got 600h0m0s/,
    );
    usageError(["--actuator=keda"], /flag --actuator: must be one of hpa, direct, got "keda"/);
    usageError(["--watch-namespace"], /flag --watch-namespace needs a value/);
    usageError(["--no-such-flag"], /^unknown flag --no-such-flag/);
    usageError(["--zap-devel"], /^unknown flag --zap-devel/);
    usageError(["run"], /^unexpected argument "run"/);
    usageError(["--", "x"], /^unexpected argument "x"/);
    usageError(["--json"], /--json is only valid with --version/);
    usageError(["--version=maybe"], /flag --version: must be true or false/);
  });

  it("leader-election durations must keep lease > renew deadline > 1.2 x retry period", () => {
    usageError(
      ["--leader-election-renew-deadline=70s"],
      /flag --leader-election-lease-duration \(1m0s\) must be greater than flag --leader-election-renew-deadline \(1m10s\)/,
    );
    usageError(
      ["--leader-election-retry-period=45s"],
      /flag --leader-election-renew-deadline \(50s\) must be greater than 1\.2 x flag --leader-election-retry-period \(45s\)/,
    );
    assert.doesNotThrow(() => parseManagerArgs(["--leader-election-retry-period=41s"]));
  });
});
