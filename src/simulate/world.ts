// Over 450 lines: one simulated cluster (pods, routers, metrics, timeline) whose parts share its virtual clock.
import { freeGpus } from "../enforce/scale-from-zero.js";
import type { Arrival } from "../playground/load/patterns.js";
import type { VariantCycle } from "../playground/runner/report.js";
import { endGraceMs, TERMINATION_GRACE_MS } from "../playground/runner/run.js";
import type { ModelSpec, Scenario, VariantSpec } from "../playground/runner/scenario.js";
import { EngineError, VllmEngine, type CompletedRequest } from "../playground/vllm/engine.js";
import { LatencySketch, type Percentiles } from "./quantiles.js";

/**
 * The simulated cluster of one policy run, in virtual time (ms from the start of the trial): pods with
 * one vLLM performance model each (the emulator's engine, advanced by the event loop instead of a wall
 * clock), a router per model, per-pod metrics as the collector scrapes them, replica bookkeeping and the
 * per-cycle timeline. Policies read it and call `scale`.
 */

/** The collector's peak window for KV use and queue length. */
export const PEAK_WINDOW_MS = 60_000;

export interface PodSample {
  t: number;
  kv: number;
  queue: number;
  /** Completed requests and their prompt / generated tokens so far (the server's histogram sums). */
  done: number;
  inputTokens: number;
  outputTokens: number;
}

/** What the collector reads of one pod: peaks over the last minute, token figures as vLLM reports them. */
export interface PodMetrics {
  pod: string;
  kv: number;
  queue: number;
  /** Tokens in the KV cache at the peak KV use. */
  tokensInUse: number;
  /** KV-cache capacity in tokens (blocks × block size). */
  totalKvCapacityTokens: number;
  /** Mean prompt and generated lengths of the requests completed in the window; absent without any. */
  avgInputTokens?: number;
  avgOutputTokens?: number;
}

export interface SimPod {
  id: number;
  name: string;
  variant: SimVariant;
  engine: VllmEngine;
  readyAt: number;
  ready: boolean;
  /** Deadline of the termination grace period once deleted. */
  drainUntil?: number;
  inFlight: number;
  /** Scrapes of the last minute. */
  samples: PodSample[];
  /** Totals of the completed requests, as vLLM's counters and histogram sums count them. */
  served: ServedTotals;
}

/** Cumulative totals of one pod's completed requests (times in ms, measured at the pod). */
export interface ServedTotals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  ttftMs: number;
  /** Sum and count of the gaps between output tokens. */
  itlMs: number;
  itlCount: number;
}

export interface SimVariant {
  model: SimModel;
  spec: VariantSpec;
  /** Pods of the Deployment (starting and ready; deleted pods are not listed), oldest first. */
  pods: SimPod[];
  /** What the policy wants (the published target for wva; the HPA's or plan's replicas otherwise). */
  desired: number;
  scalingActions: number;
  reversals: number;
  lastDirection: number;
  /** Replica-milliseconds so far and since when the current count holds. */
  replicaMs: number;
  since: number;
}

export interface SimModel {
  spec: ModelSpec;
  arrivals: Arrival[];
  next: number;
  variants: SimVariant[];
  /** Requests waiting in the router (the endpoint picker's queue) for a ready pod, FIFO. */
  waiting: Array<{ arrival: Arrival; index: number }>;
  waitHead: number;
  rr: number;
  sent: number;
  completed: number;
  metSlo: number;
  ttft: LatencySketch;
  itl: LatencySketch;
  windowTtft: LatencySketch;
  windowItl: LatencySketch;
  windowSent: number;
  /** Requests that waited in the router for a pod to become ready (a cold start), and their TTFT. */
  coldStarts: number;
  coldCompleted: number;
  coldTtft: LatencySketch;
  /** Completion times of the successful requests not yet dropped by {@link World.completionsSince}. */
  doneAt: number[];
  doneHead: number;
}

