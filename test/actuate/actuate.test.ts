import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ActuationMetrics } from "../../src/actuate/metrics.js";
import { actuateDirect, clampReplicas, scaleBounds } from "../../src/actuate/direct.js";
import {
  acceleratorFromDeployment,
  gpusPerReplica,
  normalizeAcceleratorName,
  resolveAccelerator,
} from "../../src/controller/accelerator.js";

describe("gauges", () => {
  it("labels every series with controller_instance only when an instance is set", async () => {
    const plain = new ActuationMetrics("", { processMetrics: false });
    plain.emit("ns", "v1", "H100", 2, 3);
    const text = await plain.metrics();
    assert.match(text, /wva_desired_replicas\{variant_name="v1",namespace="ns",accelerator_type="H100"\} 3/);
    assert.doesNotMatch(text, /controller_instance/);
    const inst = new ActuationMetrics("team-a", { processMetrics: false });
    inst.emit("ns", "v1", "H100", 2, 3);
    inst.countScaling("ns", "v1", "up", "saturation");
    const t2 = await inst.metrics();
    assert.match(t2, /wva_current_replicas\{[^}]*controller_instance="team-a"\} 2/);
    assert.match(
      t2,
      /wva_replica_scaling_total\{variant_name="v1",namespace="ns",direction="up",reason="saturation",controller_instance="team-a"\} 1/,
    );
  });

  it("removes every series of a variant and replaces a series whose accelerator changed", async () => {
    const m = new ActuationMetrics("", { processMetrics: false });
    m.emit("ns", "v1", "unknown", 1, 1);
    m.emit("ns", "v1", "H100", 1, 2);
    m.emit("ns", "v2", "A100", 1, 1);
    m.countScaling("ns", "v1", "up", "saturation");
    let text = await m.metrics();
    assert.doesNotMatch(text, /accelerator_type="unknown"/);
    assert.equal(await m.lastDesired("ns", "v1"), 2);
    m.removeVariant("ns", "v1");
    text = await m.metrics();
    assert.doesNotMatch(text, /variant_name="v1"/);
    assert.match(text, /variant_name="v2"/);
    m.reset();
    assert.doesNotMatch(await m.metrics(), /variant_name=/);
  });
});

describe("engine health metrics", () => {
  it("counts consecutive cycles without metrics per variant and resets the count when metrics return", async () => {
    const m = new ActuationMetrics("", { processMetrics: false });
    m.emit("ns", "v1", "H100", 1, 1, false);
    m.emit("ns", "v1", "H100", 1, 1, false);
    assert.match(
      await m.metrics(),
      /wva_metrics_missing_cycles\{variant_name="v1",namespace="ns",accelerator_type="H100"\} 2/,
    );
    m.emit("ns", "v1", "H100", 1, 1, true);
    assert.match(await m.metrics(), /wva_metrics_missing_cycles\{[^}]*\} 0/);
    m.removeVariant("ns", "v1");
    assert.doesNotMatch(await m.metrics(), /wva_metrics_missing_cycles\{/);
  });

  it("serves the cycle histogram and failure counter from the first cycle until reset; the leader gauge survives reset", async () => {
    const m = new ActuationMetrics("team-a", { processMetrics: false });
    m.setLeader("lease-x", true);
    assert.doesNotMatch(await m.metrics(), /wva_engine_cycle/);
    m.observeCycle(0.2);
    let text = await m.metrics();
    assert.match(text, /wva_engine_cycle_duration_seconds_count\{controller_instance="team-a"\} 1/);
    assert.match(text, /wva_engine_cycle_failures_total\{controller_instance="team-a"\} 0/);
    m.countCycleFailure();
    assert.match(await m.metrics(), /wva_engine_cycle_failures_total\{controller_instance="team-a"\} 1/);
    m.reset();
    m.setLeader("lease-x", false);
    text = await m.metrics();
    assert.doesNotMatch(text, /^wva_/m);
    assert.match(text, /leader_election_master_status\{name="lease-x"\} 0/);
  });
});

describe("direct actuator", () => {
  it("reads min/max annotations and reports bad ones", () => {
    assert.deepEqual(scaleBounds({ "wva.llmd.ai/min-replicas": "2", "wva.llmd.ai/max-replicas": "5" }), {
      min: 2,
      max: 5,
      errors: [],
    });
    const bad = scaleBounds({ "wva.llmd.ai/min-replicas": "x" });
    assert.equal(bad.min, undefined);
    assert.match(bad.errors[0], /wva.llmd.ai\/min-replicas="x" must be a non-negative integer/);
    const crossed = scaleBounds({ "wva.llmd.ai/min-replicas": "6", "wva.llmd.ai/max-replicas": "5" });
    assert.equal(crossed.min, undefined);
    assert.match(crossed.errors[0], /must not exceed/);
    assert.equal(clampReplicas(9, { min: 2, max: 5 }), 5);
    assert.equal(clampReplicas(0, { min: 2, max: 5 }), 2);
  });

  it("writes the scale only when the clamped target differs from spec.replicas", async () => {
    const calls: Array<[string, string, number]> = [];
    const client = {
      setDeploymentScale: async (ns: string, n: string, r: number) => void calls.push([ns, n, r]),
    };
    assert.deepEqual(await actuateDirect(client, "ns", "d", 3, 3, {}), { replicas: 3, changed: false });
    assert.deepEqual(await actuateDirect(client, "ns", "d", 3, 8, { max: 5 }), {
      replicas: 5,
      changed: true,
    });
    assert.deepEqual(calls, [["ns", "d", 5]]);
  });
});

describe("accelerator resolution", () => {
  it("normalises product names", () => {
    assert.equal(normalizeAcceleratorName("NVIDIA-A100-PCIE-80GB"), "A100");
    assert.equal(normalizeAcceleratorName("AMD-MI300X-192G"), "MI300X");
    assert.equal(normalizeAcceleratorName("Intel-Gaudi-2-96GB"), "Gaudi-2");
    assert.equal(normalizeAcceleratorName("H100"), "H100");
  });
  it("prefers the VA label, then nodeSelector, then affinity, else unknown", () => {
    const va = (labels?: Record<string, string>) => ({ metadata: { name: "v", labels } });
    const bySelector = {
      spec: { template: { spec: { nodeSelector: { "nvidia.com/gpu.product": "NVIDIA-H100-SXM5-80GB" } } } },
    };
    const byAffinity = {
      spec: {
        template: {
          spec: {
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [
                    {
                      matchExpressions: [
                        { key: "amd.com/gpu.product", operator: "In", values: ["AMD-MI300X-192G"] },
                      ],
                    },
                  ],
                },
              },
            },
          },
        },
      },
    };
    assert.equal(
      resolveAccelerator(va({ "inference.optimization/acceleratorName": "L40S" }), bySelector),
      "L40S",
    );
    assert.equal(resolveAccelerator(va(), bySelector), "H100");
    assert.equal(resolveAccelerator(va(), byAffinity), "MI300X");
    assert.equal(acceleratorFromDeployment({}), undefined);
    assert.equal(resolveAccelerator(va(), {}), "unknown");
  });
  it("counts GPUs per replica over containers and vendors, at least 1", () => {
    const d = {
      spec: {
        template: {
          spec: {
            containers: [
              { resources: { requests: { "nvidia.com/gpu": "2" } } },
              { resources: { limits: { "amd.com/gpu": 1 } } },
            ],
          },
        },
      },
    };
    assert.equal(gpusPerReplica(d), 3);
    assert.equal(gpusPerReplica({}), 1);
  });
});
