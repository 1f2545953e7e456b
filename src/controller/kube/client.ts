import http from "node:http";
import https from "node:https";
import { KubeConfig, Watch } from "@kubernetes/client-node";

/** An error answered by the Kubernetes API (or a transport failure, statusCode 0). */
export class KubeApiError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
    readonly reason: string = "",
    readonly body: unknown = undefined,
  ) {
    super(message);
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof KubeApiError && err.statusCode === 404;
export const isConflict = (err: unknown): boolean => err instanceof KubeApiError && err.statusCode === 409;

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Content type of the body; JSON by default. */
  contentType?: string;
  /** Milliseconds; defaults to the client's timeout. */
  timeoutMs?: number;
}

/** Counts of API calls made through one client, by verb (for benchmarks and tests). */
export class RequestStats {
  total = 0;
  readonly byVerb = new Map<string, number>();
  count(verb: string): void {
    this.total++;
    this.byVerb.set(verb, (this.byVerb.get(verb) ?? 0) + 1);
  }
  snapshot(): { total: number; byVerb: Record<string, number> } {
    return { total: this.total, byVerb: Object.fromEntries(this.byVerb) };
  }
}

export interface KubeClientOptions {
  /** Per-request timeout (`--rest-client-timeout`), milliseconds. */
  timeoutMs?: number;
  userAgent?: string;
}

/**
 * A thin JSON client over the Kubernetes REST API. Connection, TLS and credentials come from
 * `@kubernetes/client-node`'s `KubeConfig` (every auth provider it supports); watches use its `Watch`.
 * Objects stay plain JSON, which keeps JSON merge patches and informer caches simple.
 */
export class KubeClient {
  readonly stats = new RequestStats();
  private readonly server: URL;
  private timeoutMs: number;
  private readonly userAgent: string;
  private readonly watcher: Watch;
  private readonly agent: http.Agent;

  constructor(
    readonly kubeConfig: KubeConfig,
    options: KubeClientOptions = {},
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig: no current cluster (set current-context)");
    this.server = new URL(cluster.server);
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.userAgent = options.userAgent ?? "workload-variant-autoscaler";
    this.watcher = new Watch(kubeConfig);
    this.agent =
      this.server.protocol === "https:"
        ? new https.Agent({ keepAlive: true, maxSockets: 32 })
        : new http.Agent({ keepAlive: true, maxSockets: 32 });
  }

  /** Changes the per-request timeout (milliseconds). */
  setTimeout(ms: number): void {
    if (ms > 0) this.timeoutMs = ms;
  }

  get serverUrl(): string {
    return this.server.toString();
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(this.server.toString().replace(/\/$/, "") + path);
    for (const [k, v] of Object.entries(options.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const reqOpts: https.RequestOptions = {
      method,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      headers: { Accept: "application/json", "User-Agent": this.userAgent },
    };
    await this.kubeConfig.applyToHTTPSOptions(reqOpts);
    reqOpts.agent = this.agent;
    let payload: Buffer | undefined;
    if (options.body !== undefined) {
      payload = Buffer.from(JSON.stringify(options.body));
      reqOpts.headers = {
        ...(reqOpts.headers as Record<string, string>),
        "Content-Type": options.contentType ?? "application/json",
        "Content-Length": String(payload.length),
      };
    }
    this.stats.count(method);
    const mod = url.protocol === "https:" ? https : http;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return await new Promise<T>((resolve, reject) => {
      const req = mod.request(reqOpts, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) => reject(new KubeApiError(`${method} ${path}: ${e.message}`, 0)));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = undefined;
          try {
            parsed = text.length > 0 ? JSON.parse(text) : undefined;
          } catch {
            parsed = text;
          }
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) {
            resolve(parsed as T);
            return;
          }
          const status = (parsed ?? {}) as { message?: string; reason?: string };
          reject(
            new KubeApiError(
              `${method} ${path}: ${code} ${status.message ?? res.statusMessage ?? ""}`.trim(),
              code,
              status.reason ?? "",
              parsed,
            ),
          );
        });
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs}ms`)));
      req.on("error", (e) => reject(new KubeApiError(`${method} ${path}: ${e.message}`, 0)));
      if (payload) req.write(payload);
      req.end();
    });
  }

  get<T = unknown>(path: string, query?: RequestOptions["query"]): Promise<T> {
    return this.request<T>("GET", path, { query });
  }

  create<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request<T>("POST", path, { body });
  }

  replace<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PUT", path, { body });
  }

  /** JSON merge patch (RFC 7386). */
  mergePatch<T = unknown>(path: string, patch: unknown): Promise<T> {
    return this.request<T>("PATCH", path, { body: patch, contentType: "application/merge-patch+json" });
  }

  delete<T = unknown>(path: string): Promise<T> {
    return this.request<T>("DELETE", path);
  }

  /**
   * Starts a watch; `onEvent` gets each event, `onDone` is called once when the stream ends
   * (error or not). Returns a handle to abort it.
   */
  async watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (type: string, obj: unknown) => void,
    onDone: (err: unknown) => void,
  ): Promise<AbortController> {
    this.stats.count("WATCH");
    return await this.watcher.watch(path, query, onEvent, onDone);
  }
}

/** Loads a KubeConfig from a path, an object, or the default locations (KUBECONFIG, in-cluster). */
export function loadKubeConfig(source?: string | KubeConfig): KubeConfig {
  if (source instanceof KubeConfig) return source;
  const kc = new KubeConfig();
  if (source) kc.loadFromFile(source);
  else kc.loadFromDefault();
  return kc;
}
