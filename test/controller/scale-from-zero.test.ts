import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { ActuationMetrics } from "../../src/actuate/metrics.js";
import { PoolDatastore, type InferencePool } from "../../src/collect/inference-pool.js";
import type { GroupVariant } from "../../src/controller/engine-loop.js";
import {
  PoolReconciler,
  type InferencePoolObject,
  type Service,
} from "../../src/controller/inference-pool.js";
import type { Informer } from "../../src/controller/kube/informer.js";
import type { KubeObject, Pod } from "../../src/controller/kube/objects.js";
import { ScaleFromZeroLoop, type ScaleFromZeroDeps } from "../../src/controller/scale-from-zero.js";
import type { CachedDecision } from "../../src/controller/types.js";
import { silentLogger } from "../../src/util/logger.js";

/** An informer stand-in over a fixed list (what the reconciler reads: handlers, get, list). */
function fakeInformer<T extends KubeObject>(items: T[]): Informer<T> {
  return {
    addHandlers: () => undefined,
    list: () => items,
    get: (ns: string | undefined, name: string) =>
      items.find((o) => o.metadata?.namespace === ns && o.metadata?.name === name),
  } as unknown as Informer<T>;
}

function variant(
  name: string,
  opts: {
    model?: string;
    cost?: string;
    accelerator?: string;
    replicas?: number;
    labels?: Record<string, string>;
  } = {},
): GroupVariant {
  return {
    va: {
      apiVersion: "llmd.ai/v1alpha1",
      kind: "VariantAutoscaling",
      metadata: {
        name,
        namespace: "ns",
        labels: { "inference.optimization/acceleratorName": opts.accelerator ?? "H100" },
      },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
        modelID: opts.model ?? "m",
        variantCost: opts.cost ?? "10.0",
      },
    },
    deployment: {
      metadata: { name, namespace: "ns" },
      spec: {
        replicas: opts.replicas ?? 0,
        template: {
          metadata: { labels: opts.labels ?? { app: "m", variant: name } },
          spec: { containers: [{ name: "vllm", resources: { limits: { "nvidia.com/gpu": "1" } } }] },
        },
      },
    },
  } as unknown as GroupVariant;
}

const pool = (name: string, selector: Record<string, string>): InferencePool => ({
  namespace: "ns",
  name,
  selector,
  endpointPicker: { serviceName: `${name}-epp`, namespace: "ns", port: 9090, targetPort: 9090 },
});

function harness(over: Partial<ScaleFromZeroDeps> & { inactive: GroupVariant[]; active?: GroupVariant[] }) {
  const pools = new PoolDatastore();
  pools.set(pool("p", { app: "m" }));
  const scaled: string[] = [];
  const events: Array<{ reason: string; message: string }> = [];
  const woken: string[] = [];
  const decisions = new Map<string, CachedDecision>();
  const metrics = new ActuationMetrics("", { processMetrics: false });
  const deps: ScaleFromZeroDeps = {
    inactiveVariants: () => over.inactive,
    activeVariants: () => over.active ?? [],
    pools,
    queueSize: async () => 1,
    maxConcurrency: 10,
    gpuInventory: () => ({ H100: 8, A100: 8 }),
    setScale: async (ns, name, replicas) => void scaled.push(`${ns}/${name}=${replicas}`),
    metrics,
    decisions,
    enqueue: () => undefined,
    onWake: (v) => void woken.push(v.va.metadata!.name!),
    events: {
      record: async (_o: unknown, _t: string, reason: string, message: string) =>
        void events.push({ reason, message }),
    } as unknown as ScaleFromZeroDeps["events"],
    log: silentLogger,
    ...over,
  };
  return { loop: new ScaleFromZeroLoop(deps), pools, scaled, events, woken, decisions, metrics };
}

