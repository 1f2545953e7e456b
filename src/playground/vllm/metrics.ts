import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { CompletedRequest, EngineObserver, VllmEngine } from "./engine.js";

const TOKEN_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640,
  2560,
];
const TPOT_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
];
const E2E_BUCKETS = [
  0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680,
];

export interface EmulatorMetricsOptions {
  model: string;
  /** Labels added to every series, e.g. {namespace, pod}. */
  extraLabels?: Record<string, string>;
  /** Also expose the pre-rename `vllm:gpu_cache_usage_perc` gauge (0..1). */
  legacyGpuCacheMetric?: boolean;
}

/**
 * vLLM's metric families (real names, label `model_name`) on a private prom-client Registry. Gauges are
 * read from the engine at scrape time; histograms and counters are fed by the engine's observer hooks.
 */
export class EmulatorMetrics {
  readonly registry = new Registry();
  readonly observer: EngineObserver;
  private engine: VllmEngine | undefined;

  constructor(opts: EmulatorMetricsOptions) {
    const reg = this.registry;
    if (opts.extraLabels && Object.keys(opts.extraLabels).length > 0) reg.setDefaultLabels(opts.extraLabels);
    const model = opts.model;
    const labelNames = ["model_name"] as const;
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [reg],
        collect() {
          this.set({ model_name: model }, read());
        },
      });
    gauge(
      "vllm:kv_cache_usage_perc",
      "KV-cache usage. 1 means 100 percent usage.",
      () => this.stats().kvUsage,
    );
    if (opts.legacyGpuCacheMetric) {
      gauge(
        "vllm:gpu_cache_usage_perc",
        "GPU KV-cache usage. 1 means 100 percent usage.",
        () => this.stats().kvUsage,
      );
    }
    gauge(
      "vllm:num_requests_waiting",
      "Number of requests waiting to be processed.",
      () => this.stats().waiting,
    );
    gauge(
      "vllm:num_requests_running",
      "Number of requests in model execution batches.",
      () => this.stats().running,
    );
    const cacheInfo = new Gauge({
      name: "vllm:cache_config_info",
      help: "Information of the LLMEngine CacheConfig.",
      labelNames: ["model_name", "num_gpu_blocks", "block_size"],
      registers: [reg],
    });
    const success = new Counter({
      name: "vllm:request_success_total",
      help: "Count of successfully processed requests.",
      labelNames: ["model_name", "finished_reason"],
      registers: [reg],
    });
    success.inc({ model_name: model, finished_reason: "length" }, 0);
    const hist = (name: string, help: string, buckets: number[]) =>
      new Histogram({ name, help, buckets, labelNames, registers: [reg] });
    const prompt = hist("vllm:request_prompt_tokens", "Number of prefill tokens processed.", TOKEN_BUCKETS);
    const gen = hist(
      "vllm:request_generation_tokens",
      "Number of generation tokens processed.",
      TOKEN_BUCKETS,
    );
    const ttft = hist(
      "vllm:time_to_first_token_seconds",
      "Histogram of time to first token in seconds.",
      TTFT_BUCKETS,
    );
    // vLLM V1 exports the gap between output tokens under both names (the older one is deprecated)
    const tpot = hist(
      "vllm:time_per_output_token_seconds",
      "Histogram of time per output token in seconds.",
      TPOT_BUCKETS,
    );
    const itl = hist(
      "vllm:inter_token_latency_seconds",
      "Histogram of inter-token latency in seconds.",
      TPOT_BUCKETS,
    );
    const e2e = hist(
      "vllm:e2e_request_latency_seconds",
      "Histogram of end to end request latency in seconds.",
      E2E_BUCKETS,
    );
    // Counter names carry the `_total` suffix that vLLM's Python client adds in its exposition.
    const promptTotal = new Counter({
      name: "vllm:prompt_tokens_total",
      help: "Number of prefill tokens processed.",
      labelNames,
      registers: [reg],
    });
    const generationTotal = new Counter({
      name: "vllm:generation_tokens_total",
      help: "Number of generation tokens processed.",
      labelNames,
      registers: [reg],
    });
    const queries = new Counter({
      name: "vllm:prefix_cache_queries_total",
      help: "Prefix-cache queries, in terms of number of queried tokens.",
      labelNames,
      registers: [reg],
    });
    const hits = new Counter({
      name: "vllm:prefix_cache_hits_total",
      help: "Prefix-cache hits, in terms of number of cached tokens (the emulator models no prefix cache).",
      labelNames,
      registers: [reg],
    });
    for (const m of [prompt, gen, ttft, tpot, itl, e2e]) m.zero({ model_name: model });
    for (const c of [promptTotal, generationTotal, queries, hits]) c.inc({ model_name: model }, 0);
    this.setCacheConfig = (blocks: number, blockSize: number) =>
      cacheInfo.set({ model_name: model, num_gpu_blocks: String(blocks), block_size: String(blockSize) }, 1);
    this.observer = {
      onComplete: (r: CompletedRequest) => {
        success.inc({ model_name: model, finished_reason: "length" });
        prompt.observe({ model_name: model }, r.inputTokens);
        gen.observe({ model_name: model }, r.outputTokens);
        promptTotal.inc({ model_name: model }, r.inputTokens);
        generationTotal.inc({ model_name: model }, r.outputTokens);
        ttft.observe({ model_name: model }, r.ttft / 1000);
        e2e.observe({ model_name: model }, r.e2e / 1000);
      },
      onTokenGap: (gapMs: number) => {
        tpot.observe({ model_name: model }, gapMs / 1000);
        itl.observe({ model_name: model }, gapMs / 1000);
      },
      onPromptQueried: (tokens: number) => queries.inc({ model_name: model }, tokens),
    };
  }

  readonly setCacheConfig: (blocks: number, blockSize: number) => void;

  attach(engine: VllmEngine): void {
    this.engine = engine;
    this.setCacheConfig(engine.config.kvBlocks, engine.config.blockSize);
  }

  private stats() {
    if (!this.engine) return { kvUsage: 0, waiting: 0, running: 0 };
    return this.engine.stats();
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
