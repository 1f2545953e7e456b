import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The model's front door in the playground, standing in for a Kubernetes Service / inference gateway:
 * an HTTP proxy on loopback that sends each request to the ready pod with the fewest requests in
 * flight (ties: round robin). It counts requests as they pass, for the live table.
 */

export interface RouterStats {
  /** Requests received. */
  received: number;
  /** Requests answered with status 200 whose response finished. */
  completed: number;
  /** Requests that failed (no ready pod, upstream error, non-200 status, aborted). */
  failed: number;
  inFlight: number;
}

export interface RouterOptions {
  /** `host:port` of the ready pods, asked on every request. */
  endpoints: () => string[];
  host?: string;
}

export class ModelRouter {
  private server: http.Server | undefined;
  private readonly inFlight = new Map<string, number>();
  private rr = 0;
  private readonly counts: RouterStats = { received: 0, completed: 0, failed: 0, inFlight: 0 };
  // a fresh connection per request: reusing an idle keep-alive socket races with the server closing it
  private readonly agent = new http.Agent({ keepAlive: false, maxSockets: 512 });
  private baseUrl: string | undefined;

  constructor(private readonly opts: RouterOptions) {}

  get url(): string {
    if (!this.baseUrl) throw new Error("router not started");
    return this.baseUrl;
  }

  stats(): RouterStats {
    return { ...this.counts };
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
    this.agent.destroy();
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.counts.received++;
    this.counts.inFlight++;
    let done = false;
    const finish = (ok: boolean, ep?: string) => {
      if (done) return;
      done = true;
      this.counts.inFlight--;
      if (ok) this.counts.completed++;
      else this.counts.failed++;
      if (ep !== undefined) this.inFlight.set(ep, Math.max(0, (this.inFlight.get(ep) ?? 1) - 1));
    };
    const ep = this.pick();
    if (ep === undefined) {
      finish(false);
      req.resume();
      const body = JSON.stringify({
        error: { message: "no ready pod for this model", type: "ServiceUnavailable" },
      });
      res.writeHead(503, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
      return;
    }
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
        up.pipe(res);
        up.on("end", () => finish(up.statusCode === 200, ep));
        up.on("error", () => {
          finish(false, ep);
          res.destroy();
        });
      },
    );
    upstream.on("error", (err) => {
      finish(false, ep);
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
        finish(false, ep);
        upstream.destroy();
      }
    });
    req.pipe(upstream);
  }
}

function splitHostPort(ep: string): [string, number] {
  const i = ep.lastIndexOf(":");
  return [ep.slice(0, i), Number(ep.slice(i + 1))];
}
