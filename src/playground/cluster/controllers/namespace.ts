import type { ClusterApi } from "../api.js";

/**
 * The namespace controller: a namespace being deleted stays `Terminating` for `delayMs`, then its
 * objects are deleted and, once none is left (objects with finalizers may take longer), the
 * namespace itself goes away. Creates in a terminating namespace are refused by the API.
 */
export class NamespaceController {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly api: ClusterApi,
    private readonly delayMs: number,
    private readonly onError: (what: string, err: unknown) => void,
  ) {
    this.unsubscribe = api.objects.subscribe((e) => {
      if (e.typeKey !== "/namespaces") return;
      if (e.type === "DELETED") this.cancel(e.name);
      else if (e.object.metadata?.deletionTimestamp && !this.timers.has(e.name))
        this.schedule(e.name, delayMs);
    });
    for (const ns of api.peekList(api.typeFor("v1", "Namespace")))
      if (ns.metadata?.deletionTimestamp) this.schedule(ns.metadata.name!, delayMs);
  }

  private schedule(name: string, ms: number): void {
    this.timers.set(
      name,
      setTimeout(() => {
        this.timers.delete(name);
        try {
          // objects with finalizers of their own: look again shortly
          if (!this.api.terminateNamespace(name))
            this.schedule(name, Math.max(100, Math.min(this.delayMs, 1000)));
        } catch (err) {
          this.onError(`namespace ${name}`, err);
          this.schedule(name, 1000);
        }
      }, ms),
    );
  }

  private cancel(name: string): void {
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
  }

  stop(): void {
    this.unsubscribe();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
