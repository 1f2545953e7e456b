import { escapePromQLValue } from "./escape.js";
import type { QueryParams } from "./types.js";

/** Names of the queries (identical for Prometheus and pod scraping). */
export const QueryName = {
  kvCacheUsage: "kv_cache_usage",
  queueLength: "queue_length",
  cacheConfigInfo: "cache_config_info",
  avgOutputTokens: "avg_output_tokens",
  avgInputTokens: "avg_input_tokens",
  prefixCacheHitRate: "prefix_cache_hit_rate",
  schedulerQueueSize: "scheduler_queue_size",
  schedulerQueueBytes: "scheduler_queue_bytes",
  modelRequestCount: "model_request_count",
  sampleTime: "sample_time",
  requestRate: "request_rate",
  avgTtft: "avg_ttft",
  avgItl: "avg_itl",
} as const;
export type QueryNameValue = (typeof QueryName)[keyof typeof QueryName];

/** vLLM metric names read by the queries. */
export const VllmMetric = {
  kvCacheUsage: "vllm:kv_cache_usage_perc",
  numRequestsWaiting: "vllm:num_requests_waiting",
  numRequestsRunning: "vllm:num_requests_running",
  cacheConfigInfo: "vllm:cache_config_info",
  requestSuccessTotal: "vllm:request_success_total",
  promptTokens: "vllm:request_prompt_tokens",
  generationTokens: "vllm:request_generation_tokens",
  timeToFirstToken: "vllm:time_to_first_token_seconds",
  timePerOutputToken: "vllm:time_per_output_token_seconds",
  /** The newer name of the inter-token latency histogram (vLLM V1). */
  interTokenLatency: "vllm:inter_token_latency_seconds",
  /** Counters: vLLM's exposition adds `_total` to the counter name. */
  prefixCacheHits: "vllm:prefix_cache_hits_total",
  prefixCacheQueries: "vllm:prefix_cache_queries_total",
  schedulerQueueSize: "inference_extension_flow_control_queue_size",
  schedulerQueueBytes: "inference_extension_flow_control_queue_bytes",
} as const;

/** A named PromQL template with `{{.param}}` placeholders; `params` are the required parameters. */
export interface QueryTemplate {
  name: string;
  params: readonly string[];
  promql: string;
  description?: string;
}

const NM = `namespace="{{.namespace}}",model_name="{{.modelID}}"`;

/** Mean of a histogram's observations over the last minute: rate of its sum over rate of its count. */
function meanOf(histogram: string, selector: string): string {
  return `(rate(${histogram}_sum{${selector}}[1m]) / rate(${histogram}_count{${selector}}[1m]))`;
}

