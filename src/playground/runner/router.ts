import http from "node:http";
import type { AddressInfo } from "node:net";
import { percentiles, type Percentiles } from "../load/runner.js";

/**
 * The model's front door in the playground, an emulated endpoint picker (EPP) of the Gateway API
 * Inference Extension: an HTTP proxy on loopback that sends each request to the ready pod with the fewest
 * requests in flight (ties: round robin). When no pod of the model is ready, a request waits in the
 * flow-control queue (first in, first out) until one is, or fails after the timeout. A second listener,
 * on the EPP pod's address, serves the queue size per target model under EPP's metric names, which is
 * what the scale-from-zero path scrapes.
 */

/** EPP's flow-control metrics (names and labels as the endpoint picker exports them). */
export const EPP_QUEUE_SIZE_METRIC = "inference_extension_flow_control_queue_size";
export const EPP_QUEUE_BYTES_METRIC = "inference_extension_flow_control_queue_bytes";

export interface RouterStats {
  /** Requests received. */
  received: number;
  /** Requests answered with status 200 whose response finished. */
  completed: number;
  /** Requests that failed (queue timeout, upstream error, non-200 status, aborted). */
  failed: number;
  inFlight: number;
  /** Requests waiting in the flow-control queue now. */
  queued: number;
  /** Requests that waited in the queue for a pod to become ready (a cold start). */
  coldStarts: number;
}

/** Requests that waited for a cold start: how many, and their time to first token (ms). */
export interface ColdStartReport {
  requests: number;
  completed: number;
  ttftMs: Percentiles;
}

export interface RouterOptions {
  /** `host:port` of the ready pods, asked on every request. */
  endpoints: () => string[];
  host?: string;
  /** The model served (the `target_model_name` of the queue metrics). */
  model?: string;
  /** How long a request waits in the queue for a ready pod before it fails, ms (default 60 s). */
  queueTimeoutMs?: number;
}

interface Waiting {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  at: number;
  bytes: number;
  timer: NodeJS.Timeout;
}

/** How often the queue looks for a ready pod while requests wait. */
const QUEUE_POLL_MS = 10;

export class ModelRouter {
  private server: http.Server | undefined;
  private readonly inFlight = new Map<string, number>();
  private rr = 0;
  private readonly counts: RouterStats = {
    received: 0,
    completed: 0,
    failed: 0,
    inFlight: 0,
    queued: 0,
    coldStarts: 0,
  };
  private readonly queue: Waiting[] = [];
  private poll: NodeJS.Timeout | undefined;
  private metricsServer: http.Server | undefined;
  private readonly coldTtft: number[] = [];
  private coldCompleted = 0;
  /** Epoch ms at which each request entered the flow-control queue, in order. */
  readonly queuedAt: number[] = [];
  // a fresh connection per request: reusing an idle keep-alive socket races with the server closing it
  private readonly agent = new http.Agent({ keepAlive: false, maxSockets: 512 });
  private baseUrl: string | undefined;

  constructor(private readonly opts: RouterOptions) {}

  get url(): string {
    if (!this.baseUrl) throw new Error("router not started");
    return this.baseUrl;
  }

  stats(): RouterStats {
    return { ...this.counts, queued: this.queue.length };
  }

  /** Requests that waited for a cold start and their time to first token. */
  coldStartReport(): ColdStartReport {
    return {
      requests: this.counts.coldStarts,
      completed: this.coldCompleted,
      ttftMs: percentiles(this.coldTtft),
    };
  }

  /** The flow-control metrics in the Prometheus text format. */
  metricsText(): string {
    const model = escapeLabel(this.opts.model ?? "");
    const labels = `{fairness_id="default",priority="0",model_name="${model}",target_model_name="${model}"}`;
    const bytes = this.queue.reduce((s, w) => s + w.bytes, 0);
    return [
      `# HELP ${EPP_QUEUE_SIZE_METRIC} Requests held in the flow-control queue.`,
      `# TYPE ${EPP_QUEUE_SIZE_METRIC} gauge`,
      `${EPP_QUEUE_SIZE_METRIC}${labels} ${this.queue.length}`,
      `# HELP ${EPP_QUEUE_BYTES_METRIC} Bytes of the requests held in the flow-control queue.`,
      `# TYPE ${EPP_QUEUE_BYTES_METRIC} gauge`,
      `${EPP_QUEUE_BYTES_METRIC}${labels} ${bytes}`,
      "",
    ].join("\n");
  }

