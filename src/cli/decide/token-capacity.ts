/**
 * The token-capacity (V2) parts of a `wva decide` snapshot: the extra replica and variant fields, the
 * top-level scheduler queues and capacity store content, and how they reach the engine. Kept apart from
 * snapshot.ts so each engine's snapshot fields live in one place (docs/user-guide/wva-decide.md).
 */
import {
  CapacityStore,
  OUTPUT_BUCKETS,
  parseVllmContainer,
  type CapacityRecord,
  type K2HistoryEntry,
  type SchedulerQueue,
  type VllmParams,
} from "../../analyze/token-capacity/index.js";
import {
  array,
  integer,
  number,
  object,
  optional,
  record,
  string,
  stringEnum,
  type Static,
} from "../../api/v1alpha1/schema-builder.js";
import { groupKey } from "../../engine/types.js";

const tokens = (description: string) => optional(number({ minimum: 0, description }));
const name = (description: string) => string({ minLength: 1, description });

/** Token metrics a snapshot replica may carry. */
export const TOKEN_REPLICA_FIELDS = {
  tokensInUse: tokens("tokens held in the KV cache"),
  totalKvCapacityTokens: tokens("KV-cache capacity of the pod in tokens"),
  avgInputTokens: tokens("average prompt length of recent requests"),
  avgOutputTokens: tokens("average generated length of recent requests"),
  prefixCacheHitRate: optional(
    number({ minimum: 0, maximum: 1, description: "prefix-cache hit rate, 0..1" }),
  ),
};

/** What a snapshot variant may say about its Deployment's vLLM server. */
export const TOKEN_VARIANT_FIELDS = {
  vllmArgs: optional(array(string(), { description: "the vLLM container's command and args, in order" })),
  env: optional(record(string(), { description: "the vLLM container's environment, name → value" })),
};

const SchedulerQueueSchema = object({
  modelID: name("model"),
  namespace: name("namespace of the model"),
  size: number({ minimum: 0, description: "requests waiting in the endpoint picker" }),
  bytes: number({ minimum: 0, description: "their total size in bytes" }),
});

const HistorySchema = object({
  modelID: name("model"),
  accelerator: name("accelerator short name"),
  bucket: stringEnum(OUTPUT_BUCKETS, { description: "output-length bucket" }),
  values: array(number({ minimum: 0, description: "observed compute bound, tokens" })),
});

const RecordSchema = object({
  namespace: name("namespace of the variant"),
  modelID: name("model"),
  variant: name("VariantAutoscaling name"),
  accelerator: name("accelerator short name"),
  gpuCount: optional(integer({ minimum: 1, description: "GPUs per replica (default 1)" })),
  totalKvCapacityTokens: tokens("KV-cache capacity of one replica in tokens"),
  effectiveCapacity: number({ minimum: 0, description: "tokens one replica holds before it saturates" }),
  learnedFrom: optional(stringEnum(["live", "deployment"] as const, { description: "default live" })),
  vllmArgs: TOKEN_VARIANT_FIELDS.vllmArgs,
});

/** Top-level snapshot fields of the token-capacity analyzer. */
export const TOKEN_SNAPSHOT_FIELDS = {
  schedulerQueues: optional(array(SchedulerQueueSchema, { description: "endpoint-picker queues per model" })),
  capacityHistory: optional(array(HistorySchema, { description: "k2 history of the capacity store" })),
  capacityRecords: optional(array(RecordSchema, { description: "records of the capacity store" })),
};

type SchedulerQueueDoc = Static<typeof SchedulerQueueSchema>;
type HistoryDoc = Static<typeof HistorySchema>;
type RecordDoc = Static<typeof RecordSchema>;

/** The validated token-capacity content of a snapshot. */
export interface TokenSnapshot {
  /** `modelID|namespace` → queue. */
  schedulerQueues: Map<string, SchedulerQueue>;
  history: Omit<K2HistoryEntry, "updatedAt">[];
  records: Omit<CapacityRecord, "updatedAt">[];
}

/** The vLLM parameters of a snapshot variant; undefined when it gives no `vllmArgs`. */
export function variantParams(v: {
  vllmArgs?: readonly string[];
  env?: Readonly<Record<string, string>>;
}): VllmParams | undefined {
  if (v.vllmArgs === undefined) return undefined;
  return parseVllmContainer({
    command: v.vllmArgs,
    env: Object.entries(v.env ?? {}).map(([n, value]) => ({ name: n, value })),
  });
}

/** Checks the cross-entry rules of the token-capacity fields and returns them for the engine. */
export function tokenSnapshot(
  top: {
    schedulerQueues?: SchedulerQueueDoc[];
    capacityHistory?: HistoryDoc[];
    capacityRecords?: RecordDoc[];
  },
  fail: (field: string, rule: string) => never,
): TokenSnapshot {
  const schedulerQueues = new Map<string, SchedulerQueue>();
  (top.schedulerQueues ?? []).forEach((q, i) => {
    const k = groupKey(q.modelID, q.namespace);
    if (schedulerQueues.has(k))
      fail(`schedulerQueues[${i}]`, `duplicate entry for modelID ${q.modelID} in namespace ${q.namespace}`);
    schedulerQueues.set(k, { size: q.size, bytes: q.bytes });
  });
  const history = (top.capacityHistory ?? []).map((h) => ({ ...h, values: [...h.values] }));
  const records = (top.capacityRecords ?? []).map((r) => {
    const rec: Omit<CapacityRecord, "updatedAt"> = {
      namespace: r.namespace,
      modelID: r.modelID,
      variant: r.variant,
      accelerator: r.accelerator,
      gpuCount: r.gpuCount ?? 1,
      numGpuBlocks: 0,
      blockSize: 0,
      totalKvCapacityTokens: r.totalKvCapacityTokens ?? 0,
      effectiveCapacity: r.effectiveCapacity,
      learnedFrom: r.learnedFrom ?? "live",
    };
    const params = variantParams(r);
    if (params !== undefined) rec.vllmParams = params;
    return rec;
  });
  return { schedulerQueues, history, records };
}

/** A capacity store holding the snapshot's records and history, as refreshed at `now`. */
export function snapshotStore(t: TokenSnapshot, now: number): CapacityStore {
  return CapacityStore.fromJSON({ records: t.records, history: t.history }, now);
}
