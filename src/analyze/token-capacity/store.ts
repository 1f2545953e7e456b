/**
 * What the token-capacity analyzer remembers between cycles: per-variant capacity records (learned from
 * running replicas or from the Deployment's vLLM parameters) and rolling compute-bound (k2) history.
 * In-memory, no I/O; the caller passes `now` in. Memory is bounded by age (staleness and eviction
 * windows) and by count (least recently updated entries go first).
 */
import { effectiveMaxBatchedTokens, paramsCompatible, type VllmParams } from "./vllm-args.js";

/** Number of k2 observations kept per history key. */
export const K2_WINDOW = 10;
/** A record not refreshed for this long is stale. */
export const RECORD_STALE_MS = 30 * 60_000;
/** A record not refreshed for this long is forgotten. */
export const RECORD_EVICT_MS = 7 * 24 * 3_600_000;
/** A k2 history key (model, accelerator, bucket) without a new observation for this long is forgotten. */
export const HISTORY_EVICT_MS = 24 * 3_600_000;
/** Eviction looks at every entry: it runs at most once per this interval (the windows are hours to days). */
export const EVICT_INTERVAL_MS = 60_000;
/** Default count bounds (far above any real cluster; they only cap memory). */
export const DEFAULT_MAX_RECORDS = 50_000;
export const DEFAULT_MAX_HISTORY_SERIES = 50_000;

export type OutputBucket = "short" | "medium" | "long";
export const OUTPUT_BUCKETS: readonly OutputBucket[] = ["short", "medium", "long"];

/** Output-length bucket of an average output length in tokens: short < 100 ≤ medium < 500 ≤ long. */
export function outputBucket(avgOutputTokens: number): OutputBucket {
  if (avgOutputTokens < 100) return "short";
  if (avgOutputTokens < 500) return "medium";
  return "long";
}

/** Where a capacity record came from. */
export type LearnedFrom = "live" | "deployment";

/** What the store knows about the per-replica capacity of one variant. */
export interface CapacityRecord {
  namespace: string;
  modelID: string;
  /** VA name. */
  variant: string;
  accelerator: string;
  /** GPUs per replica. */
  gpuCount: number;
  numGpuBlocks: number;
  blockSize: number;
  /** KV-cache capacity of one replica in tokens; 0 = unknown. */
  totalKvCapacityTokens: number;
  /** Tokens one replica can hold before it saturates; 0 = unknown. */
  effectiveCapacity: number;
  learnedFrom: LearnedFrom;
  /** Parsed vLLM parameters of the Deployment, when known. */
  vllmParams?: VllmParams;
  /** Last refresh, milliseconds since the epoch. */
  updatedAt: number;
}

/** Rolling k2 observations for one `modelID|accelerator|bucket`. */
export interface K2HistoryEntry {
  modelID: string;
  accelerator: string;
  bucket: OutputBucket;
  /** Oldest first, at most K2_WINDOW values. */
  values: number[];
  /** Last observation, milliseconds since the epoch. */
  updatedAt: number;
}

/** Serialisable content of a store (snapshot fields `capacityRecords` / `capacityHistory`). */
export interface CapacityStoreData {
  records: CapacityRecord[];
  history: K2HistoryEntry[];
}

/** What a snapshot may carry: CapacityStoreData where `updatedAt` may be left out (it then means "now"). */
export interface CapacityStoreInput {
  records?: readonly (Omit<CapacityRecord, "updatedAt"> & { updatedAt?: number })[];
  history?: readonly (Omit<K2HistoryEntry, "updatedAt"> & { updatedAt?: number })[];
}

export interface CapacityStoreOptions {
  /** Most capacity records kept. */
  maxRecords?: number;
  /** Most k2 histories kept, one per model and accelerator (each with up to three buckets). */
  maxHistorySeries?: number;
}

/** Live measurements of one variant. */
export type LiveCapacity = Omit<CapacityRecord, "learnedFrom" | "vllmParams" | "updatedAt">;

/** What a Deployment says about one variant. */
export interface DeploymentCapacity {
  namespace: string;
  modelID: string;
  variant: string;
  accelerator: string;
  gpuCount: number;
  vllmParams: VllmParams;
}

/** Rolling k2 observations of one model on one accelerator, per output-length bucket. */
interface K2Series extends K2History {
  modelID: string;
  accelerator: string;
  buckets: Partial<Record<OutputBucket, { values: number[]; updatedAt: number }>>;
  /** Latest observation in any bucket. */
  updatedAt: number;
}

