import type { Logger } from "../../util/logger.js";
import { silentLogger } from "../../util/logger.js";
import { KubeApiError, type KubeClient } from "./client.js";
import type { KubeObject } from "./objects.js";

export type { KubeObject };

export type InformerEvent = "add" | "update" | "delete";

export interface InformerHandlers<T> {
  add?: (obj: T) => void;
  update?: (oldObj: T, newObj: T) => void;
  delete?: (obj: T) => void;
}

export interface InformerOptions {
  /** Collection path, e.g. `/api/v1/pods` or `/apis/apps/v1/namespaces/ns/deployments`. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Re-deliver every cached object as an update this often (0 = never). */
  resyncMs?: number;
  /** Server-side watch timeout; the watch is resumed from the last resourceVersion after it. */
  watchTimeoutSeconds?: number;
  /** Back-off after a failed list/watch: starts here, doubles, capped at `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** List page size (0 = no paging). */
  pageSize?: number;
  logger?: Logger;
  name?: string;
  /** Stamped on cached objects that arrive without them (list items of built-in kinds). */
  apiVersion?: string;
  kind?: string;
}

export const objectKey = (obj: KubeObject): string =>
  obj.metadata?.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : `${obj.metadata?.name}`;

interface ListResponse<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

/**
 * A shared informer: lists, then watches from the list's resourceVersion, keeps a local cache and
 * tells handlers about adds, updates and deletes. A watch that ends is resumed from the last seen
 * resourceVersion; `410 Gone` (expired version) or any other failure leads to a re-list after an
 * exponential back-off with jitter. Resync re-delivers the cache to update handlers periodically.
 */