/** The per-model templates (one query per model and metric). */
export const PER_MODEL_TEMPLATES: readonly QueryTemplate[] = [
  {
    name: QueryName.kvCacheUsage,
    params: ["namespace", "modelID"],
    promql: `max by (pod) (max_over_time(vllm:kv_cache_usage_perc{${NM}}[1m]))`,
    description: "peak KV-cache usage (0..1) per pod over 1 minute",
  },
  {
    name: QueryName.queueLength,
    params: ["namespace", "modelID"],
    promql: `max by (pod) (max_over_time(vllm:num_requests_waiting{${NM}}[1m]))`,
    description: "peak number of waiting requests per pod over 1 minute",
  },
  {
    name: QueryName.cacheConfigInfo,
    params: ["namespace", "modelID"],
    promql: `max by (pod, num_gpu_blocks, block_size) (vllm:cache_config_info{${NM}})`,
    description: "KV-cache geometry per pod (labels num_gpu_blocks, block_size)",
  },
  {
    name: QueryName.avgOutputTokens,
    params: ["namespace", "modelID"],
    promql: `max by (pod) (rate(vllm:request_generation_tokens_sum{${NM}}[5m]) / rate(vllm:request_generation_tokens_count{${NM}}[5m]))`,
  },
  {
    name: QueryName.avgInputTokens,
    params: ["namespace", "modelID"],
    promql: `max by (pod) (rate(vllm:request_prompt_tokens_sum{${NM}}[5m]) / rate(vllm:request_prompt_tokens_count{${NM}}[5m]))`,
  },
  {
    name: QueryName.prefixCacheHitRate,
    params: ["namespace", "modelID"],
    promql: `max by (pod) (rate(vllm:prefix_cache_hits_total{${NM}}[5m]) / rate(vllm:prefix_cache_queries_total{${NM}}[5m]))`,
  },
  {
    name: QueryName.schedulerQueueSize,
    params: ["modelID"],
    promql: `sum(inference_extension_flow_control_queue_size{target_model_name="{{.modelID}}"}) or sum(inference_extension_flow_control_queue_size{model_name="{{.modelID}}",target_model_name=""})`,
  },
  {
    name: QueryName.schedulerQueueBytes,
    params: ["modelID"],
    promql: `sum(inference_extension_flow_control_queue_bytes{target_model_name="{{.modelID}}"}) or sum(inference_extension_flow_control_queue_bytes{model_name="{{.modelID}}",target_model_name=""})`,
  },
  {
    name: QueryName.sampleTime,
    params: ["namespace", "modelID"],
    promql: `max by (pod) (timestamp(vllm:num_requests_waiting{${NM}}))`,
    description:
      "time (seconds since the epoch) of each pod's newest sample; absent once the pod's series went stale",
  },
  {
    name: QueryName.modelRequestCount,
    params: ["namespace", "modelID", "retentionPeriod"],
    promql: `sum(increase(vllm:request_success_total{${NM}}[{{.retentionPeriod}}]))`,
  },
  {
    name: QueryName.requestRate,
    params: ["namespace", "modelID"],
    promql: `sum by (pod) (rate(vllm:request_success_total{${NM}}[1m]))`,
    description: "completed requests per second per pod over 1 minute",
  },
  {
    name: QueryName.avgTtft,
    params: ["namespace", "modelID"],
    promql: `max by (pod) (${meanOf("vllm:time_to_first_token_seconds", NM)})`,
    description: "average time to first token (seconds) per pod over 1 minute",
  },
  {
    name: QueryName.avgItl,
    params: ["namespace", "modelID"],
    promql: `max by (pod) (${meanOf("vllm:inter_token_latency_seconds", NM)} or ${meanOf("vllm:time_per_output_token_seconds", NM)})`,
    description: "average inter-token latency (seconds) per pod over 1 minute, either histogram name",
  },
];

/** Name of the batch variant of a per-model query. */
export function batchQueryName(name: string): string {
  return `${name}:all_models`;
}

const BY = "namespace, model_name, pod";
const ALL = `model_name!=""`;

/**
 * Batch templates: one query per metric for all models at once, aggregated by (namespace, model_name, pod),
 * so the number of queries per cycle does not grow with the number of models. Results are sliced per
 * model group by the collector.
 */
