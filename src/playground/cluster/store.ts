import type { KObject } from "./util.js";

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

/** One change in the store, as replayed to watches. `object` carries the new resourceVersion. */
export interface StoreEvent {
  type: EventType;
  rv: number;
  typeKey: string;
  namespace: string;
  name: string;
  object: KObject;
  /** The object before the change (MODIFIED and DELETED). */
  previous?: KObject;
}

export type StoreListener = (event: StoreEvent) => void;

const objKey = (namespace: string, name: string) => `${namespace}/${name}`;
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * In-memory object storage with one global, increasing resourceVersion (like etcd's revision), a
 * bounded history of events for watch resumption, and synchronous fan-out to listeners.
 * Stored objects are treated as immutable: every write stores a new object.
 */
export class ObjectStore {
  private rv = 0;
  /** typeKey → namespace → name → object. */
  private readonly data = new Map<string, Map<string, Map<string, KObject>>>();
  /** `typeKey|owner uid` → `namespace/name` → object: every object naming that owner. */
  private readonly byOwner = new Map<string, Map<string, KObject>>();
  /** uid → where the object lives. */
  private readonly byUid = new Map<string, { typeKey: string; namespace: string; name: string }>();
  private history: StoreEvent[] = [];
  /** resourceVersion below which history was dropped; a watch from an older version gets 410. */
  private compactedRV = 0;
  private readonly listeners = new Set<StoreListener>();

  constructor(private readonly historySize = 10_000) {}

  /** The latest resourceVersion (as a number). */
  currentRV(): number {
    return this.rv;
  }

  /** Lowest resourceVersion a watch may resume from. */
  oldestResumableRV(): number {
    return this.compactedRV;
  }

  /** Drops the whole event history (tests use it to provoke `410 Gone`). */
  compact(): void {
    this.history = [];
    this.compactedRV = this.rv;
  }

  private namespaceMap(typeKey: string, namespace: string, create: true): Map<string, KObject>;
  private namespaceMap(typeKey: string, namespace: string, create?: false): Map<string, KObject> | undefined;
  private namespaceMap(typeKey: string, namespace: string, create = false): Map<string, KObject> | undefined {
    let b = this.data.get(typeKey);
    if (!b) {
      if (!create) return undefined;
      b = new Map();
      this.data.set(typeKey, b);
    }
    let n = b.get(namespace);
    if (!n && create) {
      n = new Map();
      b.set(namespace, n);
    }
    return n;
  }

  /** Returns the stored object (do not mutate it). */
  peek(typeKey: string, namespace: string, name: string): KObject | undefined {
    return this.data.get(typeKey)?.get(namespace)?.get(name);
  }

  /** All objects of a type, optionally of one namespace, sorted by namespace and name. */
  list(typeKey: string, namespace?: string): KObject[] {
    const b = this.data.get(typeKey);
    if (!b) return [];
    const namespaces = namespace === undefined ? [...b.keys()].sort(compare) : [namespace];
    const out: KObject[] = [];
    for (const ns of namespaces) {
      const n = b.get(ns);
      if (!n) continue;
      for (const name of [...n.keys()].sort(compare)) out.push(n.get(name)!);
    }
    return out;
  }

  /** Objects of a type whose ownerReferences name `uid`, optionally of one namespace (unsorted). */
  owned(typeKey: string, uid: string, namespace?: string): KObject[] {
    const m = this.byOwner.get(`${typeKey}|${uid}`);
    if (!m) return [];
    const out = [...m.values()];
    return namespace === undefined ? out : out.filter((o) => (o.metadata?.namespace ?? "") === namespace);
  }

  /** Where the object with this uid is stored, if anywhere. */
  locate(uid: string): { typeKey: string; namespace: string; name: string } | undefined {
    return this.byUid.get(uid);
  }

  count(typeKey: string): number {
    let n = 0;
    for (const m of this.data.get(typeKey)?.values() ?? []) n += m.size;
    return n;
  }

  private index(typeKey: string, namespace: string, name: string, obj: KObject, add: boolean): void {
    const m = obj.metadata;
    if (m?.uid) {
      if (add) this.byUid.set(m.uid, { typeKey, namespace, name });
      else this.byUid.delete(m.uid);
    }
    for (const r of m?.ownerReferences ?? []) {
      const k = `${typeKey}|${r.uid}`;
      let s = this.byOwner.get(k);
      if (add) {
        if (!s) this.byOwner.set(k, (s = new Map()));
        s.set(objKey(namespace, name), obj);
      } else if (s) {
        s.delete(objKey(namespace, name));
        if (s.size === 0) this.byOwner.delete(k);
      }
    }
  }

  /** Stores `obj` (which must not be mutated afterwards), assigning the next resourceVersion. */
  put(typeKey: string, obj: KObject): KObject {
    const m = obj.metadata!;
    const namespace = m.namespace ?? "";
    const name = m.name!;
    const n = this.namespaceMap(typeKey, namespace, true);
    const previous = n.get(name);
    this.rv++;
    m.resourceVersion = String(this.rv);
    if (previous) this.index(typeKey, namespace, name, previous, false);
    n.set(name, obj);
    this.index(typeKey, namespace, name, obj, true);
    this.emit({
      type: previous ? "MODIFIED" : "ADDED",
      rv: this.rv,
      typeKey,
      namespace,
      name,
      object: obj,
      previous,
    });
    return obj;
  }

  /** Removes an object; the DELETED event carries a new resourceVersion. */
  remove(typeKey: string, namespace: string, name: string): KObject | undefined {
    const n = this.namespaceMap(typeKey, namespace);
    const previous = n?.get(name);
    if (!n || !previous) return undefined;
    n.delete(name);
    if (n.size === 0) this.data.get(typeKey)!.delete(namespace);
    this.index(typeKey, namespace, name, previous, false);
    this.rv++;
    const object = { ...previous, metadata: { ...previous.metadata, resourceVersion: String(this.rv) } };
    this.emit({ type: "DELETED", rv: this.rv, typeKey, namespace, name, object, previous });
    return object;
  }

  /** Drops every object of a type (a deleted CRD's resources). */
  removeAll(typeKey: string): void {
    for (const o of this.list(typeKey)) this.remove(typeKey, o.metadata?.namespace ?? "", o.metadata!.name!);
  }

  /** Events with resourceVersion > `rv`, or `undefined` when that part of history was compacted. */
  eventsSince(rv: number): StoreEvent[] | undefined {
    if (rv < this.compactedRV) return undefined;
    // history is ordered by rv: binary search the first event after rv
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid].rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length > this.historySize * 2) {
      const drop = this.history.length - this.historySize;
      this.compactedRV = this.history[drop - 1].rv;
      this.history = this.history.slice(drop);
    }
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch {
        // a failing listener must not break the write path
      }
    }
  }
}
