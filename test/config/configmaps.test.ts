import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  configMapNames,
  reconcileConfigMap,
  shouldWatchNamespaceLocalConfigMap,
  type ConfigState,
} from "../../src/config/configmaps.js";
import { loadMainConfig } from "../../src/config/main.js";
import { SaturationConfigStore } from "../../src/config/saturation.js";
import { ScaleToZeroConfigStore } from "../../src/config/scale-to-zero.js";

const names = configMapNames({});
const SYS = names.systemNamespace;
const SAT = {
  default: "kvCacheThreshold: 0.8\nqueueLengthThreshold: 5\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 3",
};

function state(): ConfigState {
  const s: ConfigState = {
    main: loadMainConfig({ configMap: { PROMETHEUS_BASE_URL: "https://prometheus-initial:9090" } }),
    mainData: { PROMETHEUS_BASE_URL: "https://prometheus-initial:9090" },
    saturation: new SaturationConfigStore(),
    scaleToZero: new ScaleToZeroConfigStore(),
  };
  s.saturation.setGlobal(SAT, { startup: true });
  return s;
}

const ns = (over: Partial<Parameters<typeof shouldWatchNamespaceLocalConfigMap>[0]> = {}) => ({
  namespace: "team-a",
  watchNamespace: "",
  tracked: false,
  ...over,
});

describe("ConfigMap reconciliation", () => {
  it("reconciling without a configuration is an error", () => {
    assert.throws(
      () => reconcileConfigMap(undefined, names, { name: names.main, namespace: SYS }),
      /^Error: config is nil$/,
    );
    assert.throws(
      () => reconcileConfigMap(null, names, { name: names.main, namespace: SYS }),
      /config is nil/,
    );
  });

  it("which namespaces' local ConfigMaps are honoured", () => {
    assert.equal(shouldWatchNamespaceLocalConfigMap(ns()), false); // untracked, no opt-in label
    assert.equal(
      shouldWatchNamespaceLocalConfigMap(ns({ labels: { "wva.llmd.ai/config-enabled": "true" } })),
      true,
    );
    assert.equal(
      shouldWatchNamespaceLocalConfigMap(
        ns({ tracked: true, annotations: { "wva.llmd.ai/exclude": "true" } }),
      ),
      false,
    );
    assert.equal(shouldWatchNamespaceLocalConfigMap(ns({ tracked: true })), true);
    assert.equal(
      shouldWatchNamespaceLocalConfigMap(
        ns({ watchNamespace: "team-a", annotations: { "wva.llmd.ai/exclude": "true" } }),
      ),
      true,
    );
  });

  it("a global saturation update takes effect", () => {
    const s = state();
    const out = reconcileConfigMap(s, names, {
      name: names.saturation,
      namespace: SYS,
      data: {
        default: "kvCacheThreshold: 0.75\nqueueLengthThreshold: 5\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 3",
      },
    });
    assert.deepEqual([out.applied, out.kind, out.scope], [true, "saturation", "global"]);
    assert.equal(s.saturation.resolve("m", "any")!.kvCacheThreshold, 0.75);
  });

  it("invalid YAML is reported, not thrown", () => {
    const s = state();
    const out = reconcileConfigMap(s, names, {
      name: names.saturation,
      namespace: SYS,
      data: { default: "invalid: yaml: content: [[[" },
    });
    assert.equal(out.applied, true);
    assert.match(out.messages[0], /^default: invalid YAML/);
  });

  it("namespace-local copies: applied when watched, ignored otherwise, removed on delete", () => {
    const s = state();
    const local = {
      default: "kvCacheThreshold: 0.7\nqueueLengthThreshold: 3\nkvSpareTrigger: 0.1\nqueueSpareTrigger: 2",
    };
    const skipped = reconcileConfigMap(s, names, {
      name: names.saturation,
      namespace: "team-a",
      data: local,
      namespaceInfo: ns(),
    });
    assert.equal(skipped.applied, false);
    assert.equal(s.saturation.resolve("m", "team-a")!.kvCacheThreshold, 0.8);
    reconcileConfigMap(s, names, {
      name: names.saturation,
      namespace: "team-a",
      data: local,
      namespaceInfo: ns({ tracked: true }),
    });
    assert.equal(s.saturation.resolve("m", "team-a")!.kvCacheThreshold, 0.7);
    reconcileConfigMap(s, names, { name: names.saturation, namespace: "team-a", deleted: true });
    assert.equal(s.saturation.resolve("m", "team-a")!.kvCacheThreshold, 0.8);
  });

  it("deleting the global saturation ConfigMap keeps the last configuration", () => {
    const s = state();
    const out = reconcileConfigMap(s, names, { name: names.saturation, namespace: SYS, deleted: true });
    assert.equal(out.applied, false);
    assert.equal(s.saturation.resolve("m", "ns")!.kvCacheThreshold, 0.8);
  });

  it("scale-to-zero ConfigMaps: global and namespace-local", () => {
    const s = state();
    reconcileConfigMap(s, names, {
      name: names.scaleToZero,
      namespace: SYS,
      data: { default: "enable_scale_to_zero: true" },
    });
    assert.equal(s.scaleToZero.resolve("m", "x").enabled, true);
    reconcileConfigMap(s, names, {
      name: names.scaleToZero,
      namespace: "team-a",
      data: { default: "enable_scale_to_zero: false" },
      namespaceInfo: ns({ tracked: true }),
    });
    assert.equal(s.scaleToZero.resolve("m", "team-a").enabled, false);
    assert.equal(s.scaleToZero.resolve("m", "x").enabled, true);
    reconcileConfigMap(s, names, { name: names.scaleToZero, namespace: "team-a", deleted: true });
    assert.equal(s.scaleToZero.resolve("m", "team-a").enabled, true);
  });

  it("a main ConfigMap update rejects immutable changes and applies mutable ones", () => {
    const s = state();
    const out = reconcileConfigMap(s, names, {
      name: names.main,
      namespace: SYS,
      data: { PROMETHEUS_BASE_URL: "https://other:9090", GLOBAL_OPT_INTERVAL: "30s" },
    });
    assert.deepEqual(
      out.rejected.map((r) => r.key),
      ["PROMETHEUS_BASE_URL"],
    );
    assert.equal(s.main.globalOptIntervalMs, 30_000);
    assert.equal(s.main.prometheus?.baseURL, "https://prometheus-initial:9090");
  });

  it("other ConfigMaps and a main ConfigMap outside the system namespace are ignored", () => {
    const s = state();
    assert.equal(reconcileConfigMap(s, names, { name: "unrelated", namespace: SYS }).applied, false);
    assert.equal(
      reconcileConfigMap(s, names, { name: names.main, namespace: "team-a", data: {} }).applied,
      false,
    );
  });

  it("names follow POD_NAMESPACE, CONFIG_MAP_NAME and SATURATION_CONFIG_MAP_NAME", () => {
    assert.deepEqual(
      configMapNames({ POD_NAMESPACE: "wva", CONFIG_MAP_NAME: "main", SATURATION_CONFIG_MAP_NAME: "sat" }),
      {
        systemNamespace: "wva",
        main: "main",
        saturation: "sat",
        scaleToZero: "wva-model-scale-to-zero-config",
      },
    );
  });
});
