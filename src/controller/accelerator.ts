import { LABEL_ACCELERATOR_NAME } from "../api/v1alpha1/constants.js";
import { normalizeAcceleratorName } from "../limit/accelerator.js";
import type { KubeObject } from "./kube/objects.js";

export { LABEL_ACCELERATOR_NAME, normalizeAcceleratorName };
export const GPU_VENDORS = ["nvidia.com", "amd.com", "intel.com"] as const;
export const UNKNOWN_ACCELERATOR = "unknown";

/** The parts of an apps/v1 Deployment the controller reads (JSON form). */
export interface Deployment extends KubeObject {
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    template?: {
      metadata?: { labels?: Record<string, string> };
      spec?: {
        nodeSelector?: Record<string, string>;
        affinity?: {
          nodeAffinity?: {
            requiredDuringSchedulingIgnoredDuringExecution?: {
              nodeSelectorTerms?: Array<{ matchExpressions?: NodeSelectorRequirement[] }>;
            };
            preferredDuringSchedulingIgnoredDuringExecution?: Array<{
              weight?: number;
              preference?: { matchExpressions?: NodeSelectorRequirement[] };
            }>;
          };
        };
        containers?: Array<{
          name?: string;
          /** Read for vLLM's `--max-num-seqs` (queueing-model). */
          command?: string[];
          args?: string[];
          env?: Array<{ name: string; value?: string }>;
          resources?: {
            requests?: Record<string, string | number>;
            limits?: Record<string, string | number>;
          };
        }>;
      };
    };
  };
  status?: {
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    updatedReplicas?: number;
  };
}

interface NodeSelectorRequirement {
  key?: string;
  operator?: string;
  values?: string[];
}

function productKeys(): string[] {
  return GPU_VENDORS.map((v) => `${v}/gpu.product`);
}

/** Accelerator from the Deployment's pod template: node selector first, then node affinity. */
export function acceleratorFromDeployment(deploy: Deployment | undefined): string | undefined {
  const podSpec = deploy?.spec?.template?.spec;
  if (!podSpec) return undefined;
  for (const key of productKeys()) {
    const v = podSpec.nodeSelector?.[key];
    if (v) return normalizeAcceleratorName(v);
  }
  const fromExprs = (exprs: NodeSelectorRequirement[] | undefined): string | undefined => {
    for (const e of exprs ?? []) {
      if (e.key && productKeys().includes(e.key) && e.operator === "In" && e.values?.[0]) {
        return normalizeAcceleratorName(e.values[0]);
      }
    }
    return undefined;
  };
  const na = podSpec.affinity?.nodeAffinity;
  for (const term of na?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    const v = fromExprs(term.matchExpressions);
    if (v) return v;
  }
  const preferred = [...(na?.preferredDuringSchedulingIgnoredDuringExecution ?? [])].sort(
    (a, b) => (b.weight ?? 0) - (a.weight ?? 0),
  );
  for (const p of preferred) {
    const v = fromExprs(p.preference?.matchExpressions);
    if (v) return v;
  }
  return undefined;
}

/**
 * Accelerator of a variant: the VA label, else the target's node selector / affinity on
 * `<vendor>/gpu.product`, else `unknown` (a variant is never skipped for lack of it).
 */
export function resolveAccelerator(va: KubeObject, deploy: Deployment | undefined): string {
  const label = va.metadata?.labels?.[LABEL_ACCELERATOR_NAME]?.trim();
  if (label) return label;
  return acceleratorFromDeployment(deploy) ?? UNKNOWN_ACCELERATOR;
}

function quantity(v: string | number | undefined): number {
  if (v === undefined) return 0;
  const n = typeof v === "number" ? v : Number.parseFloat(v);
  return Number.isFinite(n) ? n : 0;
}

/** GPUs per replica: sum over containers of vendor GPU requests (limits when no request); 0 → 1. */
export function gpusPerReplica(deploy: Deployment | undefined): number {
  let total = 0;
  for (const c of deploy?.spec?.template?.spec?.containers ?? []) {
    for (const v of GPU_VENDORS) {
      const key = `${v}/gpu`;
      total += quantity(c.resources?.requests?.[key] ?? c.resources?.limits?.[key]);
    }
  }
  return total > 0 ? total : 1;
}

/** Replica state of a Deployment. */
export function replicaState(deploy: Deployment): { current: number; ready: number; spec: number } {
  const spec = deploy.spec?.replicas ?? 1;
  const statusReplicas = deploy.status?.replicas ?? 0;
  const current = statusReplicas > 0 ? statusReplicas : spec;
  const ready = Math.min(deploy.status?.readyReplicas ?? 0, current);
  return { current, ready, spec };
}
