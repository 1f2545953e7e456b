import type { ClusterApi } from "../api.js";
import { ApiError } from "../errors.js";
import type { StoreEvent } from "../store.js";
import { clone, type KObject } from "../util.js";
import { WorkQueue } from "./queue.js";

const ref = (typeKey: string, ns: string, name: string) => `${typeKey}|${ns}|${name}`;

/**
 * Garbage collection by ownerReferences: when every owner of an object is gone the object is
 * deleted (background propagation); owners deleted with `propagationPolicy=Foreground` keep a
 * `foregroundDeletion` finalizer until their dependents are gone.
 */
export class GarbageCollector {
  private readonly live = new Map<string, string>(); // uid → ref
  private readonly dependents = new Map<string, Set<string>>(); // owner uid → refs
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly api: ClusterApi,
    onError: (what: string, err: unknown) => void,
  ) {
    this.queue = new WorkQueue(
      (k) => this.check(k),
      (k, e) => onError(`gc ${k}`, e),
    );
    for (const t of api.types()) {
      if (t.virtual) continue;
      for (const o of api.peekList(t))
        this.index({ typeKey: `${t.group}/${t.resource}`, object: o } as StoreEvent, false);
    }
    this.unsubscribe = api.objects.subscribe((e) => this.onEvent(e));
    for (const r of this.allRefs()) this.queue.add(r);
  }

  stop(): void {
    this.unsubscribe();
    this.queue.stop();
  }

  private allRefs(): string[] {
    return [...this.live.values()];
  }

  private index(e: Pick<StoreEvent, "typeKey" | "object">, removed: boolean): void {
    const m = e.object.metadata!;
    const r = ref(e.typeKey, m.namespace ?? "", m.name!);
    if (removed) this.live.delete(m.uid!);
    else this.live.set(m.uid!, r);
    for (const o of m.ownerReferences ?? []) {
      let s = this.dependents.get(o.uid);
      if (!s) this.dependents.set(o.uid, (s = new Set()));
      if (removed) s.delete(r);
      else s.add(r);
      if (s.size === 0) this.dependents.delete(o.uid);
    }
  }

  private onEvent(e: StoreEvent): void {
    if (e.previous) this.index({ typeKey: e.typeKey, object: e.previous }, true);
    if (e.type !== "DELETED") this.index(e, false);
    const m = e.object.metadata!;
    if (e.type === "DELETED") {
      for (const d of this.dependents.get(m.uid!) ?? []) this.queue.add(d);
      // a dependent went away: its owners may be waiting in foreground deletion
      for (const o of m.ownerReferences ?? []) {
        const r = this.live.get(o.uid);
        if (r) this.queue.add(r);
      }
    } else {
      if (m.ownerReferences?.length) this.queue.add(ref(e.typeKey, m.namespace ?? "", m.name!));
      if (m.deletionTimestamp && m.finalizers?.includes("foregroundDeletion"))
        this.queue.add(ref(e.typeKey, m.namespace ?? "", m.name!));
    }
  }

  private typeOf(typeKey: string) {
    const [group, resource] = [
      typeKey.slice(0, typeKey.indexOf("/")),
      typeKey.slice(typeKey.indexOf("/") + 1),
    ];
    return this.api.types().find((t) => t.group === group && t.resource === resource && !t.virtual);
  }

  private check(r: string): void {
    const [typeKey, ns, name] = r.split("|");
    const t = this.typeOf(typeKey);
    if (!t) return;
    const obj = this.api.peek(t, ns, name);
    if (!obj) return;
    const m = obj.metadata!;
    if (m.deletionTimestamp && m.finalizers?.includes("foregroundDeletion")) {
      const deps = [...(this.dependents.get(m.uid!) ?? [])];
      if (deps.length === 0) {
        const c = clone(obj);
        c.metadata!.finalizers = m.finalizers.filter((f) => f !== "foregroundDeletion");
        this.api.update(t, c, ns, { name });
        return;
      }
      for (const d of deps) this.deleteRef(d, "Foreground");
    }
    const owners = m.ownerReferences ?? [];
    if (owners.length === 0) return;
    const alive = owners.filter((o) => this.live.has(o.uid));
    const ownerDeletingForeground = owners.some((o) => {
      const or = this.live.get(o.uid);
      if (!or) return false;
      const [ot, ons, oname] = or.split("|");
      const ty = this.typeOf(ot);
      const owner: KObject | undefined = ty ? this.api.peek(ty, ons, oname) : undefined;
      return (
        !!owner?.metadata?.deletionTimestamp && !!owner.metadata.finalizers?.includes("foregroundDeletion")
      );
    });
    if (ownerDeletingForeground && !m.deletionTimestamp) {
      this.deleteRef(r, "Foreground");
      return;
    }
    if (alive.length === owners.length) return;
    if (alive.length === 0) {
      this.deleteRef(r, "Background");
      return;
    }
    const c = clone(obj);
    c.metadata!.ownerReferences = alive;
    this.api.update(t, c, ns, { name });
  }

  private deleteRef(r: string, policy: "Background" | "Foreground"): void {
    const [typeKey, ns, name] = r.split("|");
    const t = this.typeOf(typeKey);
    if (!t) return;
    try {
      this.api.delete(t, ns, name, { propagationPolicy: policy });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }
}
