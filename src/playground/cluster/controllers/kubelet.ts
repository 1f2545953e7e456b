import type { ClusterApi } from "../api.js";
import type { PodLogs } from "../logs.js";
import type { ResourceType } from "../resources.js";
import { fromLabelSelectorObject, matchesLabels } from "../selectors.js";
import { clone, getPath, isObject, timestamp, type KObject } from "../util.js";
import { recordEvent } from "./events.js";
import { nsName, splitKey, WorkQueue } from "./queue.js";
import { isActivePod } from "./workload.js";

export const GPU = "nvidia.com/gpu";

/** Hooks that let the playground run a process per pod (e.g. a vLLM emulator on podIP:port). */
export interface PodHooks {
  /**
   * Called when the pod's containers start (phase Running); Ready waits for the promise. Lines given
   * to `log` are the pod's container output (`kubectl logs`).
   */
  onPodStarted?: (pod: KObject, log: (line: string) => void) => Promise<void>;
  /** Called once when a started pod stops (deleted or failed). */
  onPodStopped?: (pod: KObject) => void | Promise<void>;
}

export interface KubeletOptions extends PodHooks {
  /** Delay between container start and Ready (model loading), in ms. */
  podStartupDelayMs: number;
  /** First two octets of pod IPs, e.g. `127.1` gives 127.1.0.1, 127.1.0.2, ... */
  podIPPrefix: string;
  /** Where the pods' container output goes. */
  logs: PodLogs;
}

/** GPUs a pod asks for: max(sum of containers, largest init container), limits first then requests. */
export function podGpus(pod: KObject): number {
  const amount = (c: Record<string, unknown>) => {
    const r = isObject(c.resources) ? c.resources : {};
    const lim = isObject(r.limits) ? r.limits[GPU] : undefined;
    const req = isObject(r.requests) ? r.requests[GPU] : undefined;
    const v = Number(lim ?? req ?? 0);
    return Number.isFinite(v) ? v : 0;
  };
  const spec = pod.spec ?? {};
  const main = ((spec.containers as Array<Record<string, unknown>>) ?? []).reduce((a, c) => a + amount(c), 0);
  const init = Math.max(0, ...((spec.initContainers as Array<Record<string, unknown>>) ?? []).map(amount));
  return Math.max(main, init);
}

function nodeReady(n: KObject): boolean {
  return ((n.status?.conditions as Array<Record<string, unknown>>) ?? []).some(
    (c) => c.type === "Ready" && c.status === "True",
  );
}

/** Whether the pod's nodeSelector and required node affinity admit the node. */
export function nodeMatches(pod: KObject, node: KObject): boolean {
  const labels = node.metadata?.labels ?? {};
  const sel = (pod.spec?.nodeSelector as Record<string, string>) ?? {};
  for (const [k, v] of Object.entries(sel)) if (labels[k] !== v) return false;
  const terms = getPath(
    pod,
    "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
  ) as Array<Record<string, unknown>> | undefined;
  if (!terms || terms.length === 0) return true;
  return terms.some((term) =>
    matchesLabels(fromLabelSelectorObject({ matchExpressions: term.matchExpressions ?? [] }), labels),
  );
}

/**
 * Scheduler and kubelet in one: binds pending pods to nodes with enough free `nvidia.com/gpu`
 * (pods that fit nowhere stay Pending with an Unschedulable condition), gives each pod its own
 * loopback IP, calls the start hook, and marks the pod Ready after the start-up delay.
 */
export class Kubelet {
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;
  private readonly pt: ResourceType;
  private readonly nt: ResourceType;
  private readonly ips = new Map<string, string>(); // pod uid → ip
  private readonly usedIPs = new Set<string>();
  private nextIP = 0;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly started = new Map<string, KObject>(); // pod uid → pod at start
  private readonly starting = new Set<string>();
  /** GPUs that bound, active pods request, per node (kept up to date from store events). */
  private readonly usedGpus = new Map<string, number>();
  /** Active pods not bound to a node yet (`namespace/name`). */
  private readonly unbound = new Set<string>();
  private stopped = false;

  constructor(
    private readonly api: ClusterApi,
    private readonly o: KubeletOptions,
    private readonly onError: (what: string, err: unknown) => void,
  ) {
    this.pt = api.typeFor("v1", "Pod");
    this.nt = api.typeFor("v1", "Node");
    this.queue = new WorkQueue(
      (k) => this.sync(k),
      (k, e) => onError(`pod ${k}`, e),
    );
    this.unsubscribe = api.objects.subscribe((e) => {
      if (e.typeKey === "/pods") {
        this.account(e.previous, -1);
        if (e.type !== "DELETED") this.account(e.object, 1);
        if (e.type === "DELETED") {
          this.podGone(e.previous ?? e.object);
          this.requeuePending();
        } else this.queue.add(nsName(e.namespace, e.name));
      } else if (e.typeKey === "/nodes") this.requeuePending();
    });
    for (const p of api.peekList(this.pt)) {
      this.account(p, 1);
      this.queue.add(nsName(p.metadata?.namespace, p.metadata!.name!));
    }
  }