/** A variant's replicas in a timeline entry: the same fields as a playground report's cycle. */
export type TimelineVariant = Pick<
  VariantCycle,
  "model" | "namespace" | "variant" | "current" | "ready" | "desired"
>;

export interface TimelineLoad {
  model: string;
  namespace: string;
  /** Arrivals per second over the last engine interval. */
  rps: number;
  /** Latency of the requests that completed in the last engine interval. */
  ttftMs: Percentiles;
  itlMs: Percentiles;
}

export interface TimelineEntry {
  /** Seconds since the start. */
  t: number;
  variants: TimelineVariant[];
  load: TimelineLoad[];
}

export interface Timer {
  periodMs: number;
  run(now: number): void;
}

export interface WorldOptions {
  /** Pods are Ready at once (the oracle pays no start-up delay). */
  instantStart?: boolean;
  /** Runs until every request has finished, however long after the trial's end (the oracle's window replays). */
  untilDone?: boolean;
  /** Only requests arriving at or after this time count in `metSlo` (default: all). */
  metFrom?: number;
  onProgress?: (fraction: number) => void;
}

export class World {
  now = 0;
  readonly models: SimModel[];
  readonly variants: SimVariant[];
  readonly timeline: TimelineEntry[] = [];
  private readonly draining: SimPod[] = [];
  private readonly timers: Array<Timer & { next: number }> = [];
  private nextPodId = 1;
  private readonly endMs: number;

  constructor(
    readonly scenario: Scenario,
    arrivals: readonly Arrival[][],
    private readonly opts: WorldOptions = {},
  ) {
    this.models = scenario.models.map((spec, i) => {
      const m: SimModel = {
        spec,
        arrivals: arrivals[i],
        next: 0,
        variants: [],
        waiting: [],
        waitHead: 0,
        rr: 0,
        sent: 0,
        completed: 0,
        metSlo: 0,
        ttft: new LatencySketch(),
        itl: new LatencySketch(),
        windowTtft: new LatencySketch(),
        windowItl: new LatencySketch(),
        windowSent: 0,
        coldStarts: 0,
        coldCompleted: 0,
        coldTtft: new LatencySketch(),
        doneAt: [],
        doneHead: 0,
      };
      m.variants = spec.variants.map((v) => ({
        model: m,
        spec: v,
        pods: [],
        desired: 0,
        scalingActions: 0,
        reversals: 0,
        lastDirection: 0,
        replicaMs: 0,
        since: 0,
      }));
      return m;
    });
    this.variants = this.models.flatMap((m) => m.variants);
    this.endMs = opts.untilDone ? Infinity : scenario.durationMs + endGraceMs(scenario.engineIntervalMs);
  }

  /** Registers a periodic action; the first run is one period after the start. Runs in registration order. */
  every(t: Timer): void {
    this.timers.push({ ...t, next: t.periodMs });
  }

  /** Creates the initial pods, Ready at the start (the playground waits for them before the load). */
  setInitial(v: SimVariant, replicas: number): void {
    for (let i = 0; i < replicas; i++) this.addPod(v, 0, true);
    v.desired = replicas;
  }

  /** Sets the Deployment's replicas: new pods start, removed pods (not Ready first, newest first) drain. */
  scale(v: SimVariant, replicas: number): void {
    const from = v.pods.length;
    if (replicas === from) return;
    this.account(v);
    const dir = replicas > from ? 1 : -1;
    v.scalingActions++;
    if (v.lastDirection !== 0 && v.lastDirection !== dir) v.reversals++;
    v.lastDirection = dir;
    if (dir > 0) {
      for (let i = from; i < replicas; i++) this.addPod(v, this.now, this.opts.instantStart === true);
      return;
    }
    const victims = [...v.pods]
      .sort((a, b) => Number(a.ready) - Number(b.ready) || b.id - a.id)
      .slice(0, from - replicas);
    for (const p of victims) {
      v.pods.splice(v.pods.indexOf(p), 1);
      p.drainUntil = this.now + TERMINATION_GRACE_MS;
      this.draining.push(p);
    }
  }

