// Child process of bench/controller.bench.ts: runs the manager alone (so its RSS is its own) with a
// synthetic metrics layer and reports per-cycle numbers to the parent over IPC.
import type { GroupCollection, GroupCollector, GroupVariant } from "../../src/controller/engine-loop.js";
import type { ModelGroup } from "../../src/types/decision.js";
import { replicaState } from "../../src/controller/accelerator.js";
import { startManager } from "../../src/controller/manager.js";
import { silentLogger } from "../../src/util/logger.js";

/** Every replica reports the same moderate load: a stable model, no scaling. */
class SteadyCollector implements GroupCollector {
  async collectAll(groups: ModelGroup<GroupVariant>[]): Promise<Map<string, GroupCollection>> {
    const out = new Map<string, GroupCollection>();
    for (const g of groups) {
      const replicas = g.variants.flatMap((v) =>
        Array.from({ length: replicaState(v.deployment).current }, (_, i) => ({
          pod: `${v.va.metadata!.name}-${i}`,
          variant: v.va.metadata!.name!,
          kvCacheUsage: 0.5,
          queueLength: 1,
        })),
      );
      out.set(`${g.modelID}|${g.namespace}`, { ok: true, replicas });
    }
    return out;
  }
  async requestCount(): Promise<{ count: number | null }> {
    return { count: 1 };
  }
}

const cycles = Number(process.env.BENCH_CYCLES ?? "5");
const m = await startManager({
  kubeconfig: process.env.BENCH_KUBECONFIG!,
  logger: silentLogger,
  metricsSource: new SteadyCollector(),
  resyncMs: 0,
  flags: { metricsBindAddress: "0", healthProbeBindAddress: "0" },
  env: { POD_NAMESPACE: "wva-system", GLOBAL_OPT_INTERVAL: "1h" },
});
const startedAt = performance.now();
await m.ready();
await m.waitForLeadership();
const syncMs = performance.now() - startedAt;
const rows: Array<{
  cycle: number;
  ms: number;
  requests: number;
  writes: number;
  rssMiB: number;
  variants: number;
}> = [];
for (let i = 0; i < cycles; i++) {
  const before = m.apiRequests();
  const t0 = performance.now();
  const r = await m.runCycle();
  await m.reconcileIdle();
  const ms = performance.now() - t0;
  const after = m.apiRequests();
  rows.push({
    cycle: i + 1,
    ms,
    requests: after.total - before.total,
    writes: (after.byVerb.PATCH ?? 0) - (before.byVerb.PATCH ?? 0),
    rssMiB: process.memoryUsage().rss / 2 ** 20,
    variants: r.activeVariants,
  });
}
await m.stop();
process.send!({ syncMs, rows, heapMiB: process.memoryUsage().heapUsed / 2 ** 20 });
process.disconnect();