  /** Adds (`sign` 1) or takes back (-1) a pod's part in the GPU and pending-pod accounting. */
  private account(pod: KObject | undefined, sign: 1 | -1): void {
    if (!pod || !isActivePod(pod)) return;
    const node = pod.spec?.nodeName as string | undefined;
    if (!node) {
      const key = nsName(pod.metadata?.namespace, pod.metadata!.name!);
      if (sign > 0) this.unbound.add(key);
      else this.unbound.delete(key);
      return;
    }
    const gpus = podGpus(pod);
    if (gpus !== 0) this.usedGpus.set(node, (this.usedGpus.get(node) ?? 0) + sign * gpus);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    this.queue.stop();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    const started = [...this.started.values()];
    this.started.clear();
    await Promise.allSettled(started.map(async (p) => this.o.onPodStopped?.(p)));
  }

  /** Pod IPs currently assigned (pod uid → IP). */
  podIPs(): Map<string, string> {
    return new Map(this.ips);
  }

  private requeuePending(): void {
    for (const key of this.unbound) this.queue.add(key);
  }

  private allocateIP(uid: string): string {
    const existing = this.ips.get(uid);
    if (existing) return existing;
    const [a, b] = this.o.podIPPrefix.split(".");
    for (let tries = 0; tries < 65_000; tries++) {
      const i = this.nextIP++ % 65_024;
      const ip = `${a}.${b}.${Math.floor(i / 254)}.${(i % 254) + 1}`;
      if (!this.usedIPs.has(ip)) {
        this.usedIPs.add(ip);
        this.ips.set(uid, ip);
        return ip;
      }
    }
    throw new Error("no free pod IP");
  }

  private podGone(pod: KObject): void {
    const uid = pod.metadata!.uid!;
    this.o.logs.drop(uid);
    const t = this.timers.get(uid);
    if (t) clearTimeout(t);
    this.timers.delete(uid);
    this.starting.delete(uid);
    const ip = this.ips.get(uid);
    if (ip) this.usedIPs.delete(ip);
    this.ips.delete(uid);
    const started = this.started.get(uid);
    if (started) {
      this.started.delete(uid);
      Promise.resolve()
        .then(() => this.o.onPodStopped?.(started))
        .catch((err) => this.onError(`onPodStopped ${pod.metadata?.name}`, err));
    }
  }

  /** Free GPUs per node (allocatable minus what bound, active pods request). */
  freeGpus(): Map<string, number> {
    const free = new Map<string, number>();
    for (const n of this.api.peekList(this.nt)) {
      const alloc = Number((n.status?.allocatable as Record<string, string> | undefined)?.[GPU] ?? 0);
      free.set(n.metadata!.name!, alloc - (this.usedGpus.get(n.metadata!.name!) ?? 0));
    }
    return free;
  }

  private writeStatus(
    pod: KObject,
    status: Record<string, unknown>,
    spec?: Record<string, unknown>,
  ): KObject | undefined {
    const fresh = this.api.peek(this.pt, pod.metadata?.namespace, pod.metadata!.name!);
    if (!fresh || fresh.metadata?.uid !== pod.metadata?.uid) return undefined;
    const c = clone(fresh);
    if (spec) c.spec = { ...(c.spec ?? {}), ...spec };
    c.status = status;
    // binding and status are kubelet/scheduler writes: stored directly, no generation change
    return this.api.objects.put("/pods", c);
  }

  private sync(key: string): void {
    if (this.stopped) return;
    const [ns, name] = splitKey(key);
    const pod = this.api.peek(this.pt, ns, name);
    if (!pod || !isActivePod(pod)) return;
    const uid = pod.metadata!.uid!;
    if (!pod.spec?.nodeName || (!pod.status?.podIP && !this.starting.has(uid) && !this.started.has(uid)))
      return this.schedule(pod);
    if (pod.status?.phase === "Pending" && !this.starting.has(uid) && !this.started.has(uid)) this.start(pod);
  }

