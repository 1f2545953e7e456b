// The hot-reloaded configuration on its own: ConfigMap events in, resolved settings, events and logs out.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { loadMainConfig } from "../../src/config/main.js";
import { ConfigWatch, type ConfigWatchOptions } from "../../src/controller/config-watch.js";
import type { ConfigMap } from "../../src/controller/kube/objects.js";

const SYS = "wva-system";
const MAIN = "main-config";
const SAT = "saturation-config";
const STZ = "wva-model-scale-to-zero-config";
const START_DATA = { PROMETHEUS_BASE_URL: "https://prometheus-initial:9090", WVA_NODE_SELECTOR: "a=b" };

const sat = (kv: number) => ({
  default: `kvCacheThreshold: ${kv}\nqueueLengthThreshold: 5\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 3`,
});
const cm = (namespace: string, name: string, data: Record<string, string> = {}): ConfigMap => ({
  kind: "ConfigMap",
  metadata: { namespace, name },
  data,
});

function setup(over: Partial<ConfigWatchOptions> = {}) {
  const events: Array<{ reason: string; message: string }> = [];
  const logs: Array<{ level: number; msg: string }> = [];
  const log = pino({ level: "info" }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const tracked = new Set<string>();
  const w = new ConfigWatch(
    loadMainConfig({ configMap: START_DATA }),
    {
      systemNamespace: SYS,
      watchNamespace: "",
      mainName: MAIN,
      saturationName: SAT,
      tracked: (ns) => tracked.has(ns),
      events: { record: async (_obj, _type, reason, message) => void events.push({ reason, message }) },
      log,
      ...over,
    },
    START_DATA,
  );
  return { w, events, logs, tracked };
}

describe("ConfigWatch", () => {
  it("without a saturation ConfigMap the shipped defaults apply; a global update takes effect", () => {
    const { w } = setup();
    assert.equal(w.saturationFor("m", "ns")?.kvCacheThreshold, 0.8);
    w.onUpsert(cm(SYS, SAT, sat(0.75)));
    assert.equal(w.saturationFor("m", "ns")?.kvCacheThreshold, 0.75);
  });

  it("an invalid saturation ConfigMap is rejected as a whole with a Warning event; the last good one stays", () => {
    const { w, events } = setup();
    w.onUpsert(cm(SYS, SAT, sat(0.7)));
    w.onUpsert(cm(SYS, SAT, { default: "invalid: yaml: content: [[[" }));
    assert.equal(w.saturationFor("m", "ns")?.kvCacheThreshold, 0.7);
    assert.deepEqual(
      events.map((e) => e.reason),
      ["InvalidSaturationConfig"],
    );
    assert.match(events[0].message, /rejected, the last valid configuration stays in effect: default: /);
  });

  it("deleting the global saturation ConfigMap keeps the last configuration", () => {
    const { w } = setup();
    w.onUpsert(cm(SYS, SAT, sat(0.7)));
    w.onDelete(cm(SYS, SAT));
    assert.equal(w.saturationFor("m", "ns")?.kvCacheThreshold, 0.7);
  });

  it("a namespace-local saturation ConfigMap applies once its namespace is tracked, and stops on delete", () => {
    const { w, tracked } = setup();
    w.onUpsert(cm(SYS, SAT, sat(0.8)));
    w.onUpsert(cm("team-a", SAT, sat(0.6)));
    assert.equal(w.saturationFor("m", "team-a")?.kvCacheThreshold, 0.8); // not tracked yet
    tracked.add("team-a");
    assert.equal(w.saturationFor("m", "team-a")?.kvCacheThreshold, 0.6);
    assert.equal(w.saturationFor("m", "team-b")?.kvCacheThreshold, 0.8);
    w.onDelete(cm("team-a", SAT));
    assert.equal(w.saturationFor("m", "team-a")?.kvCacheThreshold, 0.8);
  });

  it("the limiter follows the global default entry only", () => {
    const { w, tracked } = setup();
    tracked.add("ns");
    w.onUpsert(cm(SYS, SAT, { default: "enableLimiter: true" }));
    w.onUpsert(cm("ns", SAT, { default: "enableLimiter: false" }));
    assert.equal(w.limiterEnabled(), true);
  });

  it("scale-to-zero ConfigMaps: global, namespace-local, and back to global on delete", () => {
    const { w, tracked } = setup();
    tracked.add("team-a");
    w.onUpsert(cm(SYS, STZ, { default: "enable_scale_to_zero: true\nretention_period: 5m" }));
    assert.deepEqual(w.scaleToZeroFor("m", "x"), { enabled: true, retentionMs: 300_000 });
    w.onUpsert(cm("team-a", STZ, { default: "enable_scale_to_zero: false" }));
    assert.equal(w.scaleToZeroFor("m", "team-a").enabled, false);
    assert.equal(w.scaleToZeroFor("m", "x").enabled, true);
    w.onDelete(cm("team-a", STZ));
    assert.equal(w.scaleToZeroFor("m", "team-a").enabled, true);
  });

  it("a refused scale-to-zero value is logged with its field and the retention falls back", () => {
    const { w, logs } = setup();
    w.onUpsert(cm(SYS, STZ, { default: "enable_scale_to_zero: true\nretention_period: 1000h" }));
    assert.deepEqual(w.scaleToZeroFor("m", "x"), { enabled: true, retentionMs: 600_000 });
    assert.match(
      logs.map((l) => l.msg).join("\n"),
      /default\.retention_period: must be a duration from 1ms to 596h31m23\.647s, got "1000h"/,
    );
  });

  it("a main ConfigMap update applies mutable keys and rejects immutable ones with a Warning event", () => {
    const applied: number[] = [];
    const { w, events } = setup({ onMainConfig: (m) => applied.push(m.globalOptIntervalMs) });
    w.onUpsert(
      cm(SYS, MAIN, { ...START_DATA, PROMETHEUS_BASE_URL: "https://other:9090", GLOBAL_OPT_INTERVAL: "30s" }),
    );
    assert.equal(w.mainConfig.globalOptIntervalMs, 30_000);
    assert.equal(w.mainConfig.prometheus?.baseURL, "https://prometheus-initial:9090");
    assert.deepEqual(applied, [30_000]);
    assert.deepEqual(
      events.map((e) => e.reason),
      ["ImmutableConfigChangeRejected"],
    );
    assert.match(events[0].message, /Prometheus BaseURL \(old: "https:\/\/prometheus-initial:9090"/);
  });

  it("only keys changed since the data the running config came from count: an unchanged start-up key is not reported", () => {
    const { w, events, logs } = setup();
    w.onUpsert(cm(SYS, MAIN, { ...START_DATA, GLOBAL_OPT_INTERVAL: "30s" }));
    assert.deepEqual(events, []);
    assert.deepEqual(
      logs.filter((l) => /read at start-up only/.test(l.msg)),
      [],
    );
    w.onUpsert(cm(SYS, MAIN, { ...START_DATA, GLOBAL_OPT_INTERVAL: "30s", WVA_NODE_SELECTOR: "c=d" }));
    assert.match(
      logs.map((l) => l.msg).join("\n"),
      /WVA_NODE_SELECTOR: read at start-up only; the change takes effect after a restart/,
    );
  });

  it("other ConfigMaps and a main ConfigMap outside the system namespace change nothing", () => {
    const applied: number[] = [];
    const { w } = setup({ onMainConfig: (m) => applied.push(m.globalOptIntervalMs) });
    w.onUpsert(cm(SYS, "unrelated", sat(0.5)));
    w.onUpsert(cm("team-a", MAIN, { GLOBAL_OPT_INTERVAL: "30s" }));
    assert.equal(w.mainConfig.globalOptIntervalMs, 60_000);
    assert.equal(w.saturationFor("m", "ns")?.kvCacheThreshold, 0.8);
    assert.deepEqual(applied, []);
  });
});
