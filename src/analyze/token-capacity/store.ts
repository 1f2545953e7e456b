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
/** A k2 history key without a new observation for this long is forgotten. */
export const HISTORY_EVICT_MS = 24 * 3_600_000;
/** Default count bounds (far above any real cluster; they only cap memory). */
export const DEFAULT_MAX_RECORDS = 50_000;
export const DEFAULT_MAX_HISTORY_KEYS = 50_000;

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

export interface CapacityStoreOptions {
  maxRecords?: number;
  maxHistoryKeys?: number;
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

export function recordKey(namespace: string, modelID: string, variant: string): string {
  return `${namespace}|${modelID}|${variant}`;
}

export function historyKey(modelID: string, accelerator: string, bucket: OutputBucket): string {
  return `${modelID}|${accelerator}|${bucket}`;
}

function hardwareKey(modelID: string, accelerator: string, gpuCount: number): string {
  return `${modelID}|${accelerator}|${gpuCount}`;
}

export class CapacityStore {
  // Maps keep insertion order; an update re-inserts, so the first entries are the least recently updated.
  private readonly records = new Map<string, CapacityRecord>();
  private readonly history = new Map<string, K2HistoryEntry>();
  /** model|accelerator|gpuCount → record keys, for compatible-record lookups. */
  private readonly byHardware = new Map<string, Set<string>>();
  private readonly maxRecords: number;
  private readonly maxHistoryKeys: number;

  constructor(opts: CapacityStoreOptions = {}) {
    this.maxRecords = Math.max(1, opts.maxRecords ?? DEFAULT_MAX_RECORDS);
    this.maxHistoryKeys = Math.max(1, opts.maxHistoryKeys ?? DEFAULT_MAX_HISTORY_KEYS);
  }

  get recordCount(): number {
    return this.records.size;
  }

  get historyKeyCount(): number {
    return this.history.size;
  }

  get(namespace: string, modelID: string, variant: string): CapacityRecord | undefined {
    return this.records.get(recordKey(namespace, modelID, variant));
  }

  /** True when there is no record or it was not refreshed within RECORD_STALE_MS. */
  isStale(namespace: string, modelID: string, variant: string, now: number): boolean {
    const r = this.get(namespace, modelID, variant);
    return r === undefined || now - r.updatedAt > RECORD_STALE_MS;
  }

  /** Stores or refreshes a `live` record; vLLM parameters learned earlier are kept. */
  updateLive(live: LiveCapacity, now: number): CapacityRecord {
    const key = recordKey(live.namespace, live.modelID, live.variant);
    const prev = this.records.get(key);
    const rec: CapacityRecord = { ...live, learnedFrom: "live", updatedAt: now };
    if (prev?.vllmParams !== undefined) rec.vllmParams = prev.vllmParams;
    this.put(key, rec, prev);
    return rec;
  }

  /**
   * Records what a Deployment's vLLM parameters say. A `live` record is never overwritten (it only
   * learns the parameters when it had none); otherwise the record gets `effectiveCapacity =
   * effectiveMaxBatchedTokens` and, with `--num-gpu-blocks-override`, `totalKv = override × blockSize`.
   */
  loadFromDeployment(d: DeploymentCapacity, now: number): CapacityRecord {
    const key = recordKey(d.namespace, d.modelID, d.variant);
    const prev = this.records.get(key);
    if (prev?.learnedFrom === "live") {
      if (prev.vllmParams === undefined) prev.vllmParams = d.vllmParams;
      return prev;
    }
    const p = d.vllmParams;
    const blocks = p.numGpuBlocksOverride;
    const rec: CapacityRecord = {
      namespace: d.namespace,
      modelID: d.modelID,
      variant: d.variant,
      accelerator: d.accelerator,
      gpuCount: d.gpuCount,
      numGpuBlocks: blocks,
      blockSize: p.blockSize,
      totalKvCapacityTokens: blocks > 0 ? blocks * p.blockSize : 0,
      effectiveCapacity: effectiveMaxBatchedTokens(p),
      learnedFrom: "deployment",
      vllmParams: p,
      updatedAt: now,
    };
    this.put(key, rec, prev);
    return rec;
  }

