import { normalizeAcceleratorName } from "./accelerator.js";

/** GPUs of one node per product name (full `gpu.product` label or short name). */
export interface GpuNode {
  name: string;
  gpus: Record<string, number>;
}

function addInto(target: Map<string, number>, type: string, n: number): void {
  target.set(type, (target.get(type) ?? 0) + n);
}

/** GPU limits and usage per accelerator short name (docs/design/gpu-limiter.md). */
export class GpuInventory {
  private limits = new Map<string, number>();
  private used = new Map<string, number>();

  constructor(limits: Record<string, number> = {}, used: Record<string, number> = {}) {
    this.setLimits(limits);
    this.setUsed(used);
  }

  /** Inventory whose limits are the sum of the nodes' GPUs, keyed by normalised accelerator name. */
  static fromNodes(nodes: readonly GpuNode[]): GpuInventory {
    const inv = new GpuInventory();
    inv.setNodes(nodes);
    return inv;
  }

  private setNodes(nodes: readonly GpuNode[]): void {
    const limits = new Map<string, number>();
    for (const node of nodes) {
      for (const [product, count] of Object.entries(node.gpus)) {
        if (count > 0) addInto(limits, normalizeAcceleratorName(product), count);
      }
    }
    this.limits = limits;
  }

  private setLimits(limits: Record<string, number>): void {
    this.limits = new Map(Object.entries(limits).filter(([, n]) => n > 0));
  }

  private setUsed(used: Record<string, number>): void {
    const m = new Map<string, number>();
    for (const [type, n] of Object.entries(used)) if (n > 0) addInto(m, type, n);
    this.used = m;
  }

  limit(type: string): number {
    return this.limits.get(type) ?? 0;
  }

  usedBy(type: string): number {
    return this.used.get(type) ?? 0;
  }

  /** Accelerator types with a limit, sorted. */
  types(): string[] {
    return [...this.limits.keys()].sort();
  }

  /** max(0, limit − used) for one type. */
  available(type: string): number {
    return Math.max(0, this.limit(type) - this.usedBy(type));
  }

  /** A fresh allocator over what is available now; allocating does not change the inventory. */
  createAllocator(): GpuAllocator {
    const pool: Record<string, number> = {};
    for (const type of this.limits.keys()) pool[type] = this.available(type);
    return new GpuAllocator(pool);
  }
}

/** Hands out GPUs from a per-type pool; never grants more than remains. */
export class GpuAllocator {
  private readonly pool: Map<string, number>;

  constructor(available: Record<string, number>) {
    this.pool = new Map(Object.entries(available).map(([t, n]) => [t, Math.max(0, n)]));
  }

  /** Grants min(requested, remaining) GPUs of one type; throws when the accelerator name is empty. */
  allocate(accelerator: string, gpus: number): number {
    if (accelerator === "") throw new Error("cannot allocate GPUs: accelerator name is empty");
    if (gpus <= 0) return 0;
    const left = this.pool.get(accelerator) ?? 0;
    const granted = Math.min(gpus, left);
    if (granted > 0) this.pool.set(accelerator, left - granted);
    return granted;
  }

  remaining(accelerator: string): number {
    return this.pool.get(accelerator) ?? 0;
  }
}
