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
