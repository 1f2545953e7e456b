// Helpers for controller tests on the API emulator with the real client.
import { after, afterEach, before } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { variantAutoscalingCRD } from "../../src/api/v1alpha1/crd.js";
import { replicaState } from "../../src/controller/accelerator.js";
import type { GroupCollection, GroupCollector, GroupVariant } from "../../src/controller/engine-loop.js";
import type { ModelGroup } from "../../src/types/decision.js";
import { KubeClient } from "../../src/controller/kube/client.js";
import { startManager, type ManagerHandle, type StartManagerOptions } from "../../src/controller/manager.js";
import type { VA } from "../../src/controller/types.js";
import {
  startCluster,
  type ClusterOptions,
  type RunningCluster,
} from "../../src/playground/cluster/index.js";
import { defaultIdentities, type IdentityTable } from "../../src/playground/cluster/auth.js";
import { silentLogger } from "../../src/util/logger.js";

export const SYSTEM_NS = "wva-system";

export interface TestEnv {
  cluster: RunningCluster;
  client: KubeClient;
  managers: ManagerHandle[];
  start(opts?: Partial<StartManagerOptions> & { env?: Record<string, string> }): Promise<ManagerHandle>;
  /** Stops every manager started so far (use in afterEach so a failed test leaves none running). */
  stopAll(): Promise<void>;
  close(): Promise<void>;
}

/** Fast leader election for tests (ms). */
export const FAST_LEASE = {
  leaderElectionLeaseDurationMs: 1200,
  leaderElectionRenewDeadlineMs: 900,
  leaderElectionRetryPeriodMs: 200,
};

export async function startEnv(opts: ClusterOptions = {}): Promise<TestEnv> {
  const cluster = await startCluster({
    podStartupDelayMs: 20,
    ...opts,
    namespaces: [SYSTEM_NS, "ns1", "ns2", ...(opts.namespaces ?? [])],
  });
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const client = new KubeClient(kc);
  await client.create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", variantAutoscalingCRD());
  await waitFor(async () => {
    try {
      await client.get("/apis/llmd.ai/v1alpha1/variantautoscalings");
      return true;
    } catch {
      return false;
    }
  }, "CRD served");
  const managers: ManagerHandle[] = [];
  return {
    cluster,
    client,
    managers,
    async start(o = {}) {
      const m = await startManager({
        kubeconfig: cluster.kubeconfigPath,
        logger: silentLogger,
        prometheusStartupTimeoutMs: 0,
        resyncMs: 0,
        ...o,
        flags: {
          healthProbeBindAddress: "127.0.0.1:0",
          metricsBindAddress: "127.0.0.1:0",
          metricsSecure: false,
          ...o.flags,
        },
        env: {
          POD_NAMESPACE: SYSTEM_NS,
          GLOBAL_OPT_INTERVAL: "300ms",
          // the direct actuator applies lower targets at once unless a test sets a window
          DIRECT_SCALE_DOWN_STABILIZATION_WINDOW: "0s",
          PROMETHEUS_BASE_URL: "http://127.0.0.1:9",
          ...o.env,
        },
      });
      managers.push(m);
      return m;
    },
    async stopAll() {
      for (const m of managers.splice(0)) await m.stop().catch(() => undefined);
    },
    async close() {
      for (const m of managers.splice(0)) await m.stop().catch(() => undefined);
      client.close();
      await cluster.stop();
    },
  };
}

/** Polls `check` until it returns true (every 25 ms, up to `timeoutMs`, default 20 s). */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function deploymentManifest(
  ns: string,
  name: string,
  replicas: number,
  extra: { nodeSelector?: Record<string, string>; gpus?: number } = {},
): Record<string, unknown> {
  const labels = { app: name };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          nodeSelector: extra.nodeSelector,
          containers: [
            {
              name: "vllm",
              image: "vllm/vllm-openai:latest",
              ports: [{ name: "http", containerPort: 8000 }],
              resources: extra.gpus ? { limits: { "nvidia.com/gpu": String(extra.gpus) } } : undefined,
            },
          ],
        },
      },
    },
  };
}

export function vaManifest(
  ns: string,
  name: string,
  target: string,
  model: string,
  opts: { cost?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): Record<string, unknown> {
  return {
    apiVersion: "llmd.ai/v1alpha1",
    kind: "VariantAutoscaling",
    metadata: { name, namespace: ns, labels: opts.labels, annotations: opts.annotations },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target },
      modelID: model,
      variantCost: opts.cost,
    },
  };
}

export async function createDeployment(
  client: KubeClient,
  ns: string,
  name: string,
  replicas: number,
  extra = {},
) {
  return client.create(
    `/apis/apps/v1/namespaces/${ns}/deployments`,
    deploymentManifest(ns, name, replicas, extra),
  );
}

export async function createVA(
  client: KubeClient,
  ns: string,
  name: string,
  target: string,
  model: string,
  opts: Parameters<typeof vaManifest>[4] = {},
): Promise<VA> {
  return client.create<VA>(
    `/apis/llmd.ai/v1alpha1/namespaces/${ns}/variantautoscalings`,
    vaManifest(ns, name, target, model, opts),
  );
}

