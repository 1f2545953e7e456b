import type { ClusterApi } from "../api.js";
import { ApiError } from "../errors.js";
import type { ResourceType } from "../resources.js";
import { fromLabelSelectorObject, matchesLabels } from "../selectors.js";
import { clone, deepEqual, shortHash, timestamp, type KObject } from "../util.js";
import { recordEvent } from "./events.js";
import { nsName, splitKey, WorkQueue } from "./queue.js";

/** Pod counts as running work for a ReplicaSet (not finished, not being deleted). */
export function isActivePod(p: KObject): boolean {
  const phase = p.status?.phase;
  return !p.metadata?.deletionTimestamp && phase !== "Succeeded" && phase !== "Failed";
}

export function isPodReady(p: KObject): boolean {
  return ((p.status?.conditions as Array<Record<string, unknown>>) ?? []).some(
    (c) => c.type === "Ready" && c.status === "True",
  );
}

const controllerOf = (o: KObject) => o.metadata?.ownerReferences?.find((r) => r.controller);

function ownerRef(owner: KObject): Record<string, unknown> {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata!.name,
    uid: owner.metadata!.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * The Deployment and ReplicaSet controllers: a Deployment owns one ReplicaSet per pod template
 * (`pod-template-hash`), the ReplicaSet creates and deletes Pods to match its replicas, and both
 * report status (replicas, ready, available, observedGeneration, conditions).
 */
export class WorkloadController {
  private readonly deployments: WorkQueue;
  private readonly replicaSets: WorkQueue;
  private readonly unsubscribe: () => void;
  readonly dt: ResourceType;
  readonly rt: ResourceType;
  readonly pt: ResourceType;

  constructor(
    private readonly api: ClusterApi,
    onError: (what: string, err: unknown) => void,
  ) {
    this.dt = api.typeFor("apps/v1", "Deployment");
    this.rt = api.typeFor("apps/v1", "ReplicaSet");
    this.pt = api.typeFor("v1", "Pod");
    this.deployments = new WorkQueue(
      (k) => this.syncDeployment(k),
      (k, e) => onError(`deployment ${k}`, e),
    );
    this.replicaSets = new WorkQueue(
      (k) => this.syncReplicaSet(k),
      (k, e) => onError(`replicaset ${k}`, e),
    );
    this.unsubscribe = api.objects.subscribe((e) => {
      if (e.typeKey === "apps/deployments") this.deployments.add(nsName(e.namespace, e.name));
      else if (e.typeKey === "apps/replicasets") {
        this.replicaSets.add(nsName(e.namespace, e.name));
        const owner = controllerOf(e.object) ?? (e.previous ? controllerOf(e.previous) : undefined);
        if (owner?.kind === "Deployment") this.deployments.add(nsName(e.namespace, owner.name));
      } else if (e.typeKey === "/pods") {
        const owner = controllerOf(e.object) ?? (e.previous ? controllerOf(e.previous) : undefined);
        if (owner?.kind === "ReplicaSet") this.replicaSets.add(nsName(e.namespace, owner.name));
      }
    });
    for (const d of api.peekList(this.dt))
      this.deployments.add(nsName(d.metadata?.namespace, d.metadata!.name!));
    for (const r of api.peekList(this.rt))
      this.replicaSets.add(nsName(r.metadata?.namespace, r.metadata!.name!));
  }

  stop(): void {
    this.unsubscribe();
    this.deployments.stop();
    this.replicaSets.stop();
  }

  /** Controlled objects, in name order (the order pods are counted and ReplicaSets rolled). */
  private owned(t: ResourceType, ns: string, uid: string): KObject[] {
    return this.api
      .peekControlled(t, ns, uid)
      .sort((a, b) =>
        a.metadata!.name! < b.metadata!.name! ? -1 : a.metadata!.name! > b.metadata!.name! ? 1 : 0,
      );
  }

  private syncDeployment(key: string): void {
    const [ns, name] = splitKey(key);
    const d = this.api.peek(this.dt, ns, name);
    if (!d || d.metadata?.deletionTimestamp) return;
    const spec = d.spec ?? {};
    const template = clone((spec.template ?? {}) as KObject);
    const hash = shortHash(template);
    const desired = typeof spec.replicas === "number" ? spec.replicas : 1;
    const uid = d.metadata!.uid!;
    const rss = this.owned(this.rt, ns, uid);
    let current = rss.find((r) => r.metadata?.labels?.["pod-template-hash"] === hash);
    const revision = String(
      1 +
        Math.max(
          0,
          ...rss.map((r) => Number(r.metadata?.annotations?.["deployment.kubernetes.io/revision"] ?? 0)),
        ),
    );
    if (!current) {
      const labels = {
        ...((template.metadata?.labels as Record<string, string>) ?? {}),
        "pod-template-hash": hash,
      };
      const selector = clone((spec.selector ?? {}) as Record<string, unknown>);
      selector.matchLabels = {
        ...((selector.matchLabels as Record<string, string>) ?? {}),
        "pod-template-hash": hash,
      };
      try {
        current = this.api.create(
          this.rt,
          {
            apiVersion: "apps/v1",
            kind: "ReplicaSet",
            metadata: {
              name: `${name}-${hash}`,
              namespace: ns,
              labels,
              annotations: {
                "deployment.kubernetes.io/revision": revision,
                "deployment.kubernetes.io/desired-replicas": String(desired),
              },
              ownerReferences: [ownerRef(this.api.get(this.dt, ns, name)) as never],
            },
            spec: {
              replicas: desired,
              selector,
              template: { ...template, metadata: { ...(template.metadata ?? {}), labels } },
            },
          },
          ns,
        );
      } catch (err) {
        if (err instanceof ApiError && err.code === 409) return;
        throw err;
      }
      recordEvent(
        this.api,
        d,
        "Normal",
        "ScalingReplicaSet",
        `Scaled up replica set ${current.metadata!.name} from 0 to ${desired}`,
        "deployment-controller",
      );
    } else if (current.spec?.replicas !== desired) {
      const from = current.spec?.replicas as number;
      recordEvent(
        this.api,
        d,
        "Normal",
        "ScalingReplicaSet",
        `Scaled ${desired > from ? "up" : "down"} replica set ${current.metadata!.name} from ${from} to ${desired}`,
        "deployment-controller",
      );
      const r = clone(current);
      r.spec!.replicas = desired;
      r.metadata!.annotations = {
        ...(r.metadata!.annotations ?? {}),
        "deployment.kubernetes.io/desired-replicas": String(desired),
      };
      current = this.api.update(this.rt, r, ns, { name: r.metadata!.name });
    }
    // old ReplicaSets keep serving until the new one is ready, then go to zero
    const newReady = typeof current.status?.readyReplicas === "number" ? current.status.readyReplicas : 0;
    let oldBudget = Math.max(0, desired - newReady);
    for (const r of rss) {
      if (r.metadata?.uid === current.metadata?.uid) continue;
      const have = typeof r.spec?.replicas === "number" ? r.spec.replicas : 0;
      const want = Math.min(have, oldBudget);
      oldBudget -= want;
      if (want !== have) {
        const c = clone(r);
        c.spec!.replicas = want;
        this.api.update(this.rt, c, ns, { name: c.metadata!.name });
      }
    }
    const rev = current.metadata?.annotations?.["deployment.kubernetes.io/revision"];
    const latest = this.api.peek(this.dt, ns, name);
    if (rev && latest && latest.metadata?.annotations?.["deployment.kubernetes.io/revision"] !== rev) {
      const c = clone(latest);
      c.metadata!.annotations = {
        ...(c.metadata!.annotations ?? {}),
        "deployment.kubernetes.io/revision": rev,
      };
      this.api.update(this.dt, c, ns, { name });
    }
    this.writeDeploymentStatus(ns, name, current, this.owned(this.rt, ns, uid));
  }

  private writeDeploymentStatus(ns: string, name: string, current: KObject, rss: KObject[]): void {
    const d = this.api.peek(this.dt, ns, name);
    if (!d) return;
    const sum = (f: string) =>
      rss.reduce((a, r) => a + (typeof r.status?.[f] === "number" ? (r.status[f] as number) : 0), 0);
    const desired = typeof d.spec?.replicas === "number" ? d.spec.replicas : 1;
    const replicas = sum("replicas");
    const ready = sum("readyReplicas");
    const available = sum("availableReplicas");
    const updated = this.api.peek(this.rt, ns, current.metadata!.name!)?.status?.replicas ?? 0;
    const maxUnavailable = Math.floor(desired * 0.25);
    const old = (d.status?.conditions as Array<Record<string, unknown>>) ?? [];
    const cond = (type: string, status: string, reason: string, message: string) => {
      const prev = old.find((c) => c.type === type);
      const now = timestamp();
      return {
        type,
        status,
        lastUpdateTime: prev && prev.status === status && prev.reason === reason ? prev.lastUpdateTime : now,
        lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now,
        reason,
        message,
      };
    };
    const complete = updated === desired && replicas === desired && available === desired;
    const status: Record<string, unknown> = {
      observedGeneration: d.metadata?.generation,
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      ...(desired - available > 0 ? { unavailableReplicas: desired - available } : {}),
      conditions: [
        available >= desired - maxUnavailable
          ? cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
          : cond(
              "Available",
              "False",
              "MinimumReplicasUnavailable",
              "Deployment does not have minimum availability.",
            ),
        complete
          ? cond(
              "Progressing",
              "True",
              "NewReplicaSetAvailable",
              `ReplicaSet "${current.metadata!.name}" has successfully progressed.`,
            )
          : cond(
              "Progressing",
              "True",
              "ReplicaSetUpdated",
              `ReplicaSet "${current.metadata!.name}" is progressing.`,
            ),
      ],
    };
    for (const k of ["readyReplicas", "availableReplicas", "updatedReplicas", "replicas"])
      if (status[k] === 0) delete status[k];
    if (deepEqual(stripTimes(status), stripTimes(d.status ?? {}))) return;
    this.api.update(this.dt, { ...clone(d), status }, ns, { name, subresource: "status" });
  }

  private syncReplicaSet(key: string): void {
    const [ns, name] = splitKey(key);
    const rs = this.api.peek(this.rt, ns, name);
    if (!rs || rs.metadata?.deletionTimestamp) return;
    const desired = typeof rs.spec?.replicas === "number" ? rs.spec.replicas : 1;
    const uid = rs.metadata!.uid!;
    const selector = fromLabelSelectorObject(rs.spec?.selector);
    const pods = this.owned(this.pt, ns, uid).filter((p) => matchesLabels(selector, p.metadata?.labels));
    const active = pods.filter(isActivePod);
    if (active.length < desired) {
      const template = clone((rs.spec?.template ?? {}) as KObject);
      for (let i = active.length; i < desired; i++) {
        this.api.create(
          this.pt,
          {
            apiVersion: "v1",
            kind: "Pod",
            metadata: {
              ...(template.metadata ?? {}),
              generateName: `${name}-`,
              namespace: ns,
              ownerReferences: [ownerRef(this.api.get(this.rt, ns, name)) as never],
            },
            spec: clone(template.spec ?? {}),
          },
          ns,
        );
      }
    } else if (active.length > desired) {
      // delete unscheduled first, then not ready, then the youngest
      const rank = (p: KObject) => (p.spec?.nodeName ? 0 : 2) + (isPodReady(p) ? 0 : 1);
      const victims = [...active]
        .sort(
          (a, b) =>
            rank(b) - rank(a) ||
            String(b.metadata?.creationTimestamp).localeCompare(String(a.metadata?.creationTimestamp)) ||
            String(b.metadata?.name).localeCompare(String(a.metadata?.name)),
        )
        .slice(0, active.length - desired);
      for (const p of victims) {
        try {
          this.api.delete(this.pt, ns, p.metadata!.name!);
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        }
      }
    }
    const now = this.owned(this.pt, ns, uid).filter(isActivePod);
    const ready = now.filter(isPodReady).length;
    const status: Record<string, unknown> = {
      replicas: now.length,
      fullyLabeledReplicas: now.filter((p) => matchesLabels(selector, p.metadata?.labels)).length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata?.generation,
    };
    for (const k of ["readyReplicas", "availableReplicas", "fullyLabeledReplicas"])
      if (status[k] === 0) delete status[k];
    const fresh = this.api.peek(this.rt, ns, name);
    if (!fresh || deepEqual(status, fresh.status ?? {})) return;
    this.api.update(this.rt, { ...clone(fresh), status }, ns, { name, subresource: "status" });
  }
}

function stripTimes(status: Record<string, unknown>): unknown {
  const s = clone(status);
  for (const c of (s.conditions as Array<Record<string, unknown>>) ?? []) {
    delete c.lastUpdateTime;
    delete c.lastTransitionTime;
  }
  return s;
}