  /** Serves `/metrics` on `host:port` (the EPP pod's address); returns the URL. */
  async startMetrics(host: string, port: number): Promise<string> {
    const server = http.createServer((req, res) => {
      if ((req.url ?? "").split("?")[0] !== "/metrics") {
        res.writeHead(404).end();
        return;
      }
      const body = this.metricsText();
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(body);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    await this.stopMetrics();
    this.metricsServer = server;
    return `http://${host}:${(server.address() as AddressInfo).port}/metrics`;
  }

  async stopMetrics(): Promise<void> {
    const s = this.metricsServer;
    this.metricsServer = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Picks the endpoint with the fewest requests in flight; undefined when none is ready. */
  pick(): string | undefined {
    const eps = this.opts.endpoints();
    if (eps.length === 0) return undefined;
    let best: string | undefined;
    let bestN = Infinity;
    for (let i = 0; i < eps.length; i++) {
      const ep = eps[(this.rr + i) % eps.length];
      const n = this.inFlight.get(ep) ?? 0;
      if (n < bestN) {
        best = ep;
        bestN = n;
      }
    }
    this.rr = (this.rr + 1) % eps.length;
    return best;
  }

  async start(): Promise<string> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, this.opts.host ?? "127.0.0.1", () => resolve());
    });
    this.server = server;
    const a = server.address() as AddressInfo;
    this.baseUrl = `http://${a.address}:${a.port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    clearInterval(this.poll);
    this.poll = undefined;
    for (const w of this.queue.splice(0)) {
      clearTimeout(w.timer);
      this.reject(w, 503, "the endpoint picker stopped");
    }
    await this.stopMetrics();
    this.agent.destroy();
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.counts.received++;
    this.counts.inFlight++;
    const at = Date.now();
    if (this.queue.length === 0) {
      const ep = this.pick();
      if (ep !== undefined) {
        this.forward(req, res, ep, at, false);
        return;
      }
    }
    // no ready pod (or requests already waiting): hold the request in the flow-control queue
    this.counts.coldStarts++;
    this.queuedAt.push(at);
    const w: Waiting = {
      req,
      res,
      at,
      bytes: Number(req.headers["content-length"] ?? 0) || 0,
      timer: setTimeout(() => {
        const i = this.queue.indexOf(w);
        if (i < 0) return;
        this.queue.splice(i, 1);
        this.counts.inFlight--;
        this.counts.failed++;
        this.reject(w, 503, "no ready pod for this model within the queue timeout");
      }, this.opts.queueTimeoutMs ?? 60_000),
    };
    req.pause();
    res.on("close", () => {
      const i = this.queue.indexOf(w);
      if (i < 0) return;
      this.queue.splice(i, 1);
      clearTimeout(w.timer);
      this.counts.inFlight--;
      this.counts.failed++;
    });
    this.queue.push(w);
    this.poll ??= setInterval(() => this.drain(), QUEUE_POLL_MS);
  }

  /** Sends waiting requests to ready pods, oldest first. */
  private drain(): void {
    while (this.queue.length > 0) {
      const ep = this.pick();
      if (ep === undefined) return;
      const w = this.queue.shift()!;
      clearTimeout(w.timer);
      this.forward(w.req, w.res, ep, w.at, true);
    }
    clearInterval(this.poll);
    this.poll = undefined;
  }

  private reject(w: Waiting, status: number, message: string): void {
    w.req.resume();
    if (w.res.headersSent) return void w.res.destroy();
    const body = JSON.stringify({ error: { message, type: "ServiceUnavailable" } });
    w.res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    w.res.end(body);
  }

  private forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    ep: string,
    at: number,
    cold: boolean,
  ): void {
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      this.counts.inFlight--;
      if (ok) this.counts.completed++;
      else this.counts.failed++;
      if (ok && cold) this.coldCompleted++;
      this.inFlight.set(ep, Math.max(0, (this.inFlight.get(ep) ?? 1) - 1));
    };
    this.inFlight.set(ep, (this.inFlight.get(ep) ?? 0) + 1);
    const [host, port] = splitHostPort(ep);
    const upstream = http.request(
      {
        host,
        port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: ep },
        agent: this.agent,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (cold) up.once("data", () => this.coldTtft.push(Date.now() - at));
        up.pipe(res);
        up.on("end", () => finish(up.statusCode === 200));
        up.on("error", () => {
          finish(false);
          res.destroy();
        });
      },
    );
    upstream.on("error", (err) => {
      finish(false);
      if (!res.headersSent) {
        const body = JSON.stringify({
          error: { message: `upstream ${ep}: ${err.message}`, type: "BadGateway" },
        });
        res.writeHead(502, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
        res.end(body);
      } else res.destroy();
    });
    res.on("close", () => {
      if (!done) {
        finish(false);
        upstream.destroy();
      }
    });
    req.pipe(upstream);
    req.resume();
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function splitHostPort(ep: string): [string, number] {
  const i = ep.lastIndexOf(":");
  return [ep.slice(0, i), Number(ep.slice(i + 1))];
}
