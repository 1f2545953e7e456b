// Playground cluster at scale: 1,000 VariantAutoscalings and 4,000 pods. Reports list latency over HTTP
// and watch event throughput. Numbers only; nothing here asserts on time.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { startCluster, type KObject, type RunningCluster } from "../src/playground/cluster/index.js";
import { median, type BenchTable } from "./table.js";

const VAS = 1000;
const PODS = 4000;
const REPS = 7;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function quiesce(c: RunningCluster): Promise<void> {
  let last = -1;
  while (c.store.objects.currentRV() !== last) {
    last = c.store.objects.currentRV();
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function getJson(
  url: string,
  accept = "application/json",
): Promise<{ items?: unknown[]; rows?: unknown[]; metadata?: { continue?: string } }> {
  const res = await fetch(url, { headers: { Accept: accept } });
  return (await res.json()) as { items?: unknown[]; rows?: unknown[]; metadata?: { continue?: string } };
}

/** Reads a watch stream until `count` events arrived; returns elapsed ms from `start()`. */
async function watchThroughput(url: string, count: number, start: () => void): Promise<number> {
  const ac = new AbortController();
  const res = await fetch(url, { signal: ac.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let seen = 0;
  let buf = "";
  const t0 = performance.now();
  start();
  while (seen < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    const lines = buf.split("\n");
    buf = lines.pop() ?? "";
    seen += lines.filter((l) => l.length > 0).length;
  }
  const ms = performance.now() - t0;
  ac.abort();
  return ms;
}

export async function run(): Promise<BenchTable[]> {
  const crd = parseAllDocuments(readFileSync("config/crd/bases/llmd.ai_variantautoscalings.yaml", "utf8"))
    .map((d) => d.toJSON() as KObject)
    .find((d) => d?.kind === "CustomResourceDefinition")!;
  const c = await startCluster({ podStartupDelayMs: 0, watchHistorySize: 50_000 });
  try {
    const api = c.store;
    api.create(api.typeFor("apiextensions.k8s.io/v1", "CustomResourceDefinition"), crd);
    const vaType = api.typeFor("llmd.ai/v1alpha1", "VariantAutoscaling");
    const podType = api.typeFor("v1", "Pod");

    const createVas = await timed(async () => {
      for (let i = 0; i < VAS; i++) {
        const res = await fetch(`${c.url}/apis/llmd.ai/v1alpha1/namespaces/default/variantautoscalings`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            apiVersion: "llmd.ai/v1alpha1",
            kind: "VariantAutoscaling",
            metadata: {
              name: `va-${i}`,
              labels: { group: `g${i % 10}`, "inference.optimization/acceleratorName": "H100" },
            },
            spec: { modelID: `model-${i % 50}`, scaleTargetRef: { kind: "Deployment", name: `va-${i}` } },
          }),
        });
        if (res.status !== 201) throw new Error(`create va-${i}: HTTP ${res.status}`);
      }
    });
    const createPods = await timed(async () => {
      for (let i = 0; i < PODS; i++)
        api.create(
          podType,
          {
            metadata: { name: `pod-${i}`, labels: { app: `va-${i % VAS}`, shard: `s${i % 20}` } },
            spec: { containers: [{ name: "vllm", image: "vllm", ports: [{ containerPort: 8000 }] }] },
          },
          "default",
        );
    });
    await quiesce(c);

    const base = `${c.url}`;
    const lists: Array<[string, string, string?]> = [
      ["VAs, all 1,000 (JSON)", "/apis/llmd.ai/v1alpha1/namespaces/default/variantautoscalings"],
      [
        "VAs, all 1,000 (Table, kubectl get)",
        "/apis/llmd.ai/v1alpha1/namespaces/default/variantautoscalings",
        "application/json;as=Table;v=v1;g=meta.k8s.io",
      ],
      [
        "VAs, label selector (100)",
        "/apis/llmd.ai/v1alpha1/namespaces/default/variantautoscalings?labelSelector=group%3Dg3",
      ],
      ["pods, all 4,000 (JSON)", "/api/v1/pods"],
      ["pods, label selector (200)", "/api/v1/namespaces/default/pods?labelSelector=shard%3Ds7"],
      ["pods, field selector status.phase=Running", "/api/v1/pods?fieldSelector=status.phase%3DRunning"],
      ["pods, one page of 500", "/api/v1/pods?limit=500"],
    ];
    const listRows: Array<Array<string | number>> = [];
    for (const [name, path, accept] of lists) {
      let n = 0;
      const times: number[] = [];
      for (let r = 0; r < REPS; r++)
        times.push(
          await timed(async () => {
            const body = await getJson(base + path, accept);
            n = (body.items ?? body.rows ?? []).length;
          }),
        );
      listRows.push([name, n, median(times), Math.min(...times)]);
    }
    const paged = await timed(async () => {
      let cont: string | undefined;
      do {
        const body = await getJson(`${base}/api/v1/pods?limit=500${cont ? `&continue=${cont}` : ""}`);
        cont = body.metadata?.continue;
      } while (cont);
    });
    listRows.push(["pods, all 4,000 in pages of 500", PODS, paged, paged]);

    // watch throughput: one HTTP watch client, writes made in-process as fast as possible
    const rv = String(api.objects.currentRV());
    const N = 4000;
    const podWatch = await watchThroughput(`${base}/api/v1/pods?watch=true&resourceVersion=${rv}`, N, () => {
      setImmediate(() => {
        for (let i = 0; i < N; i++)
          api.patch(podType, "default", `pod-${i}`, "merge", { metadata: { labels: { bench: "1" } } });
      });
    });
    const rv2 = String(api.objects.currentRV());
    const vaWatch = await watchThroughput(
      `${base}/apis/llmd.ai/v1alpha1/variantautoscalings?watch=true&resourceVersion=${rv2}`,
      VAS,
      () => {
        setImmediate(() => {
          for (let i = 0; i < VAS; i++)
            api.patch(
              vaType,
              "default",
              `va-${i}`,
              "merge",
              {
                status: {
                  desiredOptimizedAlloc: {
                    numReplicas: 2,
                    accelerator: "H100",
                    lastRunTime: "2026-01-01T00:00:00Z",
                  },
                },
              },
              { subresource: "status" },
            );
        });
      },
    );
    // resume: replay of history to a late watcher (no new writes)
    const replay = await watchThroughput(`${base}/api/v1/pods?watch=true&resourceVersion=${rv}`, N, () => {});
    // a selective watcher among many writes: 10 watchers on one shard each
    const rv3 = String(api.objects.currentRV());
    const shardWatch = await watchThroughput(
      `${base}/api/v1/namespaces/default/pods?watch=true&labelSelector=shard%3Ds3&resourceVersion=${rv3}`,
      PODS / 20,
      () => {
        setImmediate(() => {
          for (let i = 0; i < PODS; i++)
            api.patch(podType, "default", `pod-${i}`, "merge", { metadata: { labels: { bench: "2" } } });
        });
      },
    );
    const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
    return [
      {
        title: `Playground cluster: setup (${VAS} VAs over HTTP, ${PODS} pods in-process)`,
        columns: ["step", "objects", "total ms", "per object ms"],
        rows: [
          ["create VAs (POST, schema validation)", VAS, createVas, createVas / VAS],
          ["create pods (store API)", PODS, createPods, createPods / PODS],
        ],
      },
      {
        title: "Playground cluster: list latency over HTTP",
        columns: ["list", "items", "median ms", "min ms"],
        rows: listRows,
        note: `${REPS} repetitions each; client and server share one Node process.`,
      },
      {
        title: "Playground cluster: watch event throughput (one HTTP watch client)",
        columns: ["stream", "events", "ms", "events/s"],
        rows: [
          ["pod label patches, all pods watched", N, podWatch, rate(N, podWatch)],
          ["VA status patches (status subresource)", VAS, vaWatch, rate(VAS, vaWatch)],
          ["replay of retained history on resume", N, replay, rate(N, replay)],
          [
            `selector watch: ${PODS / 20} of ${PODS} changes match`,
            PODS / 20,
            shardWatch,
            rate(PODS / 20, shardWatch),
          ],
        ],
        note: "Time from starting the writes to the last event read by the client; writes and streaming share the event loop. The selector row makes all 4,000 writes; only the 200 matching ones are streamed.",
      },
    ];
  } finally {
    await c.stop();
  }
}
