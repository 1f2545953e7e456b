import { normalizeAcceleratorName } from "./accelerator.js";

/** GPUs of one node per product name (full `gpu.product` label or short name). */
export interface GpuNode {
  name: string;
  gpus: Record<string, number>;
}

/** Source of inventory data (node discovery lives at the Kubernetes edge). */
export interface InventoryDiscovery {
  /** GPU nodes with their allocatable GPUs per product. */
  discoverNodes(): Promise<GpuNode[]> | GpuNode[];
  /** GPUs in use per product name; optional. */
  discoverUsage?(): Promise<Record<string, number>> | Record<string, number>;
}

/** Name of the inventory used by the GPU limiter. */
export const CLUSTER_GPU_INVENTORY = "cluster-gpu-inventory";

function addInto(target: Map<string, number>, type: string, n: number): void {
  target.set(type, (target.get(type) ?? 0) + n);
}

/** GPU limits and usage per accelerator short name (wva-core 5.8 / 10.7). */
export class GpuInventory {
  readonly name = CLUSTER_GPU_INVENTORY;
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

  setNodes(nodes: readonly GpuNode[]): void {
    const limits = new Map<string, number>();
    for (const node of nodes) {
      for (const [product, count] of Object.entries(node.gpus)) {
        if (count > 0) addInto(limits, normalizeAcceleratorName(product), count);
      }
    }
    this.limits = limits;
  }

  setLimits(limits: Record<string, number>): void {
    this.limits = new Map(Object.entries(limits).filter(([, n]) => n > 0));
  }

  setUsed(used: Record<string, number>): void {
    const m = new Map<string, number>();
    for (const [type, n] of Object.entries(used)) if (n > 0) addInto(m, type, n);
    this.used = m;
  }

  /** Refreshes the limits from node discovery. */
  async refreshLimits(discovery: InventoryDiscovery): Promise<void> {
    this.setNodes(await discovery.discoverNodes());
  }

  /** Refreshes limits and usage; fails when the discovery cannot report usage. */
  async refreshAll(discovery: InventoryDiscovery): Promise<void> {
    if (discovery.discoverUsage === undefined) throw new Error("usage discovery not configured");
    await this.refreshLimits(discovery);
    const raw = await discovery.discoverUsage();
    const used: Record<string, number> = {};
    for (const [product, n] of Object.entries(raw)) {
      const t = normalizeAcceleratorName(product);
      used[t] = (used[t] ?? 0) + n;
    }
    this.setUsed(used);
  }

  limit(type: string): number {
    return this.limits.get(type) ?? 0;
  }

  usedBy(type: string): number {
    return this.used.get(type) ?? 0;
  }

  /** max(0, limit − used) for one type. */
  available(type: string): number {
    return Math.max(0, this.limit(type) - this.usedBy(type));
  }

  types(): string[] {
    return [...this.limits.keys()].sort();
  }

  totalLimit(): number {
    let t = 0;
    for (const n of this.limits.values()) t += n;
    return t;
  }

  totalUsed(): number {
    let t = 0;
    for (const n of this.used.values()) t += n;
    return t;
  }

  totalAvailable(): number {
    let t = 0;
    for (const type of this.limits.keys()) t += this.available(type);
    return t;
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

  totalRemaining(): number {
    let t = 0;
    for (const n of this.pool.values()) t += n;
    return t;
  }
}