/** The k2 history of one model on one accelerator, read-only (see {@link CapacityStore.k2History}). */
export interface K2History {
  readonly buckets: Readonly<Partial<Record<OutputBucket, { readonly values: readonly number[] }>>>;
}

/** Mean of the k2 observations of one bucket, 0 when there are none. */
export function historyAverage(h: K2History | undefined, bucket: OutputBucket): number {
  const w = h?.buckets[bucket];
  if (w === undefined || w.values.length === 0) return 0;
  let sum = 0;
  for (const v of w.values) sum += v;
  return sum / w.values.length;
}

/** A map of maps: lookups by strings that live across cycles (names from the input) reuse their hashes. */
type Nested<V> = Map<string, Map<string, V>>;

function nestedGet<V>(m: Nested<V>, a: string, b: string): V | undefined {
  return m.get(a)?.get(b);
}

function nestedSet<V>(m: Nested<V>, a: string, b: string, v: V): void {
  let inner = m.get(a);
  if (inner === undefined) m.set(a, (inner = new Map()));
  inner.set(b, v);
}

function nestedDelete<V>(m: Nested<V>, a: string, b: string): void {
  const inner = m.get(a);
  if (inner === undefined) return;
  inner.delete(b);
  if (inner.size === 0) m.delete(a);
}

export class CapacityStore {
  /** namespace → modelID → variant → record. */
  private readonly records = new Map<string, Nested<CapacityRecord>>();
  private recordTotal = 0;
  /** modelID → accelerator → k2 history. */
  private readonly history: Nested<K2Series> = new Map();
  private seriesTotal = 0;
  /** modelID → accelerator → records, for compatible-record lookups. */
  private readonly byHardware: Nested<Set<CapacityRecord>> = new Map();
  private readonly maxRecords: number;
  private readonly maxHistorySeries: number;
  private lastEvict = Number.NEGATIVE_INFINITY;

  constructor(opts: CapacityStoreOptions = {}) {
    this.maxRecords = Math.max(1, opts.maxRecords ?? DEFAULT_MAX_RECORDS);
    this.maxHistorySeries = Math.max(1, opts.maxHistorySeries ?? DEFAULT_MAX_HISTORY_SERIES);
  }

  get recordCount(): number {
    return this.recordTotal;
  }

  /** Number of `modelID|accelerator|bucket` keys with k2 history. */
  get historyKeyCount(): number {
    let n = 0;
    for (const h of this.allSeries()) n += Object.keys(h.buckets).length;
    return n;
  }

  get(namespace: string, modelID: string, variant: string): CapacityRecord | undefined {
    return this.records.get(namespace)?.get(modelID)?.get(variant);
  }

  /** True when there is no record or it was not refreshed within RECORD_STALE_MS. */
  isStale(namespace: string, modelID: string, variant: string, now: number): boolean {
    const r = this.get(namespace, modelID, variant);
    return r === undefined || now - r.updatedAt > RECORD_STALE_MS;
  }

  /** Stores or refreshes a `live` record; vLLM parameters learned earlier are kept. */
  updateLive(live: LiveCapacity, now: number): CapacityRecord {
    const prev = this.get(live.namespace, live.modelID, live.variant);
    if (prev !== undefined && prev.accelerator === live.accelerator && prev.gpuCount === live.gpuCount) {
      // Refresh in place: the common case every cycle, without new objects or index changes.
      prev.numGpuBlocks = live.numGpuBlocks;
      prev.blockSize = live.blockSize;
      prev.totalKvCapacityTokens = live.totalKvCapacityTokens;
      prev.effectiveCapacity = live.effectiveCapacity;
      prev.learnedFrom = "live";
      prev.updatedAt = now;
      return prev;
    }
    const rec = makeRecord(live, "live", prev?.vllmParams, now);
    this.put(rec, prev);
    return rec;
  }

  /**
   * Records what a Deployment's vLLM parameters say. A `live` record is never overwritten (it only
   * learns the parameters when it had none); otherwise the record gets `effectiveCapacity =
   * effectiveMaxBatchedTokens` and, with `--num-gpu-blocks-override`, `totalKv = override × blockSize`.
   */
  loadFromDeployment(d: DeploymentCapacity, now: number): CapacityRecord {
    const prev = this.get(d.namespace, d.modelID, d.variant);
    if (prev?.learnedFrom === "live") {
      prev.vllmParams ??= d.vllmParams;
      return prev;
    }
    const p = d.vllmParams;
    const blocks = p.numGpuBlocksOverride;
    const rec = makeRecord(
      {
        ...d,
        numGpuBlocks: blocks,
        blockSize: p.blockSize,
        totalKvCapacityTokens: blocks > 0 ? blocks * p.blockSize : 0,
        effectiveCapacity: effectiveMaxBatchedTokens(p),
      },
      "deployment",
      p,
      now,
    );
    this.put(rec, prev);
    return rec;
  }

