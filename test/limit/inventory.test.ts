import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { normalizeAcceleratorName } from "../../src/limit/accelerator.js";
import { GpuAllocator, GpuInventory, type GpuNode } from "../../src/limit/inventory.js";

describe("GPU inventory and allocator (docs/design/gpu-limiter.md)", () => {
  it("one node with 8 H100", () => {
    const inv = GpuInventory.fromNodes([{ name: "node-1", gpus: { H100: 8 } }]);
    assert.equal(inv.limit("H100"), 8);
    assert.equal(inv.available("H100"), 8);
  });

  it("one node with two types", () => {
    const inv = GpuInventory.fromNodes([{ name: "node-1", gpus: { H100: 4, A100: 4 } }]);
    assert.equal(inv.limit("H100"), 4);
    assert.equal(inv.limit("A100"), 4);
  });

  it("two nodes of the same type add up", () => {
    const inv = GpuInventory.fromNodes([
      { name: "node-1", gpus: { H100: 8 } },
      { name: "node-2", gpus: { H100: 8 } },
    ]);
    assert.equal(inv.limit("H100"), 16);
  });

  it("three nodes, three types", () => {
    const inv = GpuInventory.fromNodes([
      { name: "a", gpus: { H100: 8 } },
      { name: "b", gpus: { A100: 8 } },
      { name: "c", gpus: { L40S: 4 } },
    ]);
    assert.deepEqual(inv.types(), ["A100", "H100", "L40S"]);
    assert.deepEqual(
      inv.types().map((t) => inv.limit(t)),
      [8, 8, 4],
    );
  });

  it("empty cluster", () => {
    const inv = GpuInventory.fromNodes([]);
    assert.equal(inv.limit("H100"), 0);
    assert.equal(inv.available("H100"), 0);
  });

  it("limits minus used per type and in total", () => {
    const inv = new GpuInventory({ H100: 16, A100: 8 }, { H100: 4, A100: 2 });
    assert.equal(inv.usedBy("H100"), 4);
    assert.equal(inv.available("H100"), 12);
    assert.equal(inv.available("A100"), 6);
  });

  it("availability never goes negative", () => {
    const inv = new GpuInventory({ H100: 8 }, { H100: 12 });
    assert.equal(inv.available("H100"), 0);
  });

  it("allocating does not change the inventory", () => {
    const inv = new GpuInventory({ H100: 16, A100: 8 }, { H100: 4, A100: 4 });
    const alloc = inv.createAllocator();
    assert.equal(alloc.remaining("H100"), 12);
    assert.equal(alloc.allocate("H100", 4), 4);
    assert.equal(alloc.remaining("H100"), 8);
    assert.equal(inv.available("H100"), 12);
    assert.equal(inv.limit("H100"), 16);
  });

  it("the allocator's pool starts from limit minus used (16 → 12 after 4)", () => {
    const alloc = new GpuInventory({ H100: 16 }).createAllocator();
    assert.equal(alloc.allocate("H100", 4), 4);
    assert.equal(alloc.remaining("H100"), 12);
  });

  it("a request larger than what is left gets the rest", () => {
    const alloc = new GpuInventory({ H100: 8 }, { H100: 6 }).createAllocator();
    assert.equal(alloc.allocate("H100", 4), 2);
    assert.equal(alloc.remaining("H100"), 0);
  });

  it("a sequence of requests over two pools", () => {
    const alloc = new GpuInventory({ H100: 16, A100: 8 }).createAllocator();
    assert.equal(alloc.allocate("H100", 4), 4);
    assert.equal(alloc.allocate("A100", 6), 6);
    assert.equal(alloc.allocate("H100", 20), 12);
    assert.equal(alloc.remaining("H100"), 0);
    assert.equal(alloc.remaining("A100"), 2);
  });

  it("a request without accelerator name is an error", () => {
    assert.throws(() => new GpuAllocator({ H100: 8 }).allocate("", 1), /accelerator name is empty/);
  });

  it("a request of 0 grants 0 and changes nothing", () => {
    const alloc = new GpuAllocator({ H100: 8 });
    assert.equal(alloc.allocate("H100", 0), 0);
    assert.equal(alloc.remaining("H100"), 8);
  });

  it("a type the pool does not have grants 0", () => {
    assert.equal(new GpuAllocator({ A100: 8 }).allocate("H100", 2), 0);
  });

  it("accelerator names are normalised to the VA short form", () => {
    const cases: Array<[string, string]> = [
      ["NVIDIA-A100-PCIE-80GB", "A100"],
      ["NVIDIA-H100-SXM5-80GB", "H100"],
      ["NVIDIA-L40S-48GB", "L40S"],
      ["AMD-MI300X-192G", "MI300X"],
      ["Intel-Gaudi-2-96GB", "Gaudi-2"],
      ["nvidia-A100-PCIE-80GB", "A100"],
      ["Unknown-GPU-Model-123", "GPU"],
      ["A100", "A100"],
      ["Intel-Gaudi", "Gaudi"],
    ];
    for (const [full, short] of cases) assert.equal(normalizeAcceleratorName(full), short, full);
  });

  it("nodes listed by full product name yield limits by short name", () => {
    const nodes: GpuNode[] = [
      { name: "n1", gpus: { "NVIDIA-A100-PCIE-80GB": 4 } },
      { name: "n2", gpus: { "NVIDIA-H100-SXM5-80GB": 8 } },
    ];
    const inv = GpuInventory.fromNodes(nodes);
    assert.equal(inv.limit("A100"), 4);
    assert.equal(inv.limit("H100"), 8);
    assert.equal(inv.limit("NVIDIA-A100-PCIE-80GB"), 0);
  });
});