export async function getVA(client: KubeClient, ns: string, name: string): Promise<VA> {
  return client.get<VA>(`/apis/llmd.ai/v1alpha1/namespaces/${ns}/variantautoscalings/${name}`);
}

export function condition(va: VA, type: string) {
  return va.status?.conditions?.find((c) => c.type === type);
}

/** The `wva_*` sample lines of a manager's registry. */
export async function metricsText(m: ManagerHandle): Promise<string> {
  return (await m.metrics.metrics())
    .split("\n")
    .filter((l) => l.startsWith("wva_"))
    .join("\n");
}

/**
 * A scripted metrics layer for controller tests: every replica of a variant reports the KV use and
 * queue set for it (default 0.3 / 0); `fail` makes every group fail like an unreachable Prometheus.
 */
export class ScriptedCollector implements GroupCollector {
  fail?: string;
  requests: number | null = 5;
  readonly load = new Map<string, { kv: number; queue: number }>();
  /** Per variant: the KV-cache capacity in tokens its pods report (token metrics follow from `kv`). */
  readonly kvTokens = new Map<string, number>();
  calls = 0;

  set(variant: string, kv: number, queue = 0): void {
    this.load.set(variant, { kv, queue });
  }

  /** Pods of `variant` also report token metrics: a `capacity`-token KV cache, `kv` of it in use. */
  setTokens(variant: string, capacity: number): void {
    this.kvTokens.set(variant, capacity);
  }

  async collectAll(groups: ModelGroup<GroupVariant>[]): Promise<Map<string, GroupCollection>> {
    this.calls++;
    const out = new Map<string, GroupCollection>();
    for (const g of groups) {
      const key = `${g.modelID}|${g.namespace}`;
      if (this.fail) {
        out.set(key, { ok: false, error: this.fail });
        continue;
      }
      const replicas = g.variants.flatMap((v) => {
        const name = v.va.metadata!.name!;
        const l = this.load.get(name) ?? { kv: 0.3, queue: 0 };
        const n = replicaState(v.deployment).current;
        const capacity = this.kvTokens.get(name);
        const tokens =
          capacity === undefined
            ? {}
            : {
                tokensInUse: Math.round(l.kv * capacity),
                totalKvCapacityTokens: capacity,
                avgInputTokens: 500,
                avgOutputTokens: 200,
              };
        return Array.from({ length: n }, (_, i) => ({
          pod: `${name}-${i}`,
          variant: name,
          kvCacheUsage: l.kv,
          queueLength: l.queue,
          ...tokens,
        }));
      });
      out.set(key, { ok: true, replicas });
    }
    return out;
  }

  async requestCount(): Promise<{ count: number | null; error?: string }> {
    return { count: this.requests };
  }
}

/** Events in a namespace with a reason. */
export async function eventsWithReason(client: KubeClient, ns: string, reason: string) {
  const list = await client.get<{
    items: Array<{ reason: string; type: string; message: string; involvedObject: { name: string } }>;
  }>(`/api/v1/namespaces/${ns}/events`);
  return list.items.filter((e) => e.reason === reason);
}

/**
 * Registers the shared hooks of a controller test suite: one emulated cluster for the suite, every
 * manager stopped after each test, the cluster closed at the end. The returned env is usable inside
 * the tests (not at suite definition time).
 */
export function useTestEnv(opts: ClusterOptions = {}, hooks: { stopAfterEach?: boolean } = {}): TestEnv {
  let env: TestEnv | undefined;
  before(async () => {
    env = await startEnv(opts);
  });
  if (hooks.stopAfterEach ?? true) {
    afterEach(async () => {
      await env?.stopAll();
    });
  }
  after(async () => {
    await env?.close();
  });
  const current = (): TestEnv => {
    if (env === undefined) throw new Error("the test env is only available inside tests");
    return env;
  };
  return {
    get cluster() {
      return current().cluster;
    },
    get client() {
      return current().client;
    },
    get managers() {
      return current().managers;
    },
    start: (o) => current().start(o),
    stopAll: () => current().stopAll(),
    close: () => current().close(),
  };
}

/** Labels of a VA naming its accelerator. */
export const acceleratorLabel = (accelerator: string): Record<string, string> => ({
  "inference.optimization/acceleratorName": accelerator,
});

/** The value of a `wva_*` gauge or counter of one variant in a /metrics text (NaN when absent). */
export function seriesValue(text: string, metric: string, variant: string): number {
  const line = new RegExp(`^${metric}\\{variant_name="${variant}"[^}]*\\} (\\S+)$`, "m").exec(text);
  return Number(line?.[1]);
}

/** The cluster's default identity table (the admin token may do everything) with more callers and rules. */
export function withIdentities(adminToken: string, extra: IdentityTable): IdentityTable {
  const base = defaultIdentities(adminToken);
  return { identities: [...base.identities, ...extra.identities], rules: [...base.rules, ...extra.rules] };
}
