import type { KObject } from "./util.js";

/** One group of identical nodes: `count` nodes with `gpus` GPUs of `product` each. */
export interface NodeGroup {
  count: number;
  product: string;
  gpus: number;
}

/** Thrown on a malformed `--gpu-nodes` SPEC; the message names the field and the rule. */
export class NodeSpecError extends Error {}

/**
 * Parses a node SPEC such as `2xH100:8,1xA100:4` (count x accelerator : GPUs per node).
 * Accepts an array of such items too (the playground scenario's `nodes:` list).
 */
export function parseNodeSpec(spec: string | string[], field = "--gpu-nodes"): NodeGroup[] {
  const items = (Array.isArray(spec) ? spec : spec.split(",")).map((s) => s.trim()).filter((s) => s !== "");
  return items.map((item) => {
    const m = item.match(/^(\d+)x([A-Za-z0-9][A-Za-z0-9._-]*):(\d+)$/);
    if (!m)
      throw new NodeSpecError(
        `${field}: "${item}" must look like COUNTxACCELERATOR:GPUS (for example 2xH100:8)`,
      );
    const count = Number(m[1]);
    const gpus = Number(m[3]);
    if (count < 1 || count > 1000)
      throw new NodeSpecError(`${field}: node count in "${item}" must be between 1 and 1000`);
    if (gpus > 64) throw new NodeSpecError(`${field}: GPUs per node in "${item}" must be at most 64`);
    return { count, product: m[2], gpus };
  });
}

const fullNames: Record<string, { product: string; memory: string }> = {
  H100: { product: "NVIDIA-H100-80GB-HBM3", memory: "81559" },
  H200: { product: "NVIDIA-H200", memory: "143771" },
  A100: { product: "NVIDIA-A100-SXM4-80GB", memory: "81920" },
  L40S: { product: "NVIDIA-L40S", memory: "46068" },
  L4: { product: "NVIDIA-L4", memory: "23034" },
  A10G: { product: "NVIDIA-A10G", memory: "23028" },
  T4: { product: "Tesla-T4", memory: "15360" },
};

/**
 * The `nvidia.com/gpu.product` label for an accelerator short name, as GPU feature discovery
 * writes it (`H100` → `NVIDIA-H100-80GB-HBM3`). A name that already has a `-` is used as is.
 */
export function productLabel(accelerator: string): string {
  if (accelerator.includes("-")) return accelerator;
  return fullNames[accelerator]?.product ?? `NVIDIA-${accelerator}`;
}

/** Node objects for the groups; names are `gpu-<accelerator>-<i>` (lower case). */
export function nodeObjects(groups: NodeGroup[]): KObject[] {
  const out: KObject[] = [];
  const seen = new Map<string, number>();
  for (const g of groups) {
    for (let i = 0; i < g.count; i++) {
      const base = g.gpus > 0 ? `gpu-${g.product.toLowerCase().replace(/[^a-z0-9-]/g, "-")}` : "cpu";
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      const name = `${base}-${n}`;
      const labels: Record<string, string> = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
      };
      const capacity: Record<string, string> = { cpu: "64", memory: "512Gi", pods: "110" };
      if (g.gpus > 0) {
        labels["nvidia.com/gpu.product"] = productLabel(g.product);
        labels["nvidia.com/gpu.count"] = String(g.gpus);
        const mem = fullNames[g.product]?.memory;
        if (mem) labels["nvidia.com/gpu.memory"] = mem;
        capacity["nvidia.com/gpu"] = String(g.gpus);
      }
      out.push({
        apiVersion: "v1",
        kind: "Node",
        metadata: { name, labels },
        spec: {},
        status: {
          capacity,
          allocatable: { ...capacity },
          conditions: [
            { type: "Ready", status: "True", reason: "KubeletReady", message: "emulated node is ready" },
          ],
          addresses: [
            { type: "InternalIP", address: "127.0.0.1" },
            { type: "Hostname", address: name },
          ],
          nodeInfo: {
            kubeletVersion: "v1.35.0-wva-emulator",
            operatingSystem: "linux",
            architecture: "amd64",
          },
        },
      });
    }
  }
  return out;
}
