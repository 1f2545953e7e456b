import { GPU } from "./controllers/kubelet.js";
import { parseQuantity } from "./controllers/hpa.js";
import { isObject, type KObject } from "./util.js";

/** Source of external metric values for the HPA controller (what prometheus-adapter serves). */
export interface ExternalMetricsProvider {
  /**
   * Values of the external metric `name` whose labels match `selector` (matchLabels), for an HPA
   * in `namespace`. The HPA sums them. Throws when the metric cannot be read.
   */
  getExternalMetric(namespace: string, name: string, selector: Record<string, string>): Promise<number[]>;
}

/** A provider over fixed values, set by tests and scenarios. */
export class StaticMetricsProvider implements ExternalMetricsProvider {
  private readonly values = new Map<string, Array<{ labels: Record<string, string>; value: number }>>();

  set(name: string, labels: Record<string, string>, value: number): void {
    const list = this.values.get(name) ?? [];
    const i = list.findIndex((s) => sameLabels(s.labels, labels));
    if (i >= 0) list[i] = { labels, value };
    else list.push({ labels, value });
    this.values.set(name, list);
  }

  clear(): void {
    this.values.clear();
  }

  async getExternalMetric(
    _namespace: string,
    name: string,
    selector: Record<string, string>,
  ): Promise<number[]> {
    const list = this.values.get(name);
    if (!list) throw new Error(`no external metric ${name}`);
    return list.filter((s) => matches(s.labels, selector)).map((s) => s.value);
  }
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/**
 * Label match as prometheus-adapter sees it after a Prometheus scrape: a target's own `namespace`
 * label is renamed to `exported_namespace`, so a selector on `exported_namespace` matches the
 * endpoint's `namespace` label.
 */
function matches(labels: Record<string, string>, selector: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector)) {
    const have = labels[k] ?? (k === "exported_namespace" ? labels.namespace : undefined);
    if (have !== v) return false;
  }
  return true;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (the sample lines; comments are skipped). */
export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$/);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let lm: RegExpExecArray | null;
      while ((lm = re.exec(m[3])))
        labels[lm[1]] = lm[2].replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    }
    const value = m[4] === "+Inf" ? Infinity : m[4] === "-Inf" ? -Infinity : Number(m[4]);
    out.push({ name: m[1], labels, value });
  }
  return out;
}

/**
 * Reads external metrics by scraping a Prometheus text endpoint (the WVA controller's /metrics),
 * the way prometheus-adapter would serve `wva_desired_replicas` after Prometheus scraped it.
 */
export class ScrapeMetricsProvider implements ExternalMetricsProvider {
  constructor(
    private readonly url: string | (() => string | undefined),
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async getExternalMetric(
    _namespace: string,
    name: string,
    selector: Record<string, string>,
  ): Promise<number[]> {
    const url = typeof this.url === "function" ? this.url() : this.url;
    if (!url) throw new Error("metrics endpoint not known yet");
    const res = await this.fetchImpl(url);
    if (!res.ok) throw new Error(`scraping ${url}: HTTP ${res.status}`);
    const samples = parsePrometheusText(await res.text()).filter(
      (s) => s.name === name && matches(s.labels, selector),
    );
    if (samples.length === 0) throw new Error(`no series of ${name} match ${JSON.stringify(selector)}`);
    return samples.map((s) => s.value);
  }
}

/**
 * Reads external metrics from a Prometheus server with the query of the prometheus-adapter rule in
 * the HPA guide: `name{<selector labels as equality matchers>}`, one value per returned series.
 */
export class PrometheusMetricsProvider implements ExternalMetricsProvider {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async getExternalMetric(
    _namespace: string,
    name: string,
    selector: Record<string, string>,
  ): Promise<number[]> {
    const matchers = Object.entries(selector)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(",");
    const url = new URL("api/v1/query", this.baseUrl.endsWith("/") ? this.baseUrl : `${this.baseUrl}/`);
    url.searchParams.set("query", `${name}{${matchers}}`);
    const res = await this.fetchImpl(url);
    if (!res.ok) throw new Error(`querying ${url.origin}: HTTP ${res.status}`);
    const body = (await res.json()) as { data?: { result?: Array<{ value?: [number, string] }> } };
    const values = (body.data?.result ?? []).map((r) => Number(r.value?.[1]));
    if (values.length === 0) throw new Error(`no series of ${name} match ${JSON.stringify(selector)}`);
    return values;
  }
}

/**
 * The provider for `--external-metrics-from URL`: a URL whose path ends in `/metrics` is scraped as
 * a Prometheus text endpoint (a manager's `/metrics`); any other URL is a Prometheus server.
 */
export function externalMetricsFrom(url: string): ExternalMetricsProvider {
  const u = new URL(url);
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(`"${url}" must be an http(s) URL`);
  return /\/metrics\/?$/.test(u.pathname)
    ? new ScrapeMetricsProvider(url)
    : new PrometheusMetricsProvider(url);
}

// ---- resource metrics (metrics.k8s.io) ----------------------------------------------------------

const RESOURCES = ["cpu", "memory", GPU] as const;

/** What a container asks for (requests, else limits) of cpu, memory and GPUs, as numbers. */
function containerRequests(c: Record<string, unknown>): Record<string, number> {
  const r = isObject(c.resources) ? c.resources : {};
  const req = isObject(r.requests) ? r.requests : {};
  const lim = isObject(r.limits) ? r.limits : {};
  const out: Record<string, number> = {};
  for (const k of RESOURCES) {
    const v = parseQuantity(req[k] ?? lim[k] ?? 0);
    out[k] = Number.isFinite(v) ? v : 0;
  }
  return out;
}

function usage(values: Record<string, number>): Record<string, string> {
  return {
    cpu: `${Math.round(values.cpu * 1000)}m`,
    memory: String(Math.round(values.memory)),
    [GPU]: String(values[GPU]),
  };
}

/**
 * A running pod's PodMetrics. The emulated containers run no workload of their own, so each reports
 * what it requested (cpu, memory, `nvidia.com/gpu`) as its usage; pods not running have none.
 */
export function podMetrics(pod: KObject, now = new Date()): KObject | undefined {
  if (pod.status?.phase !== "Running") return undefined;
  const m = pod.metadata ?? {};
  return {
    kind: "PodMetrics",
    apiVersion: "metrics.k8s.io/v1beta1",
    metadata: {
      name: m.name,
      namespace: m.namespace,
      labels: m.labels,
      creationTimestamp: now.toISOString(),
    },
    timestamp: now.toISOString(),
    window: "30s",
    containers: ((pod.spec?.containers as Array<Record<string, unknown>>) ?? []).map((c) => ({
      name: c.name,
      usage: usage(containerRequests(c)),
    })),
  };
}

/** A node's NodeMetrics: the sum of its running pods' usage. */
export function nodeMetrics(node: KObject, pods: KObject[], now = new Date()): KObject {
  const total: Record<string, number> = { cpu: 0, memory: 0, [GPU]: 0 };
  for (const p of pods) {
    if (p.status?.phase !== "Running" || p.spec?.nodeName !== node.metadata?.name) continue;
    for (const c of (p.spec?.containers as Array<Record<string, unknown>>) ?? []) {
      const r = containerRequests(c);
      for (const k of RESOURCES) total[k] += r[k];
    }
  }
  return {
    kind: "NodeMetrics",
    apiVersion: "metrics.k8s.io/v1beta1",
    metadata: {
      name: node.metadata?.name,
      labels: node.metadata?.labels,
      creationTimestamp: now.toISOString(),
    },
    timestamp: now.toISOString(),
    window: "30s",
    usage: usage(total),
  };
}
