import type { Informer } from "./kube/informer.js";
import type { KubeObject, Pod, ReplicaSet } from "./kube/objects.js";

/** Index of pods by their controller ReplicaSet and of ReplicaSets by their controller Deployment. */
const OWNER_INDEX = "controller-owner";

/** Controller owner reference (`ownerReferences[].controller == true`). */
export function controllerOwner(obj: KubeObject | undefined): { kind: string; name: string } | undefined {
  const ref = obj?.metadata?.ownerReferences?.find((r) => r.controller);
  return ref?.kind && ref.name ? { kind: ref.kind, name: ref.name } : undefined;
}

/**
 * Pod → ReplicaSet → Deployment lookups answered from the informer caches (no API request on the hot
 * path). Implements the collector's cluster-lookup seam.
 */
export class InformerClusterLookup {
  constructor(
    private readonly pods: Informer<Pod>,
    private readonly replicaSets: Informer<ReplicaSet>,
  ) {
    const byOwner = (kind: string) => (o: KubeObject) => {
      const owner = controllerOwner(o);
      return owner?.kind === kind ? [`${o.metadata?.namespace ?? ""}/${owner.name}`] : [];
    };
    pods.addIndex(OWNER_INDEX, byOwner("ReplicaSet"));
    replicaSets.addIndex(OWNER_INDEX, byOwner("Deployment"));
  }

  async controllerOf(
    kind: "Pod" | "ReplicaSet",
    namespace: string,
    name: string,
  ): Promise<{ kind: string; name: string } | undefined> {
    const inf = kind === "Pod" ? this.pods : this.replicaSets;
    return controllerOwner(inf.get(namespace, name));
  }

  /** Ready pods (not being deleted) whose ReplicaSet belongs to the Deployment. */
  async readyPods(namespace: string, deployment: string): Promise<string[]> {
    const out: string[] = [];
    for (const rs of this.replicaSets.byIndex(OWNER_INDEX, `${namespace}/${deployment}`)) {
      for (const p of this.pods.byIndex(OWNER_INDEX, `${namespace}/${rs.metadata?.name ?? ""}`)) {
        if (p.metadata?.deletionTimestamp) continue;
        if (p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) {
          out.push(p.metadata?.name ?? "");
        }
      }
    }
    return out;
  }
}