  /** Per ready pod of a variant: the peak KV use and queue length over the last minute of scrapes. */
  peakMetrics(v: SimVariant): PodMetrics[] {
    const capacity = v.spec.emulator.kvBlocks * v.spec.emulator.blockSize;
    return v.pods
      .filter((p) => p.ready && p.samples.length > 0)
      .map((p) => {
        let kv = 0;
        let queue = 0;
        for (const s of p.samples) {
          if (s.kv > kv) kv = s.kv;
          if (s.queue > queue) queue = s.queue;
        }
        const m: PodMetrics = {
          pod: p.name,
          kv,
          queue,
          tokensInUse: Math.round(kv * capacity),
          totalKvCapacityTokens: capacity,
        };
        const first = p.samples[0];
        const last = p.samples[p.samples.length - 1];
        const done = last.done - first.done;
        if (done > 0) {
          m.avgInputTokens = (last.inputTokens - first.inputTokens) / done;
          m.avgOutputTokens = (last.outputTokens - first.outputTokens) / done;
        }
        return m;
      });
  }

  /** Instantaneous totals over the ready pods of a variant (what a Prometheus adapter reads now). */
  readyTotals(v: SimVariant): { ready: number; kv: number; queue: number } {
    let ready = 0;
    let kv = 0;
    let queue = 0;
    for (const p of v.pods) {
      if (!p.ready) continue;
      const s = p.engine.stats();
      ready++;
      kv += s.kvUsage;
      queue += s.waiting;
    }
    return { ready, kv, queue };
  }

  /**
   * Successful requests of a model completed at or after `since`. Completion times before it are dropped,
   * so `since` must not decrease between calls (a sliding retention window).
   */
  completionsSince(m: SimModel, since: number): number {
    while (m.doneHead < m.doneAt.length && m.doneAt[m.doneHead] < since) m.doneHead++;
    if (m.doneHead > 1024 && m.doneHead * 2 > m.doneAt.length) {
      m.doneAt.splice(0, m.doneHead);
      m.doneHead = 0;
    }
    return m.doneAt.length - m.doneHead;
  }

  /** Pods of a model, starting or ready, over all its variants. */
  podCount(m: SimModel): number {
    let n = 0;
    for (const v of m.variants) n += v.pods.length;
    return n;
  }

  /** Requests waiting in the model's router queue now. */
  queued(m: SimModel): number {
    return m.waiting.length - m.waitHead;
  }

  /** GPUs free per accelerator: the scenario's nodes minus those held by pods (draining ones too). */
  freeGpus(): Record<string, number> {
    const limits: Record<string, number> = {};
    for (const n of this.scenario.nodes)
      limits[n.accelerator] = (limits[n.accelerator] ?? 0) + n.count * n.gpusPerNode;
    const used: Record<string, number> = {};
    const hold = (v: SimVariant, pods: number) =>
      (used[v.spec.accelerator] = (used[v.spec.accelerator] ?? 0) + pods * v.spec.gpusPerReplica);
    for (const v of this.variants) hold(v, v.pods.length);
    for (const p of this.draining) hold(p.variant, 1);
    return freeGpus(limits, used);
  }

  readyCount(v: SimVariant): number {
    let n = 0;
    for (const p of v.pods) if (p.ready) n++;
    return n;
  }

  /** Runs the trial: arrivals until the scenario's duration, then a short grace for requests in flight. */
  run(onCycle: (now: number) => void): void {
    const interval = this.scenario.engineIntervalMs;
    // the engine cycle: scrape every ready pod, let the policy act, record the timeline
    this.timers.unshift({
      periodMs: interval,
      next: interval,
      run: (now) => {
        this.scrape(now);
        onCycle(now);
        this.record(now);
      },
    });
    const progressStep = Math.max(this.scenario.durationMs / 100, 1);
    let nextProgress = progressStep;
    for (;;) {
      const t = this.nextEventTime();
      if (t === undefined || t > this.endMs) break;
      this.now = t;
      this.step(t);
      if (this.opts.onProgress && t >= nextProgress) {
        this.opts.onProgress(Math.min(1, t / this.scenario.durationMs));
        nextProgress = t + progressStep;
      }
    }
    this.now = this.scenario.durationMs;
    for (const v of this.variants) this.account(v, this.scenario.durationMs);
  }

