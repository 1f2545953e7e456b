import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GpuAllocator } from "../../src/limit/inventory.js";
import {
  applyGpuLimiter,
  GPU_LIMITER,
  GREEDY_BY_SATURATION,
  greedyBySaturation,
  usedGpus,
  type LimiterItem,
} from "../../src/limit/limiter.js";
import { decision } from "../support/decision.js";

const item = (id: string, over: Partial<LimiterItem>): LimiterItem => ({
  id,
  accelerator: "H100",
  current: 1,
  target: 2,
  gpusPerReplica: 2,
  spareCapacity: 0.1,
  cost: 10,
  ...over,
});

/** An allocator that records the order of its grants. */
class RecordingAllocator extends GpuAllocator {
  readonly calls: string[] = [];
  override allocate(accelerator: string, gpus: number): number {
    this.calls.push(accelerator);
    return super.allocate(accelerator, gpus);
  }
}

describe("GPU limiter algorithm (docs/design/gpu-limiter.md)", () => {
  it("enough GPUs ⇒ the full scale-up is granted", () => {
    const alloc = new GpuAllocator({ H100: 10 });
    const [o] = greedyBySaturation(
      [item("v1", { current: 2, target: 4, gpusPerReplica: 2, spareCapacity: 0.1 })],
      alloc,
    );
    assert.equal(o.gpusAllocated, 4);
    assert.equal(o.target, 4);
    assert.equal(o.wasLimited, false);
    assert.equal(alloc.remaining("H100"), 6);
  });

  it("most saturated first (ascending spare capacity)", () => {
    const items = [
      item("v1-medium", { spareCapacity: 0.3, cost: 10, accelerator: "X1" }),
      item("v2-saturated", { spareCapacity: 0.05, cost: 15, accelerator: "X2" }),
      item("v3-idle", { spareCapacity: 0.5, cost: 20, accelerator: "X3" }),
    ];
    const alloc = new RecordingAllocator({ X1: 2, X2: 2, X3: 2 });
    const out = greedyBySaturation(items, alloc);
    assert.deepEqual(alloc.calls, ["X2", "X1", "X3"]);
    assert.deepEqual(
      out.map((o) => [o.gpusAllocated, o.target, o.wasLimited]),
      [
        [2, 2, false],
        [2, 2, false],
        [2, 2, false],
      ],
    );
  });

  it("with one pool of 6 GPUs each of the three gets 2", () => {
    const items = ["v1-medium", "v2-saturated", "v3-idle"].map((id, i) =>
      item(id, { spareCapacity: [0.3, 0.05, 0.5][i], cost: [10, 15, 20][i] }),
    );
    const alloc = new GpuAllocator({ H100: 6 });
    const out = greedyBySaturation(items, alloc);
    assert.deepEqual(
      out.map((o) => o.gpusAllocated),
      [2, 2, 2],
    );
    assert.equal(alloc.remaining("H100"), 0);
  });

  it("scale-downs and no-changes take no GPUs", () => {
    const alloc = new GpuAllocator({ H100: 10 });
    const out = greedyBySaturation(
      [item("v1", { current: 2, target: 2 }), item("v2", { current: 3, target: 2 })],
      alloc,
    );
    assert.equal(alloc.remaining("H100"), 10);
    assert.deepEqual(
      out.map((o) => [o.target, o.reason]),
      [
        [2, "no scale-up (target=2, current=2)"],
        [2, "no scale-up (target=2, current=3)"],
      ],
    );
  });

  it("equal spare ⇒ cheaper first; both fit", () => {
    const alloc = new RecordingAllocator({ E: 2, C: 2 });
    const out = greedyBySaturation(
      [item("expensive", { cost: 20, accelerator: "E" }), item("cheap", { cost: 5, accelerator: "C" })],
      alloc,
    );
    assert.deepEqual(alloc.calls, ["C", "E"]);
    assert.deepEqual(
      out.map((o) => o.target),
      [2, 2],
    );
  });

  it("equal spare with too few GPUs ⇒ the cheaper variant gets them", () => {
    const out = greedyBySaturation(
      [item("expensive", { cost: 20 }), item("cheap", { cost: 5 })],
      new GpuAllocator({ H100: 2 }),
    );
    assert.deepEqual(
      out.map((o) => [o.target, o.wasLimited]),
      [
        [1, true],
        [2, false],
      ],
    );
    assert.equal(out[0].reason, "limited: allocated 0 GPUs for +0 replicas");
  });

  it("gpusPerReplica 0 is treated as 1", () => {
    const [o] = greedyBySaturation([item("v", { gpusPerReplica: 0 })], new GpuAllocator({ H100: 10 }));
    assert.equal(o.gpusAllocated, 1);
    assert.equal(o.target, 2);
  });

  it("names of the algorithm and the limiter", () => {
    assert.equal(GREEDY_BY_SATURATION, "greedy-by-saturation");
    assert.equal(GPU_LIMITER, "gpu-limiter");
  });

  it("used GPUs come from current replicas; a gpu-limiter step is appended", () => {
    const d = decision("v1", {
      acceleratorName: "A100",
      currentReplicas: 2,
      targetReplicas: 4,
      gpusPerReplica: 2,
    });
    assert.deepEqual(usedGpus([d]), { A100: 4 });
    applyGpuLimiter([d], { A100: 8 });
    assert.equal(d.gpusAllocated, 4);
    assert.equal(d.targetReplicas, 4);
    assert.equal(d.wasLimited, false);
    assert.deepEqual(d.steps.at(-1), {
      name: "gpu-limiter",
      action: "scale-up",
      target: 4,
      reason: "allocated 4 GPUs for +2 replicas",
      wasConstrained: false,
    });
  });

  it("two accelerator pools are limited independently", () => {
    const a = decision("v1-a100", {
      acceleratorName: "A100",
      currentReplicas: 2,
      targetReplicas: 3,
      gpusPerReplica: 2,
    });
    const h = decision("v2-h100", {
      acceleratorName: "H100",
      currentReplicas: 1,
      targetReplicas: 2,
      gpusPerReplica: 2,
    });
    assert.deepEqual(usedGpus([a, h]), { A100: 4, H100: 2 });
    applyGpuLimiter([a, h], { A100: 8, H100: 4 });
    assert.equal(a.gpusAllocated, 2);
    assert.equal(h.gpusAllocated, 2);
    assert.equal(a.targetReplicas, 3);
    assert.equal(h.targetReplicas, 2);
  });

  it("a limited scale-up is cut to what fits, marked wasLimited/limitedBy and keeps the original target", () => {
    const d = decision("v1", { acceleratorName: "H100", currentReplicas: 2, targetReplicas: 4 });
    applyGpuLimiter([d], { H100: 3 });
    assert.equal(d.targetReplicas, 3);
    assert.equal(d.originalTargetReplicas, 4);
    assert.equal(d.wasLimited, true);
    assert.equal(d.limitedBy, "gpu-limiter");
    assert.equal(d.steps.at(-1)!.reason, "limited: allocated 1 GPUs for +1 replicas");
    assert.equal(d.steps.at(-1)!.wasConstrained, true);
  });

  it("a partial chunk smaller than one replica is still taken from the pool", () => {
    const alloc = new GpuAllocator({ H100: 3 });
    const out = greedyBySaturation([item("a", { gpusPerReplica: 2, target: 3 })], alloc);
    assert.equal(out[0].target, 2);
    assert.equal(alloc.remaining("H100"), 0);
  });

  it("a decision without accelerator gets nothing", () => {
    const [o] = greedyBySaturation([item("x", { accelerator: "" })], new GpuAllocator({ H100: 8 }));
    assert.equal(o.target, 1);
    assert.equal(o.wasLimited, true);
  });
});