  private schedule(pod: KObject): void {
    const need = podGpus(pod);
    const nodes = this.api.peekList(this.nt).filter((n) => nodeReady(n) && !n.spec?.unschedulable);
    const free = this.freeGpus();
    // a pod created with spec.nodeName set skips the scheduler, like a pod bound by hand
    const preset = pod.spec?.nodeName as string | undefined;
    const fits = preset
      ? nodes.filter((n) => n.metadata!.name === preset)
      : nodes.filter((n) => nodeMatches(pod, n) && (free.get(n.metadata!.name!) ?? 0) >= need);
    const conditions = ((pod.status?.conditions as Array<Record<string, unknown>>) ?? []).filter(
      (c) => c.type !== "PodScheduled",
    );
    if (fits.length === 0) {
      const insufficient = nodes.filter((n) => nodeMatches(pod, n)).length;
      const mismatched = nodes.length - insufficient;
      const parts: string[] = [];
      if (insufficient > 0) parts.push(`${insufficient} Insufficient ${GPU}`);
      if (mismatched > 0) parts.push(`${mismatched} node(s) didn't match Pod's node affinity/selector`);
      const message = `0/${nodes.length} nodes are available: ${parts.join(", ") || "no nodes"}.`;
      const prev = ((pod.status?.conditions as Array<Record<string, unknown>>) ?? []).find(
        (c) => c.type === "PodScheduled",
      );
      if (prev?.status === "False" && prev.message === message) return;
      recordEvent(this.api, pod, "Warning", "FailedScheduling", message, "default-scheduler");
      this.writeStatus(pod, {
        ...(pod.status ?? {}),
        phase: "Pending",
        conditions: [
          ...conditions,
          {
            type: "PodScheduled",
            status: "False",
            reason: "Unschedulable",
            message,
            lastTransitionTime: timestamp(),
          },
        ],
      });
      return;
    }
    // spread: the node with most free GPUs, then by name
    fits.sort(
      (a, b) =>
        (free.get(b.metadata!.name!) ?? 0) - (free.get(a.metadata!.name!) ?? 0) ||
        a.metadata!.name!.localeCompare(b.metadata!.name!),
    );
    const node = fits[0].metadata!.name!;
    const ip = this.allocateIP(pod.metadata!.uid!);
    const now = timestamp();
    const containers = ((pod.spec?.containers as Array<Record<string, unknown>>) ?? []).map((c) => ({
      name: c.name,
      image: c.image,
      imageID: "",
      ready: false,
      started: false,
      restartCount: 0,
      state: { waiting: { reason: "ContainerCreating" } },
    }));
    this.writeStatus(
      pod,
      {
        phase: "Pending",
        hostIP: "127.0.0.1",
        hostIPs: [{ ip: "127.0.0.1" }],
        podIP: ip,
        podIPs: [{ ip }],
        qosClass: pod.status?.qosClass ?? "BestEffort",
        conditions: [
          { type: "PodScheduled", status: "True", lastTransitionTime: now },
          { type: "Initialized", status: "True", lastTransitionTime: now },
          { type: "ContainersReady", status: "False", reason: "ContainersNotReady", lastTransitionTime: now },
          { type: "Ready", status: "False", reason: "ContainersNotReady", lastTransitionTime: now },
        ],
        containerStatuses: containers,
      },
      { nodeName: node },
    );
  }

  private start(pod: KObject): void {
    const uid = pod.metadata!.uid!;
    this.starting.add(uid);
    const startedAt = timestamp();
    const running = this.writeStatus(pod, {
      ...(pod.status ?? {}),
      phase: "Running",
      startTime: startedAt,
      containerStatuses: ((pod.status?.containerStatuses as Array<Record<string, unknown>>) ?? []).map(
        (c) => ({
          ...c,
          started: true,
          state: { running: { startedAt } },
        }),
      ),
    });
    if (!running) return;
    this.started.set(uid, clone(running));
    const delay = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, this.o.podStartupDelayMs);
      this.timers.set(uid, t);
    });
    const hook = this.o.onPodStarted
      ? this.o.onPodStarted(clone(running), (line) => this.o.logs.append(uid, line))
      : Promise.resolve();
    Promise.all([delay, hook]).then(
      () => {
        this.timers.delete(uid);
        this.starting.delete(uid);
        if (this.stopped || !this.started.has(uid)) return;
        const cur = this.api.peek(this.pt, pod.metadata?.namespace, pod.metadata!.name!);
        if (!cur || cur.metadata?.uid !== uid) return;
        const now = timestamp();
        this.writeStatus(cur, {
          ...(cur.status ?? {}),
          conditions: ((cur.status?.conditions as Array<Record<string, unknown>>) ?? []).map((c) =>
            c.type === "Ready" || c.type === "ContainersReady"
              ? { type: c.type, status: "True", lastTransitionTime: now }
              : c,
          ),
          containerStatuses: ((cur.status?.containerStatuses as Array<Record<string, unknown>>) ?? []).map(
            (c) => ({ ...c, ready: true }),
          ),
        });
      },
      (err: unknown) => {
        this.timers.delete(uid);
        this.starting.delete(uid);
        if (this.stopped) return;
        const cur = this.api.peek(this.pt, pod.metadata?.namespace, pod.metadata!.name!);
        if (!cur || cur.metadata?.uid !== uid) return;
        const message = err instanceof Error ? err.message : String(err);
        this.writeStatus(cur, { ...(cur.status ?? {}), phase: "Failed", reason: "StartError", message });
        const started = this.started.get(uid);
        this.started.delete(uid);
        if (started) void Promise.resolve(this.o.onPodStopped?.(started)).catch(() => {});
        this.onError(`onPodStarted ${pod.metadata?.name}`, err);
      },
    );
  }
}