  private nextEventTime(): number | undefined {
    let t = Infinity;
    for (const m of this.models) {
      if (m.next < m.arrivals.length) t = Math.min(t, m.arrivals[m.next].t);
      if (m.waitHead < m.waiting.length)
        t = Math.min(t, m.waiting[m.waitHead].arrival.t + this.scenario.routerTimeoutMs);
    }
    for (const timer of this.timers) if (timer.next < this.scenario.durationMs) t = Math.min(t, timer.next);
    for (const v of this.variants)
      for (const p of v.pods) {
        if (!p.ready) t = Math.min(t, p.readyAt);
        const e = p.engine.nextEventTime();
        if (e !== undefined && e < t) t = e;
      }
    for (const p of this.draining) {
      t = Math.min(t, p.drainUntil!);
      const e = p.engine.nextEventTime();
      if (e !== undefined && e < t) t = e;
    }
    return Number.isFinite(t) ? Math.max(t, this.now) : undefined;
  }

  private step(t: number): void {
    for (const v of this.variants)
      for (const p of v.pods) {
        const e = p.engine.nextEventTime();
        if (e !== undefined && e <= t) p.engine.advance(t);
      }
    for (let i = 0; i < this.draining.length; i++) {
      const p = this.draining[i];
      const e = p.engine.nextEventTime();
      if (e !== undefined && e <= t) p.engine.advance(t);
      const st = p.engine.stats();
      if (st.running + st.waiting === 0 || t >= p.drainUntil!) {
        if (st.running + st.waiting > 0) p.engine.abortAll("pod terminated");
        this.draining.splice(i--, 1);
      }
    }
    for (const m of this.models) {
      let becameReady = false;
      for (const v of m.variants)
        for (const p of v.pods)
          if (!p.ready && p.readyAt <= t) {
            p.ready = true;
            becameReady = true;
          }
      if (becameReady) this.dispatchWaiting(m, t);
      const timeout = this.scenario.routerTimeoutMs;
      while (m.waitHead < m.waiting.length && m.waiting[m.waitHead].arrival.t + timeout <= t) m.waitHead++;
      if (m.waitHead > 1024 && m.waitHead * 2 > m.waiting.length) {
        m.waiting.splice(0, m.waitHead);
        m.waitHead = 0;
      }
      while (m.next < m.arrivals.length && m.arrivals[m.next].t <= t) {
        const index = m.next++;
        m.sent++;
        m.windowSent++;
        if (m.waitHead < m.waiting.length || !this.route(m, m.arrivals[index], t, false)) {
          m.waiting.push({ arrival: m.arrivals[index], index });
          m.coldStarts++;
        }
      }
    }
    for (const timer of this.timers)
      while (timer.next <= t && timer.next < this.scenario.durationMs) {
        const at = timer.next;
        timer.next += timer.periodMs;
        timer.run(at);
      }
  }

  private dispatchWaiting(m: SimModel, t: number): void {
    while (m.waitHead < m.waiting.length && this.route(m, m.waiting[m.waitHead].arrival, t, true))
      m.waitHead++;
  }

