// Over 450 lines: one trial from cluster start to report; its steps share the trial's running state.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Writable } from "node:stream";
import type { Logger } from "pino";
import { variantAutoscalingCRD } from "../../api/v1alpha1/index.js";
import type { VariantReport } from "../../controller/engine-loop.js";
import { createLogger, silentLogger } from "../../util/logger.js";
import { formatEta, ProgressLine } from "../../util/progress.js";
import {
  productLabel,
  startCluster,
  ScrapeMetricsProvider,
  type KObject,
  type RunningCluster,
} from "../cluster/index.js";
import { seededRandom, stepArrivals, traceArrivals, type Arrival } from "../load/patterns.js";
import { percentiles, runLoad, type LoadReport } from "../load/runner.js";
import { VllmEmulator } from "../vllm/server.js";
import { SCALE_TO_ZERO_CONFIG_MAP } from "../../config/scale-to-zero.js";
import { formatDuration } from "../../util/duration.js";
import {
  CONTAINER_PORT,
  EPP_LABEL,
  EPP_METRICS_PORT,
  poolName,
  trialManifests,
  VARIANT_LABEL,
} from "./manifests.js";
import {
  ReportBuilder,
  type Cycle,
  type ModelCycle,
  type ModelReport,
  type Report,
  type ReportHeader,
  type TrialSetup,
  type VariantCycle,
} from "./report.js";
import { ModelRouter } from "./router.js";
import { SLO_CONFIG_MAP } from "../../config/slo.js";
import { MAX_REQUESTS, type ModelSpec, type Scenario, type VariantSpec } from "./scenario.js";
import { groupKey } from "../../types/decision.js";
import { renderTable, type LoadLine, type TableRow } from "./table.js";
import { timeline, type Timeline } from "./timeline.js";

/** What the playground shows of one variant per engine cycle (the controller's report, trimmed). */
export type CycleVariant = Omit<VariantReport, "accelerator" | "path">;

export interface ControllerStartOptions {
  kubeconfigPath: string;
  actuation: "hpa" | "direct";
  engineIntervalMs: number;
  /** Scale-down stabilisation window of the direct actuator (the scenario's `hpa.stabilizationWindow`). */
  scaleDownStabilizationMs: number;
  /** Namespace of the controller's ConfigMaps. */
  systemNamespace: string;
  logger: Logger;
  onCycle: (variants: CycleVariant[]) => void;
}

export interface ControllerHandle {
  /** Plain-HTTP `/metrics` URL serving `wva_desired_replicas` (read by the emulated HPA). */
  metricsUrl?: string;
  stop(): Promise<void>;
}

/** Starts the WVA controller against the emulated cluster (the in-process manager by default). */
export type ControllerStarter = (o: ControllerStartOptions) => Promise<ControllerHandle>;

export interface RunOptions {
  /** Write the JSON report here at the end. */
  reportPath?: string;
  /** Also write the emulator's kubeconfig here. */
  kubeconfigPath?: string;
  /** Refresh a live table (TTY) instead of printing one line per variant and cycle. */
  table: boolean;
  out: Writable;
  /** Stops the run early (SIGINT / SIGTERM too, unless handleSignals is false). */
  signal?: AbortSignal;
  handleSignals?: boolean;
  /** Manager and cluster logs (JSON lines) go to this file; default: discarded. */
  logFile?: string;
  /** Seed of the load's random arrivals and token sizes (default: 1). */
  seed?: number;
  /** The controller to run. */
  controller: ControllerStarter;
  /**
   * Called once the cluster, the endpoint pickers and the manager run, before the load starts; `routers`
   * is keyed by each model's `groupKey(modelID, namespace)`.
   */
  onStarted?: (trial: { cluster: RunningCluster; routers: ReadonlyMap<string, ModelRouter> }) => void;
  /** Told when the run starts and after each engine cycle of the trial (the live dashboard listens here). */
  observer?: {
    /** Shown under the live table. */
    url?: string;
    start(header: ReportHeader): void;
    cycle(cycle: Cycle): void;
  };
}

const SYSTEM_NAMESPACE = "wva-system";
/** How long a deleted pod's emulator keeps serving the requests it holds. */
export const TERMINATION_GRACE_MS = 30_000;

