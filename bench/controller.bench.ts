// One engine cycle of the controller manager for BENCH_VAS (default 1,000) VariantAutoscalings on the API
// emulator: cycle time (collection excluded: a synthetic metrics layer), Kubernetes API requests per cycle
// (including the status writes it triggers), and the manager's RSS. The manager runs in its own process.
// Also times the emulator's setup (Deployments, ReplicaSets, pods and VAs until quiet) for 10,000 VAs.
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { startCluster, type KObject, type RunningCluster } from "../src/playground/cluster/index.js";
import { median, type BenchTable } from "./table.js";

/** VariantAutoscalings in the engine-cycle benchmark (`BENCH_VAS=5000 npm run bench -- controller`). */
export function benchVas(text = process.env.BENCH_VAS): number {
  if (text === undefined || text === "") return 1000;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 2) throw new Error(`BENCH_VAS: "${text}" must be an integer of at least 2`);
  return n;
}
const SETUP_VAS = 10_000;
const NAMESPACES = 10;
const CYCLES = 6;
const here = dirname(fileURLToPath(import.meta.url));

async function quiesce(c: RunningCluster): Promise<void> {
  let last = -1;
  while (c.store.objects.currentRV() !== last) {
    last = c.store.objects.currentRV();
    await new Promise((r) => setTimeout(r, 300));
  }
}

interface ChildResult {
  syncMs: number;
  heapMiB: number;
  rows: Array<{
    cycle: number;
    ms: number;
    requests: number;
    writes: number;
    rssMiB: number;
    variants: number;
  }>;
}

/**
 * Starts an emulator with `vas` Deployments (one replica each) and as many VAs over ten namespaces and
 * waits until its controllers are quiet; returns the cluster and the time that took.
 */
export async function setUp(vas: number): Promise<{ cluster: RunningCluster; ms: number }> {
  const crd = parseAllDocuments(readFileSync("config/crd/bases/llmd.ai_variantautoscalings.yaml", "utf8"))
    .map((d) => d.toJSON() as KObject)
    .find((d) => d?.kind === "CustomResourceDefinition")!;
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `bench-${i}`);
  const t0 = performance.now();
  const cluster = await startCluster({ podStartupDelayMs: 0, namespaces: ["wva-system", ...namespaces] });
  try {
    const api = cluster.store;
    api.create(api.typeFor("apiextensions.k8s.io/v1", "CustomResourceDefinition"), crd);
    const dt = api.typeFor("apps/v1", "Deployment");
    const vt = api.typeFor("llmd.ai/v1alpha1", "VariantAutoscaling");
    for (let i = 0; i < vas; i++) {
      const ns = namespaces[i % NAMESPACES];
      const name = `v-${i}`;
      const model = `model-${Math.floor(i / 2)}`; // two variants per model
      api.create(dt, {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace: ns },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [{ name: "vllm", image: "vllm" }] },
          },
        },
      });
      api.create(vt, {
        apiVersion: "llmd.ai/v1alpha1",
        kind: "VariantAutoscaling",
        metadata: {
          name,
          namespace: ns,
          labels: { "inference.optimization/acceleratorName": i % 2 ? "H100" : "A100" },
        },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
          modelID: model,
          variantCost: i % 2 ? "40" : "10",
        },
      });
    }
    await quiesce(cluster);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return { cluster, ms: performance.now() - t0 };
}

export async function run(): Promise<BenchTable[]> {
  const VAS = benchVas();
  const setup = await setUp(SETUP_VAS);
  await setup.cluster.stop();
  const { cluster, ms: setupMs } = await setUp(VAS);
  try {
    const result = await new Promise<ChildResult>((resolve, reject) => {
      const child = fork(join(here, "support", "controller-child.ts"), [], {
        execArgv: ["--import", "tsx"],
        env: { ...process.env, BENCH_KUBECONFIG: cluster.kubeconfigPath, BENCH_CYCLES: String(CYCLES) },
      });
      child.once("message", (m) => resolve(m as ChildResult));
      child.once("exit", (code) => (code ? reject(new Error(`manager child exited ${code}`)) : undefined));
    });
    const [first, ...steady] = result.rows;
    const fmt = (r: ChildResult["rows"][number]) => [
      r.variants,
      +r.ms.toFixed(0),
      r.requests,
      r.writes,
      +r.rssMiB.toFixed(0),
    ];
    return [
      {
        title: `Controller engine cycle, ${VAS} VAs in ${VAS / 2} model groups (manager in its own process)`,
        columns: [
          "cycle",
          "active VAs",
          "time incl. status writes (ms)",
          "API requests",
          "status PATCHes",
          "manager RSS (MiB)",
        ],
        rows: [
          ["first (writes every status)", ...fmt(first)],
          [
            `steady (median of ${steady.length})`,
            first.variants,
            +median(steady.map((r) => r.ms)).toFixed(0),
            median(steady.map((r) => r.requests)),
            median(steady.map((r) => r.writes)),
            +Math.max(...steady.map((r) => r.rssMiB)).toFixed(0),
          ],
        ],
        note:
          `Informer sync + leadership: ${result.syncMs.toFixed(0)} ms; heap after the run ${result.heapMiB.toFixed(0)} MiB. ` +
          "Metrics collection is synthetic (see collect.bench for Prometheus and pod scraping); " +
          "a steady cycle reads only informer caches and writes nothing when no decision changed.",
      },
      {
        title:
          "Emulator setup: Deployments, ReplicaSets, pods and VAs created until the controllers are quiet",
        columns: ["VAs", "pods", "setup (s)"],
        rows: [
          [VAS, VAS, +(setupMs / 1000).toFixed(1)],
          [SETUP_VAS, SETUP_VAS, +(setup.ms / 1000).toFixed(1)],
        ],
        note: "Goal: under 30 s for 10,000 VAs; setup grows linearly with the number of objects.",
      },
    ];
  } finally {
    await cluster.stop();
  }
}
