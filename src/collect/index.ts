// Public surface of metrics collection.
export * from "./types.js";
export { escapePromQLValue } from "./escape.js";
export * from "./queries.js";
export { ResultCache, cacheKey, DEFAULT_CACHE_TTL_MS } from "./cache.js";
export * from "./freshness.js";
export * from "./prometheus/config.js";
export { PrometheusSource, type PrometheusSourceOptions } from "./prometheus/source.js";
export { parseQueryResponse } from "./prometheus/parse.js";
export * from "./cluster.js";
export * from "./collector.js";
export {
  PodScrapingSource,
  StaticTargets,
  ALL_METRICS_QUERY,
  type ScrapeTarget,
  type ScrapeTargetLister,
  type PodScrapingSourceOptions,
} from "./podscrape/source.js";
export { parseExposition, type ExpositionSample } from "./podscrape/exposition.js";
