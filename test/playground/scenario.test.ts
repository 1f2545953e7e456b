import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DEFAULT_SLO,
  normalizeScenario,
  parseScenario,
  ScenarioError,
} from "../../src/playground/runner/scenario.js";
import { invalidCases, validDoc } from "./scenario-cases.js";

describe("playground scenario validation", () => {
  it("normalises a valid scenario: durations in ms, defaults applied", () => {
    const s = normalizeScenario(validDoc());
    assert.equal(s.name, "t");
    assert.equal(s.engineIntervalMs, 2000);
    assert.equal(s.durationMs, 60_000);
    assert.equal(s.actuation, "hpa");
    assert.deepEqual(s.hpa, {
      stabilizationWindowMs: 10_000,
      scaleUpStabilizationWindowMs: 10_000,
      tolerance: 0.1,
      syncPeriodMs: 2000,
    });
    assert.deepEqual(s.nodes[0], { spec: "2xH100:8", count: 2, accelerator: "H100", gpusPerNode: 8 });
    const [a, h] = s.models[0].variants;
    assert.equal(a.startupDelayMs, 1000);
    assert.equal(a.emulator.maxBatch, 8);
    assert.equal(a.emulator.kvBlocks, 2000, "unset emulator parameters take the defaults");
    assert.deepEqual(
      {
        gpus: h.gpusPerReplica,
        initial: h.initialReplicas,
        min: h.minReplicas,
        max: h.maxReplicas,
        startup: h.startupDelayMs,
      },
      { gpus: 1, initial: 1, min: 1, max: 8, startup: 0 },
    );
    assert.deepEqual(s.models[0].load.schedule, [
      { rate: 2, durationMs: 30_000 },
      { rate: 10, durationMs: 30_000 },
    ]);
    assert.equal(s.models[0].load.arrival, "poisson");
  });

  it("defaults: namespace, actuation, engine interval, duration from the longest schedule", () => {
    const d = validDoc() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    delete d.duration;
    delete d.actuation;
    delete d.engineInterval;
    delete d.hpa;
    delete d.models[0].namespace;
    const s = normalizeScenario(d);
    assert.equal(s.durationMs, 60_000);
    assert.equal(s.actuation, "hpa");
    assert.equal(s.engineIntervalMs, 5000);
    assert.equal(s.models[0].namespace, "default");
    assert.equal(s.hpa.tolerance, 0.1);
  });

  for (const c of invalidCases) {
    it(`rejects ${c.kind}, naming ${c.field}`, () => {
      const d = validDoc();
      c.edit(d);
      assert.throws(
        () => normalizeScenario(d),
        (err: unknown) => {
          assert.ok(err instanceof ScenarioError, String(err));
          assert.equal(err.field, c.field);
          assert.match(err.rule, c.rule);
          assert.ok(!err.message.includes("\n"), `one line: ${err.message}`);
          return true;
        },
      );
    });
  }

  it("reports YAML syntax errors with the line", () => {
    assert.throws(
      () => parseScenario("name: x\nnodes: [1xH100:8\nmodels: []\n"),
      /not valid YAML at line \d+/,
    );
  });

  it("rejects a document that is not a mapping", () => {
    assert.throws(() => parseScenario("- a\n- b\n"), /must be a YAML mapping/);
  });

  it("slo and routerTimeout: defaults and given values", () => {
    const s = normalizeScenario(validDoc());
    assert.deepEqual(s.models[0].slo, DEFAULT_SLO);
    assert.equal(s.routerTimeoutMs, 60_000);
    assert.deepEqual(s.baselines, { hpaKvTarget: 0.7, hpaQueueTarget: 5, oracleAttainment: 0.99 });
    const d = validDoc() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    d.routerTimeout = "90s";
    d.baselines = { oracleAttainment: 0.9 };
    d.models[0].slo = { ttftMs: 500, itlMs: 40 };
    const g = normalizeScenario(d);
    assert.equal(g.routerTimeoutMs, 90_000);
    assert.deepEqual(g.models[0].slo, { ttftMs: 500, itlMs: 40 });
    assert.deepEqual(g.baselines, { hpaKvTarget: 0.7, hpaQueueTarget: 5, oracleAttainment: 0.9 });
  });

  describe("trace files are checked as a run reads them", () => {
    const dir = mkdtempSync(join(tmpdir(), "wva-scenario-"));
    const header = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
    writeFileSync(join(dir, "garbage.csv"), "\u0000\u0001 not a trace at all\n");
    writeFileSync(join(dir, "header-only.csv"), header);
    writeFileSync(join(dir, "bad-row.csv"), `${header}2023-11-16 18:17:03.97,10,5\nyesterday,1,1\n`);
    writeFileSync(join(dir, "late.csv"), `${header}2023-11-16 18:00:00.0,10,5\n2023-11-16 19:00:00.0,10,5\n`);
    mkdirSync(join(dir, "folder.csv"));
    const cases: Array<[string, RegExp, Record<string, unknown>?]> = [
      ["missing.csv", /file not found/],
      ["folder.csv", /is a directory/],
      ["garbage.csv", /TIMESTAMP,ContextTokens,GeneratedTokens/],
      ["header-only.csv", /no request rows/],
      ["bad-row.csv", /line 3: cannot parse/],
      ["late.csv", /no requests between the start and the end/, { start: "10m" }],
    ];
    after(() => rmSync(dir, { recursive: true, force: true }));
    for (const [file, rule, extra] of cases) {
      it(`refuses ${file}`, () => {
        const d = validDoc() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
        delete d.models[0].load.schedule;
        d.models[0].load.trace = { file, ...extra };
        assert.throws(
          () => normalizeScenario(d, dir),
          (err: unknown) => {
            assert.ok(err instanceof ScenarioError, String(err));
            assert.equal(err.field, "models[0].load.trace.file");
            assert.match(err.rule, rule);
            return true;
          },
        );
      });
    }
    if (process.getuid?.() !== 0) {
      it("refuses an unreadable trace", () => {
        const f = join(dir, "locked.csv");
        writeFileSync(f, header);
        chmodSync(f, 0);
        const d = validDoc() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
        delete d.models[0].load.schedule;
        d.models[0].load.trace = { file: f };
        assert.throws(() => normalizeScenario(d, dir), /cannot read/);
      });
    }
  });

  it("every shipped example scenario is valid", () => {
    const dir = "examples/scenarios";
    const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
    assert.ok(files.length >= 3);
    for (const f of files) {
      const s = parseScenario(readFileSync(join(dir, f), "utf8"), dir);
      assert.ok(s.models.length > 0, f);
    }
  });
});
