import type { Informer } from "./kube/informer.js";
import type { KubeObject, Pod, ReplicaSet } from "./kube/objects.js";

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
  ) {}

  async controllerOf(
    kind: "Pod" | "ReplicaSet",
    namespace: string,
    name: string,
  ): Promise<{ kind: string; name: string } | undefined> {
    const inf = kind === "Pod" ? this.pods : this.replicaSets;
    return controllerOwner(inf.get(namespace, name));
  }
}
