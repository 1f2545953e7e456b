import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { ClusterApi } from "./api.js";
import { Authz, defaultIdentities, type IdentityTable } from "./auth.js";
import { GarbageCollector } from "./controllers/gc.js";
import { HpaController } from "./controllers/hpa.js";
import { Kubelet, type PodHooks } from "./controllers/kubelet.js";
import { NamespaceController } from "./controllers/namespace.js";
import { WorkloadController } from "./controllers/workload.js";
import { ApiError } from "./errors.js";
import { Faults } from "./faults.js";
import { writeKubeconfig } from "./kubeconfig.js";
import { PodLogs } from "./logs.js";
import { nodeObjects, parseNodeSpec, type NodeGroup } from "./nodes.js";
import type { ExternalMetricsProvider } from "./metrics.js";
import { ApiServer } from "./server.js";
import { generateCertificates } from "./tls.js";
import type { KObject } from "./util.js";

export interface ClusterOptions extends PodHooks {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Where to write the kubeconfig; default: a file in a new temp dir removed on stop(). */
  kubeconfigPath?: string;
  /** GPU nodes, as a SPEC string (`2xH100:8,1xA100:4`) or parsed groups. Default: one CPU-only node. */
  nodes?: string | string[] | NodeGroup[];
  /** Namespaces created at start besides default, kube-system, kube-public, kube-node-lease. */
  namespaces?: string[];
  /** How long a deleted namespace stays Terminating before its objects are removed (ms, default 1000). */
  namespaceTerminationDelayMs?: number;
  /** Delay between a pod's containers starting and the pod becoming Ready (ms, default 2000). */
  podStartupDelayMs?: number;
  /** First two octets of pod IPs (default `127.1`; all of 127.0.0.0/8 is loopback on Linux). */
  podIPPrefix?: string;
  /** Serve HTTPS with a generated CA (default false: plain HTTP on loopback). */
  https?: boolean;
  /** Bearer token written to the kubeconfig (default: random). */
  token?: string;
  /** Identity table for TokenReview/SubjectAccessReview (default: the admin token may do everything). */
  identities?: IdentityTable;
  /** Reject requests without a known token (default false: anonymous requests are served). */
  requireAuth?: boolean;
  /** Events kept for watch resumption (default 10000); older resourceVersions get 410 Gone. */
  watchHistorySize?: number;
  /** BOOKMARK interval on watches that allow bookmarks (ms, default 60000). */
  bookmarkIntervalMs?: number;
  /** Longest watch when the client sends no timeoutSeconds (s, default 1800). */
  maxWatchSeconds?: number;
  /** HPA controller: sync period (ms, default 15000) and the external metrics provider. */
  hpa?: { syncPeriodMs?: number; provider?: ExternalMetricsProvider; tolerance?: number; now?: () => number };
  /** Log sink for controller errors (default: silent). */
  log?: (message: string) => void;
}

/** A running emulator. */
export interface RunningCluster {
  /** Base URL, e.g. `http://127.0.0.1:43121`. */
  url: string;
  kubeconfigPath: string;
  /** PEM of the generated CA when serving HTTPS. */
  caPem?: string;
  /** Bearer token of the admin identity (also in the kubeconfig). */
  token: string;
  /** The API semantics layer; use it to read or write objects without HTTP. */
  store: ClusterApi;
  faults: Faults;
  authz: Authz;
  /** The HPA controller: `syncAll()` runs one sync now; `setProvider()` swaps the metrics source. */
  hpa: { syncAll(): Promise<void>; setProvider(p: ExternalMetricsProvider | undefined): void };
  /** Appends a line to a pod's output (`kubectl logs`); false when the pod does not exist. */
  appendPodLog(namespace: string, pod: string, line: string): boolean;
  /** Free `nvidia.com/gpu` per node name. */
  freeGpus(): Map<string, number>;
  /**
   * Creates or updates objects like `kubectl apply --server-side` (a merge, no field managers):
   * YAML text with one or more documents, an object, or a list of objects. Namespaced objects
   * without a namespace go to `default`. Returns the stored objects.
   */
  apply(input: string | KObject | KObject[]): KObject[];
  /** Adds nodes (SPEC or groups) while running. */
  addNodes(nodes: string | NodeGroup[]): KObject[];
  stop(): Promise<void>;
}

const systemNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"];