  /** Sends a request to the ready pod with the fewest requests in flight (ties: round robin). */
  private route(m: SimModel, a: Arrival, t: number, cold: boolean): boolean {
    const ready: SimPod[] = [];
    for (const v of m.variants) for (const p of v.pods) if (p.ready) ready.push(p);
    if (ready.length === 0) return false;
    let best = ready[m.rr % ready.length];
    for (let i = 1; i < ready.length; i++) {
      const p = ready[(m.rr + i) % ready.length];
      if (p.inFlight < best.inFlight) best = p;
    }
    m.rr = (m.rr + 1) % ready.length;
    best.engine.advance(t);
    const slo = m.spec.slo;
    const metFrom = this.opts.metFrom ?? -Infinity;
    const pod = best;
    try {
      pod.engine.submit(
        { inputTokens: a.inputTokens, outputTokens: a.outputTokens },
        {
          onDone: (c: CompletedRequest) => {
            pod.inFlight--;
            const s = pod.served;
            s.requests++;
            s.inputTokens += c.inputTokens;
            s.outputTokens += c.outputTokens;
            s.ttftMs += c.ttft;
            if (c.outputTokens > 1) {
              s.itlMs += c.finish - c.firstToken;
              s.itlCount += c.outputTokens - 1;
            }
            m.completed++;
            const ttft = c.firstToken - a.t;
            m.ttft.add(ttft);
            m.windowTtft.add(ttft);
            let itl = 0;
            if (c.outputTokens > 1) {
              itl = (c.finish - c.firstToken) / (c.outputTokens - 1);
              m.itl.add(itl);
              m.windowItl.add(itl);
            }
            if (ttft <= slo.ttftMs && itl <= slo.itlMs && a.t >= metFrom) m.metSlo++;
            if (cold) {
              m.coldCompleted++;
              m.coldTtft.add(ttft);
            }
            if (m.spec.scaleToZero) m.doneAt.push(c.finish);
          },
          onError: () => {
            pod.inFlight--;
          },
        },
      );
      pod.inFlight++;
    } catch (err) {
      if (!(err instanceof EngineError)) throw err;
      // refused by the server (queue full, too large): a failed request
    }
    return true;
  }

  private addPod(v: SimVariant, now: number, ready: boolean): void {
    this.account(v);
    const id = this.nextPodId++;
    v.pods.push({
      id,
      name: `${v.spec.name}-${id}`,
      variant: v,
      engine: new VllmEngine(v.spec.emulator, now),
      readyAt: ready ? now : now + v.spec.startupDelayMs,
      ready: ready || v.spec.startupDelayMs === 0,
      inFlight: 0,
      samples: [],
      served: { requests: 0, inputTokens: 0, outputTokens: 0, ttftMs: 0, itlMs: 0, itlCount: 0 },
    });
    if (v.pods[v.pods.length - 1].ready) this.dispatchWaiting(v.model, now);
  }

  /** Adds the replica time of the current count up to `until` (default: now, capped at the trial's end). */
  private account(v: SimVariant, until = this.now): void {
    const end = Math.min(until, this.scenario.durationMs);
    if (end > v.since) v.replicaMs += v.pods.length * (end - v.since);
    v.since = Math.max(v.since, end);
  }

  private scrape(now: number): void {
    for (const v of this.variants)
      for (const p of v.pods) {
        if (!p.ready) continue;
        p.engine.advance(now);
        const s = p.engine.stats();
        p.samples.push({
          t: now,
          kv: s.kvUsage,
          queue: s.waiting,
          done: p.served.requests,
          inputTokens: p.served.inputTokens,
          outputTokens: p.served.outputTokens,
        });
        while (p.samples.length > 1 && now - p.samples[0].t > PEAK_WINDOW_MS) p.samples.shift();
      }
  }

  private record(now: number): void {
    const interval = this.scenario.engineIntervalMs;
    this.timeline.push({
      t: Math.round(now) / 1000,
      variants: this.variants.map((v) => ({
        model: v.model.spec.modelID,
        namespace: v.model.spec.namespace,
        variant: v.spec.name,
        current: v.pods.length,
        ready: this.readyCount(v),
        desired: v.desired,
      })),
      load: this.models.map((m) => {
        const entry: TimelineLoad = {
          model: m.spec.modelID,
          namespace: m.spec.namespace,
          rps: Math.round((m.windowSent / (interval / 1000)) * 1000) / 1000,
          ttftMs: m.windowTtft.percentiles(),
          itlMs: m.windowItl.percentiles(),
        };
        m.windowSent = 0;
        m.windowTtft = new LatencySketch();
        m.windowItl = new LatencySketch();
        return entry;
      }),
    });
  }
}
