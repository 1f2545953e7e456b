/** Controller owner reference of an object. */
export interface OwnerRef {
  kind: string;
  name: string;
}

/**
 * The few cluster reads the collector needs to map a pod to its Deployment. The controller implements it
 * from its informer caches; tests and the playground use InMemoryClusterLookup.
 */
export interface ClusterLookup {
  /** Controller owner of a Pod or ReplicaSet, or undefined when the object or its controller owner is missing. */
  controllerOf(kind: "Pod" | "ReplicaSet", namespace: string, name: string): Promise<OwnerRef | undefined>;
  /** Names of the Deployment's pods that are Ready (optional: without it, only pods with samples are seen). */
  readyPods?(namespace: string, deployment: string): Promise<string[]>;
}

/** In-memory ClusterLookup: pods owned by ReplicaSets owned by Deployments. */
export class InMemoryClusterLookup implements ClusterLookup {
  private readonly owners = new Map<string, OwnerRef>();
  private readonly ready = new Map<string, Set<string>>();

  private key(kind: string, namespace: string, name: string): string {
    return `${kind}/${namespace}/${name}`;
  }

  /** Records a pod and its controller owner (a ReplicaSet unless `ownerKind` says otherwise). */
  addPod(namespace: string, pod: string, owner: string, ownerKind = "ReplicaSet"): this {
    this.owners.set(this.key("Pod", namespace, pod), { kind: ownerKind, name: owner });
    return this;
  }

  addReplicaSet(namespace: string, replicaSet: string, deployment: string): this {
    this.owners.set(this.key("ReplicaSet", namespace, replicaSet), { kind: "Deployment", name: deployment });
    return this;
  }

  /** Convenience: a pod of a Deployment through a ReplicaSet named `<deployment>-rs`. */
  addDeploymentPod(namespace: string, deployment: string, pod: string): this {
    this.addReplicaSet(namespace, `${deployment}-rs`, deployment);
    return this.addPod(namespace, pod, `${deployment}-rs`);
  }

  /** Marks a pod of a Deployment Ready (through a ReplicaSet named `<deployment>-rs`). */
  addReadyPod(namespace: string, deployment: string, pod: string): this {
    this.addDeploymentPod(namespace, deployment, pod);
    const k = `${namespace}/${deployment}`;
    this.ready.set(k, (this.ready.get(k) ?? new Set()).add(pod));
    return this;
  }

  removePod(namespace: string, pod: string): void {
    this.owners.delete(this.key("Pod", namespace, pod));
    for (const pods of this.ready.values()) pods.delete(pod);
  }

  async readyPods(namespace: string, deployment: string): Promise<string[]> {
    return [...(this.ready.get(`${namespace}/${deployment}`) ?? [])];
  }

  async controllerOf(
    kind: "Pod" | "ReplicaSet",
    namespace: string,
    name: string,
  ): Promise<OwnerRef | undefined> {
    return this.owners.get(this.key(kind, namespace, name));
  }
}