export class Informer<T extends KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly indexers = new Map<string, (obj: T) => string[]>();
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  private resourceVersion = "";
  private synced = false;
  private stopped = true;
  private abort?: AbortController;
  private backoffMs: number;
  private timer?: NodeJS.Timeout;
  private resyncTimer?: NodeJS.Timeout;
  private syncWaiters: Array<() => void> = [];
  private readonly log: Logger;
  /** Set when the resource does not exist on the server (404 on list). */
  notFound = false;
  lastError?: unknown;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: InformerOptions,
  ) {
    this.backoffMs = opts.initialBackoffMs ?? 200;
    this.log = (opts.logger ?? silentLogger).child({ informer: opts.name ?? opts.path });
  }

  get path(): string {
    return this.opts.path;
  }

  addHandlers(h: InformerHandlers<T>): void {
    this.handlers.push(h);
  }

  /** Adds a named index; `indexFn` returns the index keys of an object. */
  addIndex(name: string, indexFn: (obj: T) => string[]): void {
    this.indexers.set(name, indexFn);
    const idx = new Map<string, Set<string>>();
    this.indices.set(name, idx);
    for (const [k, o] of this.store) this.indexAdd(name, idx, k, o);
  }

  byIndex(name: string, key: string): T[] {
    const keys = this.indices.get(name)?.get(key);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const o = this.store.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.store.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  get size(): number {
    return this.store.size;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves when the first list has been stored (or at once if already synced). */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.listAndWatch();
    const resync = this.opts.resyncMs ?? 0;
    if (resync > 0) {
      this.resyncTimer = setInterval(() => {
        for (const o of this.store.values()) this.emit("update", o, o);
      }, resync);
      this.resyncTimer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.abort?.abort();
    this.abort = undefined;
    // release anyone still waiting for a sync that will not come
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of waiters) w();
  }

  private async listAndWatch(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.relist();
      this.backoffMs = this.opts.initialBackoffMs ?? 200;
      this.notFound = false;
    } catch (err) {
      this.lastError = err;
      if (err instanceof KubeApiError && err.statusCode === 404) {
        // the resource is not served (its CRD is not installed): say it once, keep checking quietly
        if (!this.notFound) this.log.info({ path: this.opts.path }, "resource not served; will retry");
        this.notFound = true;
      } else {
        this.log.warn({ err: errText(err) }, "list failed; retrying after back-off");
      }
      this.retryLater(() => this.listAndWatch());
      return;
    }
    await this.watch();
  }

  private async relist(): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = "";
    do {
      const res = await this.client.get<ListResponse<T>>(this.opts.path, {
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
        limit: this.opts.pageSize || undefined,
        continue: cont,
      });
      for (const it of res.items ?? []) items.push(this.stamp(it));
      cont = res.metadata?.continue || undefined;
      rv = res.metadata?.resourceVersion ?? "";
    } while (cont);
    if (this.stopped) return;
    this.replace(items);
    this.resourceVersion = rv;
    if (!this.synced) {
      this.synced = true;
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const w of waiters) w();
    }
  }

  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const it of items) {
      const key = objectKey(it);
      seen.add(key);
      const old = this.store.get(key);
      this.put(key, it);
      if (!old) this.emit("add", it);
      else if (old.metadata?.resourceVersion !== it.metadata?.resourceVersion) this.emit("update", old, it);
    }
    for (const [key, old] of [...this.store]) {
      if (!seen.has(key)) {
        this.remove(key);
        this.emit("delete", old);
      }
    }
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    let gone = false;
    let failed: unknown = undefined;
    let finished = false;
    const started = Date.now();
    const onDone = (err: unknown): void => {
      if (finished) return;
      finished = true;
      if (this.stopped) return;
      if (err && !(err instanceof Error && err.name === "AbortError")) failed = err;
      if (gone) {
        this.log.debug("resourceVersion expired; re-listing");
        this.retryLater(() => this.listAndWatch(), 0);
      } else if (failed) {
        this.lastError = failed;
        this.log.warn({ err: errText(failed) }, "watch failed; re-listing after back-off");
        this.retryLater(() => this.listAndWatch());
      } else {
        // normal end of a watch (server timeout): resume from the last resourceVersion; a watch
        // that the server ends at once is resumed after a back-off instead of in a tight loop
        this.retryLater(() => this.watch(), Date.now() - started < 1000 ? undefined : 0);
      }
    };
    try {
      this.abort = await this.client.watch(
        this.opts.path,
        {
          resourceVersion: this.resourceVersion || undefined,
          allowWatchBookmarks: true,
          labelSelector: this.opts.labelSelector,
          fieldSelector: this.opts.fieldSelector,
          timeoutSeconds: this.opts.watchTimeoutSeconds ?? 300,
        },
        (type, obj) => {
          if (this.stopped) return;
          if (type === "ERROR") {
            const status = obj as { code?: number };
            if (status?.code === 410) gone = true;
            else failed = new KubeApiError(`watch error: ${JSON.stringify(obj)}`, status?.code ?? 0);
            this.abort?.abort();
            onDone(null);
            return;
          }
          this.handleEvent(type, this.stamp(obj as T));
        },
        onDone,
      );
      // stopped while the watch was being opened: close it now, or it stays open until the server ends it
      if (this.stopped) this.abort?.abort();
    } catch (err) {
      onDone(err);
    }
  }

  private stamp(obj: T): T {
    if (obj && typeof obj === "object") {
      if (!obj.apiVersion && this.opts.apiVersion) obj.apiVersion = this.opts.apiVersion;
      if (!obj.kind && this.opts.kind) obj.kind = this.opts.kind;
    }
    return obj;
  }

  private handleEvent(type: string, obj: T): void {
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (type === "BOOKMARK") return;
    const key = objectKey(obj);
    const old = this.store.get(key);
    if (type === "ADDED" || type === "MODIFIED") {
      this.put(key, obj);
      if (old) this.emit("update", old, obj);
      else this.emit("add", obj);
    } else if (type === "DELETED") {
      this.remove(key);
      this.emit("delete", old ?? obj);
    }
  }

  private put(key: string, obj: T): void {
    const old = this.store.get(key);
    if (old) for (const [name, idx] of this.indices) this.indexRemove(name, idx, key, old);
    this.store.set(key, obj);
    for (const [name, idx] of this.indices) this.indexAdd(name, idx, key, obj);
  }

  private remove(key: string): void {
    const old = this.store.get(key);
    if (!old) return;
    for (const [name, idx] of this.indices) this.indexRemove(name, idx, key, old);
    this.store.delete(key);
  }

  private indexAdd(name: string, idx: Map<string, Set<string>>, key: string, obj: T): void {
    for (const v of this.indexers.get(name)!(obj)) {
      let s = idx.get(v);
      if (!s) idx.set(v, (s = new Set()));
      s.add(key);
    }
  }

  private indexRemove(name: string, idx: Map<string, Set<string>>, key: string, obj: T): void {
    for (const v of this.indexers.get(name)!(obj)) {
      const s = idx.get(v);
      s?.delete(key);
      if (s && s.size === 0) idx.delete(v);
    }
  }

  private retryLater(fn: () => Promise<void>, delayMs?: number): void {
    if (this.stopped) return;
    let delay = delayMs;
    if (delay === undefined) {
      delay = this.backoffMs * (0.9 + Math.random() * 0.2);
      this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs ?? 30_000);
    }
    this.timer = setTimeout(() => void fn(), delay);
  }

  private emit(ev: "add", obj: T): void;
  private emit(ev: "update", oldObj: T, newObj: T): void;
  private emit(ev: "delete", obj: T): void;
  private emit(ev: InformerEvent, a: T, b?: T): void {
    for (const h of this.handlers) {
      try {
        if (ev === "add") h.add?.(a);
        else if (ev === "update") h.update?.(a, b!);
        else h.delete?.(a);
      } catch (err) {
        this.log.error({ err: errText(err) }, "informer handler failed");
      }
    }
  }
}

export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