/** Starts the loopback Kubernetes API emulator with its controllers. */
export async function startCluster(opts: ClusterOptions = {}): Promise<RunningCluster> {
  const log = opts.log ?? (() => {});
  const api = new ClusterApi({ historySize: opts.watchHistorySize });
  const nsType = api.typeFor("v1", "Namespace");
  for (const ns of [...systemNamespaces, ...(opts.namespaces ?? [])])
    if (!api.peek(nsType, undefined, ns)) api.create(nsType, { metadata: { name: ns } });
  const nodeType = api.typeFor("v1", "Node");
  const addNodes = (spec: string | string[] | NodeGroup[]) => {
    const groups =
      typeof spec === "string" || (Array.isArray(spec) && typeof spec[0] === "string")
        ? parseNodeSpec(spec as string | string[])
        : (spec as NodeGroup[]);
    const created: KObject[] = [];
    for (const n of nodeObjects(groups)) {
      let name = n.metadata!.name!;
      for (let i = 1; api.peek(nodeType, undefined, name); i++) name = `${n.metadata!.name!}-${i}`;
      n.metadata!.name = name;
      n.metadata!.labels!["kubernetes.io/hostname"] = name;
      const status = n.status;
      const c = api.create(nodeType, n);
      created.push(api.update(nodeType, { ...c, status }, undefined, { name, subresource: "status" }));
    }
    return created;
  };
  const groups = opts.nodes === undefined ? [{ count: 1, product: "cpu", gpus: 0 }] : opts.nodes;
  addNodes(groups as string | NodeGroup[]);

  const token = opts.token ?? randomBytes(24).toString("hex");
  const authz = new Authz(opts.identities ?? defaultIdentities(token));
  const faults = new Faults();
  const onError = (what: string, err: unknown) =>
    log(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  const workload = new WorkloadController(api, onError);
  const gc = new GarbageCollector(api, onError);
  const namespaces = new NamespaceController(api, opts.namespaceTerminationDelayMs ?? 1000, onError);
  const logs = new PodLogs();
  const kubelet = new Kubelet(
    api,
    {
      podStartupDelayMs: opts.podStartupDelayMs ?? 2000,
      podIPPrefix: opts.podIPPrefix ?? "127.1",
      onPodStarted: opts.onPodStarted,
      onPodStopped: opts.onPodStopped,
      logs,
    },
    onError,
  );
  const hpa = new HpaController(
    api,
    {
      syncPeriodMs: opts.hpa?.syncPeriodMs ?? 15_000,
      provider: opts.hpa?.provider,
      tolerance: opts.hpa?.tolerance,
      now: opts.hpa?.now,
    },
    onError,
  );
  const certs = opts.https ? generateCertificates() : undefined;
  const server = new ApiServer({
    tls: certs ? { key: certs.keyPem, cert: certs.certPem } : undefined,
    api,
    faults,
    authz,
    requireAuth: opts.requireAuth ?? false,
    logs,
    externalMetrics: () => hpa.provider(),
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
    maxWatchSeconds: opts.maxWatchSeconds ?? 1800,
    log,
  });
  let url: string;
  try {
    url = await server.listen(opts.port ?? 0);
  } catch (err) {
    hpa.stop();
    workload.stop();
    gc.stop();
    namespaces.stop();
    await kubelet.stop();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new Error(`port ${opts.port} on 127.0.0.1 is already in use`);
    throw err;
  }
  let tempDir: string | undefined;
  let kubeconfigPath = opts.kubeconfigPath;
  if (!kubeconfigPath) {
    tempDir = mkdtempSync(join(tmpdir(), "wva-cluster-"));
    kubeconfigPath = join(tempDir, "kubeconfig");
  }
  writeKubeconfig(kubeconfigPath, { server: url, token, caPem: certs?.caPem });

  let stopped = false;
  return {
    url,
    kubeconfigPath,
    token,
    caPem: certs?.caPem,
    store: api,
    faults,
    authz,
    hpa: { syncAll: () => hpa.syncAll(), setProvider: (p) => hpa.setProvider(p) },
    freeGpus: () => kubelet.freeGpus(),
    appendPodLog(namespace, pod, line) {
      const uid = api.peek(api.typeFor("v1", "Pod"), namespace, pod)?.metadata?.uid;
      if (uid) logs.append(uid, line);
      return uid !== undefined;
    },
    addNodes: (spec) => addNodes(spec),
    apply(input) {
      const docs =
        typeof input === "string"
          ? parseAllDocuments(input)
              .map((d) => d.toJSON() as KObject | null)
              .filter((d): d is KObject => d !== null && typeof d === "object")
          : Array.isArray(input)
            ? input
            : [input];
      return docs.map((doc) => {
        if (!doc.apiVersion || !doc.kind || !doc.metadata?.name)
          throw new ApiError(
            400,
            "BadRequest",
            "apply: every object needs apiVersion, kind and metadata.name",
          );
        const t = api.typeFor(doc.apiVersion, doc.kind);
        return api.patch(
          t,
          doc.metadata.namespace ?? (t.namespaced ? "default" : undefined),
          doc.metadata.name,
          "apply",
          doc,
        );
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      hpa.stop();
      workload.stop();
      gc.stop();
      namespaces.stop();
      await kubelet.stop();
      await server.close();
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    },
  };
}

export { ClusterApi } from "./api.js";
export type { WatchEvent, WatchOptions, ListOptions, DeleteOptions, WriteOptions, PatchType } from "./api.js";
export { ApiError } from "./errors.js";
export { parseNodeSpec, productLabel, NodeSpecError, type NodeGroup } from "./nodes.js";
export type { FaultRule, RandomFaults } from "./faults.js";
export type { IdentityTable, Identity, AccessRule } from "./auth.js";
export type { KObject } from "./util.js";
export type { PodHooks } from "./controllers/kubelet.js";
export {
  StaticMetricsProvider,
  ScrapeMetricsProvider,
  PrometheusMetricsProvider,
  externalMetricsFrom,
  parsePrometheusText,
  type ExternalMetricsProvider,
} from "./metrics.js";
export * as hpaAlgorithm from "./hpa.js";