  /** Adds a record as is (snapshots, tests). */
  restore(rec: CapacityRecord): void {
    const copy = makeRecord(rec, rec.learnedFrom, rec.vllmParams, rec.updatedAt);
    this.put(copy, this.get(rec.namespace, rec.modelID, rec.variant));
  }

  /**
   * A record of the same model on the same accelerator and GPU count, in any namespace, whose vLLM
   * parameters are compatible with `params` and that has capacity data; `live` records win.
   */
  findCompatible(
    modelID: string,
    accelerator: string,
    gpuCount: number,
    params: VllmParams | undefined,
    opts: { liveOnly?: boolean; exclude?: CapacityRecord } = {},
  ): CapacityRecord | undefined {
    if (params === undefined) return undefined;
    const candidates = nestedGet(this.byHardware, modelID, accelerator);
    if (candidates === undefined) return undefined;
    let found: CapacityRecord | undefined;
    for (const r of candidates) {
      if (r === opts.exclude || r.gpuCount !== gpuCount) continue;
      if (r.effectiveCapacity <= 0 && r.totalKvCapacityTokens <= 0) continue;
      if (opts.liveOnly === true && r.learnedFrom !== "live") continue;
      if (!paramsCompatible(params, r.vllmParams)) continue;
      if (r.learnedFrom === "live") return r;
      found ??= r;
    }
    return found;
  }

  /** Adds one k2 observation for `modelID|accelerator|bucket` (rolling window of K2_WINDOW values). */
  addK2(modelID: string, accelerator: string, bucket: OutputBucket, value: number, now: number): void {
    let series = nestedGet(this.history, modelID, accelerator);
    if (series === undefined) {
      series = { modelID, accelerator, buckets: {}, updatedAt: now };
      nestedSet(this.history, modelID, accelerator, series);
      if (++this.seriesTotal > this.maxHistorySeries) this.trimHistory();
    }
    series.updatedAt = now;
    const w = series.buckets[bucket];
    if (w === undefined) {
      series.buckets[bucket] = { values: [value], updatedAt: now };
      return;
    }
    w.values.push(value);
    if (w.values.length > K2_WINDOW) w.values.shift();
    w.updatedAt = now;
  }

  /** Mean of the stored k2 observations, 0 when there are none. */
  k2Average(modelID: string, accelerator: string, bucket: OutputBucket): number {
    return historyAverage(this.k2History(modelID, accelerator), bucket);
  }

  /** All k2 history of one model on one accelerator (one lookup for many replicas); live, not a copy. */
  k2History(modelID: string, accelerator: string): K2History | undefined {
    return nestedGet(this.history, modelID, accelerator);
  }

  /**
   * Forgets records older than RECORD_EVICT_MS and history keys older than HISTORY_EVICT_MS; a call
   * within EVICT_INTERVAL_MS after the previous one does nothing.
   */
  evict(now: number): void {
    if (now >= this.lastEvict && now - this.lastEvict < EVICT_INTERVAL_MS) return;
    this.lastEvict = now;
    const old: CapacityRecord[] = [];
    for (const byModel of this.records.values()) {
      for (const byVariant of byModel.values()) {
        for (const r of byVariant.values()) if (now - r.updatedAt > RECORD_EVICT_MS) old.push(r);
      }
    }
    for (const r of old) this.remove(r);
    const empty: K2Series[] = [];
    for (const byAccelerator of this.history.values()) {
      for (const h of byAccelerator.values()) {
        // A series updated within the window may still hold an old bucket; one older than the window
        // holds only old buckets.
        let left = 0;
        for (const b of OUTPUT_BUCKETS) {
          const w = h.buckets[b];
          if (w === undefined) continue;
          if (now - w.updatedAt > HISTORY_EVICT_MS) delete h.buckets[b];
          else left++;
        }
        if (left === 0) empty.push(h);
      }
    }
    for (const h of empty) this.removeSeries(h);
  }

