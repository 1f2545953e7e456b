// End to end on the playground: API emulator + emulated HPA + one vLLM emulator per pod + the manager
// (pod-scraping metrics, HPA actuation). Time is compressed: the manager's metric windows run on a
// clock 20x faster than the wall clock, so the 1-minute peak window of the KV / queue queries lasts 3 s.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { variantAutoscalingCRD } from "../../src/api/v1alpha1/crd.js";
import type { Deployment } from "../../src/controller/accelerator.js";
import type { CycleReport } from "../../src/controller/engine-loop.js";
import { KubeClient } from "../../src/controller/kube/client.js";
import { startManager, type ManagerHandle } from "../../src/controller/manager.js";
import { startCluster, type RunningCluster } from "../../src/playground/cluster/index.js";
import { ScrapeMetricsProvider } from "../../src/playground/cluster/metrics.js";
import { VllmEmulator } from "../../src/playground/vllm/server.js";
import { silentLogger } from "../../src/util/logger.js";
import { deploymentManifest, vaManifest, waitFor } from "../support/controller.js";

const NS = "llm";
const MODEL = "meta/llama-3.1-8b";
const SPEEDUP = 20;
const VARIANTS = [
  { name: "m-a100", accelerator: "A100", product: "NVIDIA-A100-SXM4-80GB", cost: "10.0", replicas: 1 },
  { name: "m-h100", accelerator: "H100", product: "NVIDIA-H100-80GB-HBM3", cost: "40.0", replicas: 2 },
];
const ENGINE = { maxBatch: 32, kvBlocks: 300, blockSize: 16, alpha: 4, beta: 0.02, gamma: 0.0002 };
const DEBUG = process.env.E2E_DEBUG === "1";

function hpa(name: string): Record<string, unknown> {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name, namespace: NS },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
      minReplicas: 1,
      maxReplicas: 10,
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods", value: 10, periodSeconds: 1 }] },
        scaleDown: {
          stabilizationWindowSeconds: 0,
          policies: [{ type: "Pods", value: 10, periodSeconds: 1 }],
        },
      },
      metrics: [
        {
          type: "External",
          external: {
            metric: {
              name: "wva_desired_replicas",
              selector: { matchLabels: { variant_name: name, exported_namespace: NS } },
            },
            target: { type: "AverageValue", averageValue: "1" },
          },
        },
      ],
    },
  };
}