describe("scale-from-zero loop", () => {
  it("wakes one variant of a model with queued requests: scale 1, decision ScaleFromZero, gauge 1, counter", async () => {
    const h = harness({
      inactive: [
        variant("m-h100", { cost: "40.0" }),
        variant("m-a100", { cost: "20.0", accelerator: "A100" }),
      ],
    });
    await h.loop.runOnce();
    assert.deepEqual(h.scaled, ["ns/m-a100=1"], "the cheapest variant with free GPUs, only one");
    assert.deepEqual(h.woken, ["m-a100"]);
    const d = h.decisions.get("ns/m-a100")!;
    assert.equal(d.targetReplicas, 1);
    assert.equal(d.metrics.reason, "ScaleFromZero");
    assert.equal(d.optimization.reason, "ScaleFromZeroMode");
    const text = await h.metrics.metrics();
    assert.match(text, /wva_desired_replicas\{[^}]*variant_name="m-a100"[^}]*\} 1/);
    assert.match(text, /wva_replica_scaling_total\{[^}]*reason="scale-from-zero"[^}]*\} 1/);
  });

  it("variant choice skips a cheaper accelerator without free GPUs", async () => {
    const busy = variant("other-a100", { model: "x", accelerator: "A100", replicas: 8 });
    const h = harness({
      inactive: [
        variant("m-h100", { cost: "40.0" }),
        variant("m-a100", { cost: "20.0", accelerator: "A100" }),
      ],
      active: [busy],
    });
    await h.loop.runOnce();
    assert.deepEqual(h.scaled, ["ns/m-h100=1"]);
  });

  it("does nothing without queued requests, without pools, or while another variant of the model runs", async () => {
    let h = harness({ inactive: [variant("m-a")], queueSize: async () => 0 });
    await h.loop.runOnce();
    assert.deepEqual(h.scaled, []);
    h = harness({ inactive: [variant("m-a")] });
    h.pools.delete("ns", "p");
    await h.loop.runOnce();
    assert.deepEqual(h.scaled, []);
    h = harness({ inactive: [variant("m-a")], active: [variant("m-b", { replicas: 1 })] });
    await h.loop.runOnce();
    assert.deepEqual(h.scaled, []);
  });

  it("several matching pools: the most specific is read, with one Warning event per change", async () => {
    const asked: string[] = [];
    const h = harness({
      inactive: [variant("m-a")],
      queueSize: async (p) => {
        asked.push(p.name);
        return 1;
      },
    });
    h.pools.set(pool("b-specific", { app: "m", variant: "m-a" }));
    h.pools.set(pool("a-specific", { variant: "m-a", app: "m" }));
    await h.loop.runOnce();
    await h.loop.runOnce();
    assert.deepEqual(asked, ["a-specific", "a-specific"]);
    assert.equal(h.events.filter((e) => e.reason === "AmbiguousInferencePool").length, 1);
    assert.match(h.events[0].message, /a-specific, b-specific, p .*using a-specific/);
  });

  it("a target without pod template labels is an error of its model only", async () => {
    const bare = variant("z-bare", { model: "z" });
    (bare.deployment.spec!.template!.metadata as { labels?: unknown }).labels = undefined;
    const h = harness({ inactive: [bare, variant("m-a")] });
    await assert.rejects(h.loop.runOnce(), /ns\/z-bare: labels are missing for target workload object/);
    assert.deepEqual(h.scaled, ["ns/m-a=1"], "the other model is still woken");
  });

  it("checks at most SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY models at once", async () => {
    let inFlight = 0;
    let peak = 0;
    const inactive = Array.from({ length: 9 }, (_, i) =>
      variant(`v${i}`, { model: `m${i}`, labels: { app: "m" } }),
    );
    const h = harness({
      inactive,
      maxConcurrency: 3,
      queueSize: async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return 0;
      },
    });
    await h.loop.runOnce();
    assert.equal(peak, 3);
  });
});

describe("InferencePool reconciler", () => {
  const svc = (ports: Service["spec"]) =>
    ({ metadata: { name: "p-epp", namespace: "ns" }, spec: ports }) as Service;
  const poolObj: InferencePoolObject = {
    metadata: { name: "p", namespace: "ns" },
    spec: { selector: { matchLabels: { app: "m" } }, endpointPickerRef: { name: "p-epp" } },
  };

  it("a Service without a metrics port keeps the pool out of the datastore", () => {
    const r = new PoolReconciler({
      group: "inference.networking.k8s.io",
      pools: fakeInformer([poolObj]),
      services: fakeInformer([svc({ selector: { epp: "p" }, ports: [{ name: "grpc", port: 9002 }] })]),
      pods: fakeInformer<Pod>([]),
      log: silentLogger,
    });
    r.sync(poolObj);
    assert.equal(r.datastore.size, 0);
    r.close();
  });

  it("scrapes the Ready EPP pods with the bearer token and sums the model's queue", async () => {
    const seen: Array<string | undefined> = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.end(
        [
          'inference_extension_flow_control_queue_size{target_model_name="m",model_name="m"} 2',
          'inference_extension_flow_control_queue_size{target_model_name="other",model_name="other"} 5',
          "",
        ].join("\n"),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as AddressInfo).port;
    const pods: Pod[] = [
      {
        metadata: { name: "epp-1", namespace: "ns", labels: { epp: "p" } },
        status: { podIP: "127.0.0.1", phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
      },
      {
        metadata: { name: "epp-2", namespace: "ns", labels: { epp: "p" } },
        status: { podIP: "127.0.0.1", phase: "Running", conditions: [{ type: "Ready", status: "False" }] },
      },
    ];
    const r = new PoolReconciler({
      group: "inference.networking.k8s.io",
      pools: fakeInformer([poolObj]),
      services: fakeInformer([
        svc({ selector: { epp: "p" }, ports: [{ name: "http-metrics", port: 19090, targetPort: port }] }),
      ]),
      pods: fakeInformer(pods),
      bearerToken: "s3cret",
      log: silentLogger,
    });
    try {
      r.sync(poolObj);
      const p = r.datastore.get("ns", "p")!;
      assert.equal(p.endpointPicker.targetPort, port);
      assert.equal(await r.queueSize(p, "m"), 2);
      assert.equal(await r.queueSize(p, "absent"), 0);
      assert.deepEqual(seen.slice(0, 1), ["Bearer s3cret"], "one Ready pod scraped, with the token");
    } finally {
      r.close();
      await new Promise((res) => server.close(res));
    }
  });
});