  toJSON(): CapacityStoreData {
    const history: K2HistoryEntry[] = [];
    for (const h of this.allSeries()) {
      for (const bucket of OUTPUT_BUCKETS) {
        const w = h.buckets[bucket];
        if (w === undefined) continue;
        history.push({
          modelID: h.modelID,
          accelerator: h.accelerator,
          bucket,
          values: [...w.values],
          updatedAt: w.updatedAt,
        });
      }
    }
    const records = [...this.allRecords()].map((r) => {
      const copy = { ...r };
      if (copy.vllmParams === undefined) delete copy.vllmParams;
      return copy;
    });
    return { records, history };
  }

  /** A store holding `data`; entries without `updatedAt` count as refreshed at `now`. */
  static fromJSON(data: CapacityStoreInput, now: number, opts: CapacityStoreOptions = {}): CapacityStore {
    const s = new CapacityStore(opts);
    for (const r of data.records ?? []) s.restore({ ...r, updatedAt: r.updatedAt ?? now });
    for (const h of data.history ?? []) {
      const updatedAt = h.updatedAt ?? now;
      let series = nestedGet(s.history, h.modelID, h.accelerator);
      if (series === undefined) {
        series = { modelID: h.modelID, accelerator: h.accelerator, buckets: {}, updatedAt };
        nestedSet(s.history, h.modelID, h.accelerator, series);
        s.seriesTotal++;
      }
      series.buckets[h.bucket] = { values: h.values.slice(-K2_WINDOW), updatedAt };
      series.updatedAt = Math.max(series.updatedAt, updatedAt);
    }
    if (s.seriesTotal > s.maxHistorySeries) s.trimHistory();
    return s;
  }

  private *allRecords(): Generator<CapacityRecord> {
    for (const byModel of this.records.values()) {
      for (const byVariant of byModel.values()) yield* byVariant.values();
    }
  }

  private *allSeries(): Generator<K2Series> {
    for (const byAccelerator of this.history.values()) yield* byAccelerator.values();
  }

  private put(rec: CapacityRecord, prev: CapacityRecord | undefined): void {
    if (prev !== undefined) this.remove(prev);
    let byModel = this.records.get(rec.namespace);
    if (byModel === undefined) this.records.set(rec.namespace, (byModel = new Map()));
    nestedSet(byModel, rec.modelID, rec.variant, rec);
    this.recordTotal++;
    let set = nestedGet(this.byHardware, rec.modelID, rec.accelerator);
    if (set === undefined) nestedSet(this.byHardware, rec.modelID, rec.accelerator, (set = new Set()));
    set.add(rec);
    if (this.recordTotal > this.maxRecords) {
      for (const r of oldest([...this.allRecords()], this.maxRecords)) this.remove(r);
    }
  }

  private remove(r: CapacityRecord): void {
    const byModel = this.records.get(r.namespace);
    if (byModel?.get(r.modelID)?.get(r.variant) !== r) return;
    nestedDelete(byModel, r.modelID, r.variant);
    if (byModel.size === 0) this.records.delete(r.namespace);
    this.recordTotal--;
    const set = nestedGet(this.byHardware, r.modelID, r.accelerator);
    set?.delete(r);
    if (set?.size === 0) nestedDelete(this.byHardware, r.modelID, r.accelerator);
  }

  private removeSeries(h: K2Series): void {
    nestedDelete(this.history, h.modelID, h.accelerator);
    this.seriesTotal--;
  }

  private trimHistory(): void {
    for (const h of oldest([...this.allSeries()], this.maxHistorySeries)) this.removeSeries(h);
  }
}

/** Every record has the same fields in the same order (one object shape for the engine's caches). */
function makeRecord(
  c: LiveCapacity,
  learnedFrom: LearnedFrom,
  vllmParams: VllmParams | undefined,
  updatedAt: number,
): CapacityRecord {
  return {
    namespace: c.namespace,
    modelID: c.modelID,
    variant: c.variant,
    accelerator: c.accelerator,
    gpuCount: c.gpuCount,
    numGpuBlocks: c.numGpuBlocks,
    blockSize: c.blockSize,
    totalKvCapacityTokens: c.totalKvCapacityTokens,
    effectiveCapacity: c.effectiveCapacity,
    learnedFrom,
    vllmParams,
    updatedAt,
  };
}

/**
 * The least recently updated entries to drop so that 90 % of `max` remain (one sort per many inserts).
 */
function oldest<V extends { updatedAt: number }>(all: V[], max: number): V[] {
  const keep = Math.floor(max * 0.9);
  if (all.length <= keep) return [];
  return all.sort((a, b) => a.updatedAt - b.updatedAt).slice(0, all.length - keep);
}