describe("e2e: saturation scaling on the playground with the emulated HPA", () => {
  let cluster: RunningCluster;
  let client: KubeClient;
  let manager: ManagerHandle | undefined;
  const emulators = new Map<string, VllmEmulator>();
  const cycles: CycleReport[] = [];
  let metricsUrl: string | undefined;
  let stopLoad = false;
  let kubeconfig: KubeConfig;
  let load: Promise<void> | undefined;

  before(async () => {
    const prefix = `127.${100 + Math.floor(Math.random() * 100)}`;
    cluster = await startCluster({
      nodes: "1xA100:8,1xH100:8",
      namespaces: [NS, "wva-system"],
      podStartupDelayMs: 1000,
      podIPPrefix: prefix,
      hpa: { syncPeriodMs: 250, provider: new ScrapeMetricsProvider(() => metricsUrl) },
      onPodStarted: async (pod) => {
        const em = new VllmEmulator({ model: MODEL, engine: ENGINE });
        await em.start({ host: pod.status?.podIP as string, port: 8000 });
        emulators.set(pod.metadata!.name!, em);
      },
      onPodStopped: async (pod) => {
        const em = emulators.get(pod.metadata!.name!);
        emulators.delete(pod.metadata!.name!);
        await em?.stop();
      },
    });
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    client = new KubeClient(kc);
    await client.create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", variantAutoscalingCRD());
    await waitFor(async () => {
      try {
        await client.get(`/apis/llmd.ai/v1alpha1/namespaces/${NS}/variantautoscalings`);
        return true;
      } catch {
        return false;
      }
    }, "CRD");
    kubeconfig = kc;
    for (const v of VARIANTS) {
      await client.create(
        `/apis/apps/v1/namespaces/${NS}/deployments`,
        deploymentManifest(NS, v.name, v.replicas, {
          nodeSelector: { "nvidia.com/gpu.product": v.product },
          gpus: 1,
        }),
      );
      await client.create(
        `/apis/llmd.ai/v1alpha1/namespaces/${NS}/variantautoscalings`,
        vaManifest(NS, v.name, v.name, MODEL, {
          cost: v.cost,
          labels: { "inference.optimization/acceleratorName": v.accelerator },
        }),
      );
      await client.create(`/apis/autoscaling/v2/namespaces/${NS}/horizontalpodautoscalers`, hpa(v.name));
    }
  });

  after(async () => {
    stopLoad = true;
    await load;
    await manager?.stop();
    client?.close();
    await cluster?.stop();
    for (const em of emulators.values()) await em.stop();
  });

  /**
   * Sends `rate()` requests per second, round-robin over the serving pods, until `stopLoad`. The number
   * sent follows the elapsed time (not the timer ticks), so a busy event loop does not lower the rate.
   */
  function runLoad(rate: () => number): Promise<void> {
    let i = 0;
    let owed = 0;
    let last = Date.now();
    return (async () => {
      while (!stopLoad) {
        const now = Date.now();
        owed += (rate() * (now - last)) / 1000;
        last = now;
        const pods = [...emulators.values()];
        for (; owed >= 1 && pods.length > 0; owed--) {
          try {
            pods[i++ % pods.length].submit(200, 100).done.catch(() => undefined);
          } catch {
            // a full queue rejects requests, as vLLM does
          }
        }
        if (pods.length === 0) owed = 0;
        await new Promise((res) => setTimeout(res, 10));
      }
    })();
  }

  const replicas = async (name: string) =>
    (await client.get<Deployment>(`/apis/apps/v1/namespaces/${NS}/deployments/${name}`)).status;

  it("load rises: the cheaper variant scales up first, the HPA follows, pods become Ready, saturation clears; load drops: the most expensive variant is reduced first; at most one change per model per cycle", async () => {
    // load first: the manager starts on a busy model (at idle its first cycle would already scale down)
    let rate = 90;
    load = runLoad(() => rate);
    await waitFor(() => emulators.size === 3, "three serving pods", 60_000);
    await waitFor(
      () => [...emulators.values()].every((e) => e.stats().kvUsage >= 0.6),
      "busy pods (KV use >= 0.6 everywhere)",
      60_000,
    );
    const t0 = Date.now();
    manager = await startManager({
      kubeconfig,
      logger: silentLogger,
      metricsSource: "pods",
      podScrape: { clock: () => t0 + (Date.now() - t0) * SPEEDUP, timeoutMs: 2000 },
      flags: {
        metricsBindAddress: "127.0.0.1:0",
        healthProbeBindAddress: "127.0.0.1:0",
        metricsSecure: false,
      },
      env: { POD_NAMESPACE: "wva-system", GLOBAL_OPT_INTERVAL: "500ms" },
      onCycle: (r) => {
        cycles.push(r);
        if (DEBUG)
          console.log(
            JSON.stringify(
              r.variants.map((v) => [
                v.variant,
                v.current,
                v.ready,
                v.desired,
                v.kvUsage?.toFixed(2),
                v.queue,
                v.path,
                v.reason.slice(0, 70),
              ]),
            ),
          );
      },
      resyncMs: 0,
    });
    metricsUrl = manager.metricsUrl;
    metricsUrl = manager.metricsUrl;
    const quietCycles = 0;
    await waitFor(
      () =>
        cycles
          .slice(quietCycles)
          .some((c) => c.variants.some((v) => v.action === "scale-up" && v.path === "engine")),
      "a scale-up",
      90_000,
    );
    const firstUp = cycles.slice(quietCycles).find((c) => c.variants.some((v) => v.action === "scale-up"))!;
    const upVariants = firstUp.variants.filter((v) => v.action === "scale-up").map((v) => v.variant);
    assert.deepEqual(upVariants, ["m-a100"], "the cheaper variant goes up first");

    // the emulated HPA follows wva_desired_replicas and the new pods become Ready
    await waitFor(
      async () => ((await replicas("m-a100"))?.readyReplicas ?? 0) >= 2,
      "m-a100 scaled by the HPA, pods Ready",
      90_000,
    );
    // saturation clears: a cycle in which the engine sees no saturated variant and decides no scale-up
    await waitFor(
      () => {
        const c = cycles.at(-1);
        return (
          !!c &&
          c.variants.length === 2 &&
          c.variants.every((v) => v.action === "no-change" && (v.kvUsage ?? 1) < 0.8)
        );
      },
      "saturation clears",
      120_000,
    );
    const peak = cycles.at(-1)!;
    const h100Peak = peak.variants.find((v) => v.variant === "m-h100")!.desired;
    assert.ok(h100Peak >= 2);

    rate = 2;
    const lowFrom = cycles.length;
    await waitFor(
      () =>
        cycles
          .slice(lowFrom)
          .some((c) => c.variants.some((v) => v.action === "scale-down" && v.path === "engine")),
      "a scale-down",
      120_000,
    );
    const firstDown = cycles
      .slice(lowFrom)
      .find((c) => c.variants.some((v) => v.action === "scale-down" && v.path === "engine"))!;
    const downVariants = firstDown.variants.filter((v) => v.action === "scale-down").map((v) => v.variant);
    assert.deepEqual(downVariants, ["m-h100"], "the most expensive variant is reduced first");

    // never more than one change of the published target per model per cycle
    for (let i = 1; i < cycles.length; i++) {
      const prev = new Map(cycles[i - 1].variants.map((v) => [v.variant, v.desired]));
      const changed = cycles[i].variants.filter(
        (v) => prev.has(v.variant) && prev.get(v.variant) !== v.desired,
      );
      assert.ok(
        changed.length <= 1,
        `cycle ${i}: ${changed.map((v) => v.variant).join(", ")} changed together`,
      );
      for (const v of changed) assert.equal(Math.abs(v.desired - prev.get(v.variant)!), 1, "changes are +-1");
    }
    console.log(`# e2e: ${cycles.length} engine cycles`);
  });
});