  /** Adds a record as is (snapshots, tests). */
  restore(rec: CapacityRecord): void {
    const key = recordKey(rec.namespace, rec.modelID, rec.variant);
    this.put(key, { ...rec }, this.records.get(key));
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
    opts: { liveOnly?: boolean; exclude?: string } = {},
  ): CapacityRecord | undefined {
    if (params === undefined) return undefined;
    const keys = this.byHardware.get(hardwareKey(modelID, accelerator, gpuCount));
    if (keys === undefined) return undefined;
    let found: CapacityRecord | undefined;
    for (const k of keys) {
      if (k === opts.exclude) continue;
      const r = this.records.get(k);
      if (r === undefined || (r.effectiveCapacity <= 0 && r.totalKvCapacityTokens <= 0)) continue;
      if (opts.liveOnly === true && r.learnedFrom !== "live") continue;
      if (!paramsCompatible(params, r.vllmParams)) continue;
      if (r.learnedFrom === "live") return r;
      found ??= r;
    }
    return found;
  }

  /** Adds one k2 observation for `modelID|accelerator|bucket` (rolling window of K2_WINDOW values). */
  addK2(modelID: string, accelerator: string, bucket: OutputBucket, value: number, now: number): void {
    const key = historyKey(modelID, accelerator, bucket);
    const prev = this.history.get(key);
    const values = prev === undefined ? [] : prev.values;
    values.push(value);
    if (values.length > K2_WINDOW) values.splice(0, values.length - K2_WINDOW);
    if (prev !== undefined) this.history.delete(key);
    this.history.set(key, { modelID, accelerator, bucket, values, updatedAt: now });
    this.trimHistory();
  }

  /** Mean of the stored k2 observations, 0 when there are none. */
  k2Average(modelID: string, accelerator: string, bucket: OutputBucket): number {
    const e = this.history.get(historyKey(modelID, accelerator, bucket));
    if (e === undefined || e.values.length === 0) return 0;
    let sum = 0;
    for (const v of e.values) sum += v;
    return sum / e.values.length;
  }

  /** Forgets records older than RECORD_EVICT_MS and history keys older than HISTORY_EVICT_MS. */
  evict(now: number): void {
    for (const [k, r] of this.records) if (now - r.updatedAt > RECORD_EVICT_MS) this.remove(k);
    for (const [k, h] of this.history) if (now - h.updatedAt > HISTORY_EVICT_MS) this.history.delete(k);
  }

  toJSON(): CapacityStoreData {
    return {
      records: [...this.records.values()].map((r) => ({ ...r })),
      history: [...this.history.values()].map((h) => ({ ...h, values: [...h.values] })),
    };
  }

  static fromJSON(data: Partial<CapacityStoreData>, opts: CapacityStoreOptions = {}): CapacityStore {
    const s = new CapacityStore(opts);
    for (const r of data.records ?? []) s.restore(r);
    for (const h of data.history ?? []) {
      const values = h.values.slice(-K2_WINDOW);
      s.history.set(historyKey(h.modelID, h.accelerator, h.bucket), { ...h, values });
    }
    s.trimHistory();
    return s;
  }

  private put(key: string, rec: CapacityRecord, prev: CapacityRecord | undefined): void {
    if (prev !== undefined) this.remove(key);
    this.records.set(key, rec);
    const hw = hardwareKey(rec.modelID, rec.accelerator, rec.gpuCount);
    let set = this.byHardware.get(hw);
    if (set === undefined) this.byHardware.set(hw, (set = new Set()));
    set.add(key);
    while (this.records.size > this.maxRecords) {
      const oldest = this.records.keys().next().value as string;
      this.remove(oldest);
    }
  }

  private remove(key: string): void {
    const r = this.records.get(key);
    if (r === undefined) return;
    this.records.delete(key);
    const hw = hardwareKey(r.modelID, r.accelerator, r.gpuCount);
    const set = this.byHardware.get(hw);
    if (set === undefined) return;
    set.delete(key);
    if (set.size === 0) this.byHardware.delete(hw);
  }

  private trimHistory(): void {
    while (this.history.size > this.maxHistoryKeys) {
      this.history.delete(this.history.keys().next().value as string);
    }
  }
}