export const BATCH_TEMPLATES: readonly QueryTemplate[] = [
  {
    name: batchQueryName(QueryName.kvCacheUsage),
    params: [],
    promql: `max by (${BY}) (max_over_time(vllm:kv_cache_usage_perc{model_name!=""}[1m]))`,
  },
  {
    name: batchQueryName(QueryName.queueLength),
    params: [],
    promql: `max by (${BY}) (max_over_time(vllm:num_requests_waiting{model_name!=""}[1m]))`,
  },
  {
    name: batchQueryName(QueryName.cacheConfigInfo),
    params: [],
    promql: `max by (${BY}, num_gpu_blocks, block_size) (vllm:cache_config_info{model_name!=""})`,
  },
  {
    name: batchQueryName(QueryName.avgOutputTokens),
    params: [],
    promql: `max by (${BY}) (rate(vllm:request_generation_tokens_sum{model_name!=""}[5m]) / rate(vllm:request_generation_tokens_count{model_name!=""}[5m]))`,
  },
  {
    name: batchQueryName(QueryName.avgInputTokens),
    params: [],
    promql: `max by (${BY}) (rate(vllm:request_prompt_tokens_sum{model_name!=""}[5m]) / rate(vllm:request_prompt_tokens_count{model_name!=""}[5m]))`,
  },
  {
    name: batchQueryName(QueryName.prefixCacheHitRate),
    params: [],
    promql: `max by (${BY}) (rate(vllm:prefix_cache_hits_total{model_name!=""}[5m]) / rate(vllm:prefix_cache_queries_total{model_name!=""}[5m]))`,
  },
  {
    name: batchQueryName(QueryName.sampleTime),
    params: [],
    promql: `max by (${BY}) (timestamp(vllm:num_requests_waiting{model_name!=""}))`,
  },
  {
    name: batchQueryName(QueryName.requestRate),
    params: [],
    promql: `sum by (${BY}) (rate(vllm:request_success_total{${ALL}}[1m]))`,
  },
  {
    name: batchQueryName(QueryName.avgTtft),
    params: [],
    promql: `max by (${BY}) (${meanOf("vllm:time_to_first_token_seconds", ALL)})`,
  },
  {
    name: batchQueryName(QueryName.avgItl),
    params: [],
    promql: `max by (${BY}) (${meanOf("vllm:inter_token_latency_seconds", ALL)} or ${meanOf("vllm:time_per_output_token_seconds", ALL)})`,
  },
];

/**
 * The queries the collector refreshes per model group (KV, queue and sample time are required, the rest
 * optional).
 */
export const COLLECTOR_QUERIES: readonly string[] = [
  QueryName.kvCacheUsage,
  QueryName.queueLength,
  QueryName.cacheConfigInfo,
  QueryName.avgOutputTokens,
  QueryName.avgInputTokens,
  QueryName.prefixCacheHitRate,
  QueryName.sampleTime,
  QueryName.requestRate,
  QueryName.avgTtft,
  QueryName.avgItl,
];

export class QueryBuildError extends Error {}

/** A registry of named templates. Registering a name twice is an error. */
export class QueryRegistry {
  private readonly templates = new Map<string, QueryTemplate>();

  constructor(templates: readonly QueryTemplate[] = []) {
    for (const t of templates) this.register(t);
  }

  register(t: QueryTemplate): void {
    if (!t.name) throw new Error("query template name must not be empty");
    if (this.templates.has(t.name)) throw new Error(`query "${t.name}" is already registered`);
    this.templates.set(t.name, t);
  }

  get(name: string): QueryTemplate | undefined {
    return this.templates.get(name);
  }

  names(): string[] {
    return [...this.templates.keys()];
  }

  /** Builds the PromQL of a registered query; throws QueryBuildError for unknown queries or missing params. */
  build(name: string, params: QueryParams = {}): string {
    const t = this.templates.get(name);
    if (!t) throw new QueryBuildError(`unknown query "${name}"`);
    return buildQuery(t, params);
  }
}

/**
 * Substitutes every provided parameter (escaped with escapePromQLValue) into the template by plain string
 * replacement, after checking that all declared parameters are present (an empty
 * string is a legal label value and is kept).
 */
export function buildQuery(t: QueryTemplate, params: QueryParams = {}): string {
  const missing = t.params.filter((p) => params[p] === undefined);
  if (missing.length > 0) {
    throw new QueryBuildError(
      `query "${t.name}": missing required parameter ${missing.map((m) => `"${m}"`).join(", ")}`,
    );
  }
  let q = t.promql;
  for (const [k, v] of Object.entries(params)) {
    q = q.split(`{{.${k}}}`).join(escapePromQLValue(v));
  }
  return q;
}

/** Registry with all per-model and batch templates. */
export function defaultQueryRegistry(): QueryRegistry {
  return new QueryRegistry([...PER_MODEL_TEMPLATES, ...BATCH_TEMPLATES]);
}