/** After the trial's end, requests in flight get this long to finish before they count as failed. */
export function endGraceMs(engineIntervalMs: number): number {
  return Math.max(5000, 2 * engineIntervalMs);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

interface VariantRef {
  model: ModelSpec;
  variant: VariantSpec;
}

/** Arrivals of one model for the trial, cut at the trial's end. */
export function modelArrivals(
  m: ModelSpec,
  durationMs: number,
  seed: number,
): { arrivals: Arrival[]; info?: Record<string, unknown> } {
  const rng = seededRandom(seed);
  if (m.load.schedule) {
    const tokens = {
      input: { kind: "fixed" as const, value: m.load.tokens.input },
      output: { kind: "fixed" as const, value: m.load.tokens.output },
    };
    const arrivals = stepArrivals(
      m.load.schedule.map((s) => [s.durationMs / 1000, s.rate] as [number, number]),
      tokens,
      rng,
      m.load.arrival === "poisson",
      // the scenario bounded its requests when it was read (all models together)
      MAX_REQUESTS,
    ).filter((a) => a.t < durationMs);
    return { arrivals };
  }
  const tr = m.load.trace!;
  // The emulator rejects requests that can never fit its KV cache: cap prompt + output to the smallest one.
  const kvTokens = Math.min(...m.variants.map((v) => v.emulator.kvBlocks * v.emulator.blockSize));
  const maxOutputTokens = Math.max(1, Math.floor(kvTokens / 4));
  const startMs = tr.startMs / tr.timeScale;
  const { arrivals, info } = traceArrivals(
    readFileSync(tr.file, "utf8"),
    {
      timeCompression: tr.timeScale,
      rateScale: tr.rateScale,
      durationMs: startMs + durationMs,
      maxOutputTokens,
      maxInputTokens: Math.max(1, kvTokens - maxOutputTokens - 16),
    },
    rng,
  );
  return {
    arrivals: arrivals.filter((a) => a.t >= startMs).map((a) => ({ ...a, t: a.t - startMs })),
    info: { ...info, trace: tr.file, start: tr.startMs / 1000 },
  };
}

/**
 * Runs a trial: the API emulator with the scenario's GPU nodes, the CRD, Deployments, VAs (and HPAs),
 * one vLLM emulator per pod, the WVA manager in-process, the load; records every engine cycle.
 */
export async function runPlayground(scenario: Scenario, options: RunOptions): Promise<Report> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  if (options.handleSignals !== false) {
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  }
  if (options.signal) {
    if (options.signal.aborted) stop.abort();
    else options.signal.addEventListener("abort", onSignal, { once: true });
  }
  const log: Logger = options.logFile
    ? createLogger({ name: "playground", format: "text", file: options.logFile })
    : silentLogger;
  const out = options.out;
  const say = (line: string) => out.write(`${line}\n`);

  const byDeployment = new Map<string, VariantRef>();
  for (const model of scenario.models)
    for (const variant of model.variants)
      byDeployment.set(`${model.namespace}/${variant.name}`, { model, variant });
  const emulators = new Map<string, VllmEmulator>(); // pod uid → emulator
  const routers = new Map<string, ModelRouter>(); // ns/modelID → router
  const byPool = new Map<string, ModelRouter>(); // ns/pool → router
  let cluster: RunningCluster | undefined;
  let manager: ControllerHandle | undefined;
  const startedAt = new Date();
  const builder = new ReportBuilder({
    scenario: scenario.name,
    actuation: scenario.actuation,
    engineIntervalMs: scenario.engineIntervalMs,
    startedAt,
    setup: trialSetup(scenario),
  });
  options.observer?.start(builder.header());
  const loadReports = new Map<string, LoadReport>();
  let t0 = 0;
  let elapsed = 0;
  let shuttingDown = false;

  try {
    say(`playground: starting the API emulator with nodes ${scenario.nodes.map((n) => n.spec).join(", ")}`);
    cluster = await startCluster({
      nodes: scenario.nodes.map((n) => n.spec),
      namespaces: [SYSTEM_NAMESPACE],
      kubeconfigPath: options.kubeconfigPath,
      podStartupDelayMs: 0,
      // a random 127.x prefix keeps parallel runs on one machine from sharing pod addresses
      podIPPrefix: `127.${2 + Math.floor(Math.random() * 250)}`,
      hpa: { syncPeriodMs: scenario.hpa.syncPeriodMs, tolerance: scenario.hpa.tolerance },
      log: (m) => log.warn({ component: "cluster" }, m),
      onPodStarted: async (pod: KObject, podLog: (line: string) => void) => {
        const ns = pod.metadata?.namespace ?? "default";
        const epp = byPool.get(`${ns}/${pod.metadata?.labels?.[EPP_LABEL]}`);
        if (epp) {
          const ip = (pod.status as { podIP?: string } | undefined)?.podIP ?? "127.0.0.1";
          const url = await epp.startMetrics(ip, EPP_METRICS_PORT);
          podLog(`INFO endpoint picker (flow control on) serving metrics on ${url}`);
          return;
        }
        const name = pod.metadata?.labels?.[VARIANT_LABEL];
        const ref = name ? byDeployment.get(`${ns}/${name}`) : undefined;
        if (!ref) return;
        const emu = new VllmEmulator({
          model: ref.model.modelID,
          engine: ref.variant.emulator,
          logger: log,
          accessLog: podLog,
        });
        const ip = (pod.status as { podIP?: string } | undefined)?.podIP ?? "127.0.0.1";
        await emu.start({ host: ip, port: CONTAINER_PORT });
        podLog(`INFO vLLM emulator serving model ${ref.model.modelID} on http://${ip}:${CONTAINER_PORT}`);
        emulators.set(pod.metadata!.uid!, emu);
        await sleep(ref.variant.startupDelayMs, stop.signal); // model loading
      },
      onPodStopped: async (pod: KObject) => {
        const ns = pod.metadata?.namespace ?? "default";
        await byPool.get(`${ns}/${pod.metadata?.labels?.[EPP_LABEL]}`)?.stopMetrics();
        const emu = emulators.get(pod.metadata!.uid!);
        emulators.delete(pod.metadata!.uid!);
        if (!emu) return;
        // Like vLLM within the termination grace period: the pod is out of the router already, the
        // requests it holds finish before the server stops (unless the whole run is stopping).
        const deadline = Date.now() + TERMINATION_GRACE_MS;
        while (!shuttingDown && Date.now() < deadline) {
          const st = emu.stats();
          if (st.running + st.waiting === 0) break;
          await sleep(100, stop.signal);
        }
        await emu.stop();
      },
    });
    const store = cluster.store;
    store.create(
      store.typeFor("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
      variantAutoscalingCRD() as unknown as KObject,
    );
    store.create(store.typeFor("v1", "ConfigMap"), {
      metadata: { name: "wva-saturation-scaling-config", namespace: SYSTEM_NAMESPACE },
      data: {
        default: Object.entries(scenario.saturation)
          .filter(([, v]) => v !== "")
          .map(([k, v]) => `${k}: ${v}`)
          .concat("enableLimiter: false")
          .join("\n"),
      },
    });
    // each model's latency targets, for the queueing-model engine
    store.create(store.typeFor("v1", "ConfigMap"), {
      metadata: { name: SLO_CONFIG_MAP, namespace: SYSTEM_NAMESPACE },
      data: Object.fromEntries(
        scenario.models.map((m, i) => [
          `model-${i}`,
          `model_id: ${JSON.stringify(m.modelID)}\nnamespace: ${m.namespace}\ntargetTTFT: ${m.slo.ttftMs}\ntargetITL: ${m.slo.itlMs}\n`,
        ]),
      ),
    });
    // Endpoint pickers: one front door per model over its ready pods, with a flow-control queue.
    const podType = store.typeFor("v1", "Pod");
    for (const m of scenario.models) {
      const names = new Set(m.variants.map((v) => v.name));
      const router = new ModelRouter({
        model: m.modelID,
        queueTimeoutMs: scenario.routerTimeoutMs,
        endpoints: () =>
          store
            .peekList(podType, m.namespace)
            .filter(
              (p) =>
                names.has(p.metadata?.labels?.[VARIANT_LABEL] ?? "") &&
                isReady(p) &&
                !p.metadata?.deletionTimestamp,
            )
            .map((p) => `${(p.status as { podIP: string }).podIP}:${CONTAINER_PORT}`),
      });
      await router.start();
      routers.set(groupKey(m.modelID, m.namespace), router);
      byPool.set(`${m.namespace}/${poolName(m)}`, router);
    }
    const stz = scenario.models.filter((m) => m.scaleToZero);
    if (stz.length > 0)
      store.create(store.typeFor("v1", "ConfigMap"), {
        metadata: { name: SCALE_TO_ZERO_CONFIG_MAP, namespace: SYSTEM_NAMESPACE },
        data: Object.fromEntries(
          stz.map((m, i) => [
            `model-${i}`,
            [
              `model_id: ${JSON.stringify(m.modelID)}`,
              `namespace: ${m.namespace}`,
              "enable_scale_to_zero: true",
              `retention_period: ${formatDuration(m.scaleToZero!.retentionMs)}`,
            ].join("\n"),
          ]),
        ),
      });
    for (const obj of trialManifests(scenario, productLabel)) {
      const t = store.typeFor(obj.apiVersion, obj.kind);
      if (obj.kind === "Namespace" && store.peek(t, undefined, obj.metadata.name)) continue;
      store.create(t, obj as unknown as KObject);
    }

    // Wait for the initial pods to be Ready (bounded), so the load meets a served model.
    const depType = store.typeFor("apps/v1", "Deployment");
    const setupStart = Date.now();
    const slowestStartup = Math.max(...[...byDeployment.values()].map((r) => r.variant.startupDelayMs));
    const readyWaitEnd = Date.now() + 60_000 + slowestStartup;
    const readyOf = ({ model, variant }: VariantRef) => {
      const d = store.peek(depType, model.namespace, variant.name);
      const ready = (d?.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0;
      return Math.min(ready, variant.initialReplicas);
    };
    const notReady = () => [...byDeployment.values()].filter((r) => readyOf(r) < r.variant.initialReplicas);
    // "waiting for 4 pods, 2 ready": rewritten in place with an ETA under the live table, else one line per change
    const wanted = [...byDeployment.values()].reduce((n, r) => n + r.variant.initialReplicas, 0);
    const startup = new ProgressLine(out, { tty: options.table, minIntervalMs: options.table ? 250 : 0 });
    const showStartup = () => {
      const ready = [...byDeployment.values()].reduce((n, r) => n + readyOf(r), 0);
      const eta = options.table ? ` (ETA ${formatEta(setupStart + slowestStartup - Date.now())})` : "";
      startup.update(`playground: waiting for ${wanted} pods, ${ready} ready${eta}`);
    };
    showStartup();
    while (!stop.signal.aborted && notReady().length > 0) {
      showStartup();
      if (Date.now() > readyWaitEnd) {
        const names = notReady().map(({ model, variant }) => `${model.namespace}/${variant.name}`);
        throw new Error(
          `initial pods not Ready after ${(readyWaitEnd - setupStart) / 1000}s: ${names.join(", ")}`,
        );
      }
      await sleep(100, stop.signal);
    }
    // and the endpoint pickers' pods, which serve the queue metrics
    const eppNotReady = () =>
      scenario.models.filter((m) => {
        const d = store.peek(depType, m.namespace, `${poolName(m)}-epp`);
        return ((d?.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0) < 1;
      });
    while (!stop.signal.aborted && eppNotReady().length > 0) {
      if (Date.now() > readyWaitEnd)
        throw new Error(
          `endpoint picker pods not Ready: ${eppNotReady()
            .map((m) => `${m.namespace}/${poolName(m)}-epp`)
            .join(", ")}`,
        );
      await sleep(100, stop.signal);
    }
    startup.clear();
    say(`playground: ${wanted} pods ready`);

    // The WVA manager, in-process, scraping the pods directly.
    let cycleNo = 0;
    const lastRows = new Map<string, TableRow>();
    const timelines = new Map<string, Timeline>();
    const arrivalsByModel = new Map<string, Arrival[]>();
    for (const m of scenario.models) {
      const key = groupKey(m.modelID, m.namespace);
      if (m.load.schedule) timelines.set(key, timeline(m.load.schedule));
    }
    // Requests per model since the previous cycle, for the per-cycle rate and latency.
    const windows = new Map<string, { received: number; ttft: number[]; itl: number[]; failed: number }>();
    const windowOf = (key: string) => {
      let w = windows.get(key);
      if (!w) windows.set(key, (w = { received: 0, ttft: [], itl: [], failed: 0 }));
      return w;
    };
    let lastCycleMs = 0;
    const modelCycles = (tMs: number): ModelCycle[] => {
      const dt = Math.max(1e-3, (tMs - lastCycleMs) / 1000);
      lastCycleMs = tMs;
      return scenario.models.map((m) => {
        const key = groupKey(m.modelID, m.namespace);
        const w = windowOf(key);
        const received = routers.get(key)!.stats().received;
        const mc: ModelCycle = {
          model: m.modelID,
          namespace: m.namespace,
          rate: Math.round(((received - w.received) / dt) * 1000) / 1000,
          completed: w.ttft.length,
          failed: w.failed,
          ...(w.ttft.length > 0
            ? {
                ttftMs: roundedPercentiles(percentiles(w.ttft)),
                itlMs: roundedPercentiles(percentiles(w.itl)),
              }
            : {}),
        };
        windows.set(key, { received, ttft: [], itl: [], failed: 0 });
        return mc;
      });
    };
    const costOf = (ns: string, v: string) => byDeployment.get(`${ns}/${v}`)?.variant.cost;
    const loadLines = (tMs: number): LoadLine[] =>
      scenario.models.map((m) => {
        const key = groupKey(m.modelID, m.namespace);
        const s = routers.get(key)!.stats();
        const tl = timelines.get(key);
        let rate: number;
        if (tl) rate = tl.rateAt(tMs);
        else {
          const w = 5000;
          rate =
            (arrivalsByModel.get(key) ?? []).filter((a) => a.t > tMs - w && a.t <= tMs).length / (w / 1000);
        }
        return {
          model: m.modelID,
          namespace: m.namespace,
          rate,
          sent: s.received,
          completed: s.completed,
          failed: s.failed,
        };
      });
    const onCycle = (variants: CycleVariant[]) => {
      if (t0 === 0 || stop.signal.aborted) return;
      const tMs = performance.now() - t0;
      if (tMs > scenario.durationMs) return;
      cycleNo++;
      const rows: VariantCycle[] = variants
        .filter((v) => byDeployment.has(`${v.namespace}/${v.variant}`))
        .map((v) => ({
          model: v.modelID,
          namespace: v.namespace,
          variant: v.variant,
          current: v.current,
          ready: v.ready,
          desired: v.desired,
          kvUsage: v.kvUsage ?? 0,
          queue: v.queue ?? 0,
          action: v.action,
          reason: v.reason,
        }));
      // variants at zero replicas are not part of the engine's cycle: show them as they stand
      const seen = new Set(rows.map((r) => `${r.namespace}/${r.variant}`));
      for (const [key, { model, variant }] of byDeployment) {
        if (seen.has(key)) continue;
        const d = cluster?.store.peek(
          cluster.store.typeFor("apps/v1", "Deployment"),
          model.namespace,
          variant.name,
        );
        const spec = (d?.spec as { replicas?: number } | undefined)?.replicas;
        if (spec !== 0) continue;
        rows.push({
          model: model.modelID,
          namespace: model.namespace,
          variant: variant.name,
          current: 0,
          ready: (d?.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0,
          desired: 0,
          kvUsage: 0,
          queue: 0,
          action: "no-change",
          reason: "at zero replicas: the scale-from-zero loop wakes it on a queued request",
        });
      }
      const cycle = builder.addCycle(tMs, rows, modelCycles(tMs));
      options.observer?.cycle(cycle);
      for (const row of rows)
        lastRows.set(`${row.namespace}/${row.variant}`, { ...row, cost: costOf(row.namespace, row.variant) });
      if (options.table) {
        out.write(
          `\x1b[H\x1b[2J${renderTable({
            title: scenario.name,
            tMs,
            durationMs: scenario.durationMs,
            engineIntervalMs: scenario.engineIntervalMs,
            actuation: scenario.actuation,
            cycle: cycleNo,
            rows: [...lastRows.values()],
            load: loadLines(tMs),
            metricsUrl: manager?.metricsUrl,
            width: (out as { columns?: number }).columns ?? 120,
          })}${options.observer?.url ? `\nlive dashboard: ${options.observer.url}\n` : ""}`,
        );
      } else {
        for (const row of rows)
          out.write(
            `t=${(tMs / 1000).toFixed(1)}s ${row.namespace}/${row.variant} current=${row.current} ready=${row.ready} ` +
              `desired=${row.desired} kv=${Math.round(row.kvUsage * 100)}% queue=${row.queue} ${row.action}: ${row.reason}\n`,
          );
      }
    };
    say(
      `playground: starting the WVA manager (${scenario.actuation} actuation, engine every ${scenario.engineIntervalMs / 1000}s)`,
    );
    manager = await options.controller({
      kubeconfigPath: cluster.kubeconfigPath,
      actuation: scenario.actuation,
      engineIntervalMs: scenario.engineIntervalMs,
      scaleDownStabilizationMs: scenario.hpa.stabilizationWindowMs,
      systemNamespace: SYSTEM_NAMESPACE,
      logger: log,
      onCycle,
    });
    if (manager.metricsUrl)
      say(
        `playground: the manager's metrics (wva_*) are at ${manager.metricsUrl} for your own Prometheus or Grafana`,
      );
    if (scenario.actuation === "hpa") {
      const m = manager;
      cluster.hpa.setProvider(new ScrapeMetricsProvider(() => m.metricsUrl));
    }

    options.onStarted?.({ cluster, routers });

    // Load.
    t0 = performance.now();
    say(`playground: load starts; the trial runs ${scenario.durationMs / 1000}s (Ctrl-C stops it)`);
    const loadAbort = new AbortController();
    stop.signal.addEventListener("abort", () => loadAbort.abort(), { once: true });
    const loads = scenario.models.map(async (m, i) => {
      const key = groupKey(m.modelID, m.namespace);
      const { arrivals, info } = modelArrivals(m, scenario.durationMs, (options.seed ?? 1) + i);
      arrivalsByModel.set(key, arrivals);
      const rep = await runLoad({
        target: routers.get(key)!.url,
        model: m.modelID,
        arrivals,
        pattern: m.load.schedule ? `schedule/${m.load.arrival}` : "trace",
        signal: loadAbort.signal,
        info,
        onResult: (r) => {
          const w = windowOf(key);
          if (!r.ok) w.failed++;
          else {
            w.ttft.push(r.ttftMs);
            w.itl.push(...r.itlMs);
          }
        },
      });
      loadReports.set(key, rep);
    });
    await sleep(scenario.durationMs, stop.signal);
    elapsed = performance.now() - t0;
    // Let requests in flight finish for a short grace period, then cut them (they count as failed).
    const grace = sleep(endGraceMs(scenario.engineIntervalMs), stop.signal).then(() => loadAbort.abort());
    await Promise.all(loads);
    loadAbort.abort();
    await grace.catch(() => undefined);
  } finally {
    shuttingDown = true;
    if (elapsed === 0 && t0 > 0) elapsed = performance.now() - t0;
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await manager?.stop().catch(() => undefined);
    for (const r of routers.values()) await r.stop().catch(() => undefined);
    await cluster?.stop().catch(() => undefined);
    for (const e of emulators.values()) await e.stop().catch(() => undefined);
  }

  const models: ModelReport[] = scenario.models.map((m) => {
    const r = loadReports.get(groupKey(m.modelID, m.namespace));
    const cold = routers.get(groupKey(m.modelID, m.namespace))?.coldStartReport();
    return {
      modelID: m.modelID,
      namespace: m.namespace,
      requests: r ? { ...r.requests } : { sent: 0, completed: 0, failed: 0 },
      ttftMs: roundedPercentiles(r?.ttftMs),
      itlMs: roundedPercentiles(r?.itlMs),
      coldStart: {
        requests: cold?.requests ?? 0,
        completed: cold?.completed ?? 0,
        ttftMs: roundedPercentiles(cold?.ttftMs),
      },
      ...(r && Object.keys(r.errors).length > 0 ? { errors: r.errors } : {}),
    };
  });
  const report = builder.build(models, elapsed);
  if (options.reportPath) {
    mkdirSync(dirname(options.reportPath), { recursive: true });
    writeFileSync(options.reportPath, `${JSON.stringify(report, null, 2)}\n`);
  }
  return report;
}

/** Percentiles rounded to the microsecond. */
const roundedPercentiles = (x?: { p50: number; p95: number; p99: number }) => ({
  p50: round(x?.p50),
  p95: round(x?.p95),
  p99: round(x?.p99),
});

/** Thresholds, variant costs and latency objectives of the trial, for the views. */
function trialSetup(scenario: Scenario): TrialSetup {
  return {
    saturation: {
      kvCacheThreshold: scenario.saturation.kvCacheThreshold,
      queueLengthThreshold: scenario.saturation.queueLengthThreshold,
    },
    variants: scenario.models.flatMap((m) =>
      m.variants.map((v) => ({
        model: m.modelID,
        namespace: m.namespace,
        variant: v.name,
        accelerator: v.accelerator,
        cost: v.cost,
      })),
    ),
    slo: scenario.models.map((m) => ({ model: m.modelID, namespace: m.namespace, ...m.slo })),
  };
}

function round(x: number | undefined): number {
  return x === undefined ? 0 : Math.round(x * 1000) / 1000;
}

function isReady(p: KObject): boolean {
  const conds =
    (p.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? [];
  return (
    conds.some((c) => c.type === "Ready" && c.status === "True") && !!(p.status as { podIP?: string }).podIP
  );
}
