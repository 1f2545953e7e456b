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

/**
 * In-memory object storage with one global, increasing resourceVersion (like etcd's revision), a
 * bounded history of events for watch resumption, and synchronous fan-out to listeners.
 * Stored objects are treated as immutable: every write stores a new object.
 */
export class ObjectStore {
  private rv = 0;
  private readonly data = new Map<string, Map<string, KObject>>();
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

  private bucket(typeKey: string): Map<string, KObject> {
    let b = this.data.get(typeKey);
    if (!b) {
      b = new Map();
      this.data.set(typeKey, b);
    }
    return b;
  }

  /** Returns the stored object (do not mutate it). */
  peek(typeKey: string, namespace: string, name: string): KObject | undefined {
    return this.data.get(typeKey)?.get(objKey(namespace, name));
  }

  /** All objects of a type, optionally of one namespace, sorted by namespace and name. */
  list(typeKey: string, namespace?: string): KObject[] {
    const b = this.data.get(typeKey);
    if (!b) return [];
    const out: Array<[string, KObject]> = [];
    for (const [k, v] of b) if (namespace === undefined || k.startsWith(`${namespace}/`)) out.push([k, v]);
    out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return out.map((e) => e[1]);
  }

  count(typeKey: string): number {
    return this.data.get(typeKey)?.size ?? 0;
  }

  /** Stores `obj` (which must not be mutated afterwards), assigning the next resourceVersion. */
  put(typeKey: string, obj: KObject): KObject {
    const m = obj.metadata!;
    const namespace = m.namespace ?? "";
    const name = m.name!;
    const b = this.bucket(typeKey);
    const key = objKey(namespace, name);
    const previous = b.get(key);
    this.rv++;
    m.resourceVersion = String(this.rv);
    b.set(key, obj);
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
    const b = this.data.get(typeKey);
    const key = objKey(namespace, name);
    const previous = b?.get(key);
    if (!b || !previous) return undefined;
    b.delete(key);
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
