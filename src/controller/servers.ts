import { createHash } from "node:crypto";
import { readFileSync, unwatchFile, watchFile } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import { createServingCertificate } from "../util/certificates.js";
import type { Logger } from "../util/logger.js";
import { silentLogger } from "../util/logger.js";
import type { KubeClient } from "./kube/client.js";
import { errText } from "./kube/informer.js";

/** Parses a Go-style bind address (`:8443`, `127.0.0.1:0`, `[::1]:8080`); `0` or "" = disabled. */
export function parseBindAddress(addr: string): { host?: string; port: number } | undefined {
  const a = addr.trim();
  if (a === "" || a === "0") return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(a);
  if (!m) throw new Error(`bind address "${addr}" must be host:port, :port or 0`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`bind address "${addr}": port must be at most 65535`);
  const host = m[1] ?? m[2];
  return { host: host || undefined, port };
}

function urlHost(host: string | undefined): string {
  const h = host && host !== "0.0.0.0" && host !== "::" ? host : "127.0.0.1";
  return h.includes(":") ? `[${h}]` : h;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

interface Listening {
  url: string;
  close(): Promise<void>;
}

async function listen(
  server: http.Server | https.Server | http2.Http2SecureServer,
  scheme: string,
  bind: { host?: string; port: number },
): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(bind.port, bind.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const info = server.address() as AddressInfo;
  return {
    url: `${scheme}://${urlHost(bind.host)}:${info.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as http.Server).closeAllConnections?.();
      }),
  };
}

/** `/healthz` and `/readyz` (plain HTTP). `ready()` decides readiness; health is a ping. */
export async function startProbeServer(
  bindAddress: string,
  ready: () => boolean,
): Promise<Listening | undefined> {
  const bind = parseBindAddress(bindAddress);
  if (!bind) return undefined;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz" || path.startsWith("/healthz/")) {
      res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
    } else if (path === "/readyz" || path.startsWith("/readyz/")) {
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { "Content-Type": "text/plain" }).end(ok ? "ok" : "not ready");
    } else {
      res.writeHead(404).end("not found");
    }
  });
  return await listen(server, "http", bind);
}

/** Answers whether a bearer token may `get` the non-resource URL `/metrics`. */
export interface MetricsAuthorizer {
  check(token: string): Promise<{ status: 200 | 401 | 403; message: string }>;
}

interface TokenReview {
  status?: {
    authenticated?: boolean;
    user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
    error?: string;
  };
}

interface SubjectAccessReview {
  status?: { allowed?: boolean; denied?: boolean; reason?: string };
}

/**
 * Delegated authentication and authorization through the API server: a TokenReview authenticates
 * the bearer token, a SubjectAccessReview checks `get` on the non-resource URL `/metrics`.
 * Answers are cached per token for `ttlMs` (10 s by default) to keep scrapes cheap.
 */
export class KubeMetricsAuthorizer implements MetricsAuthorizer {
  private readonly cache = new Map<
    string,
    { at: number; result: { status: 200 | 401 | 403; message: string } }
  >();

  constructor(
    private readonly client: KubeClient,
    private readonly ttlMs = 10_000,
  ) {}

  async check(token: string): Promise<{ status: 200 | 401 | 403; message: string }> {
    const key = createHash("sha256").update(token).digest("hex");
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.result;
    const review = await this.client.create<TokenReview>("/apis/authentication.k8s.io/v1/tokenreviews", {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      spec: { token },
    });
    let result: { status: 200 | 401 | 403; message: string };
    if (!review.status?.authenticated) {
      result = { status: 401, message: "Unauthorized" };
    } else {
      const user = review.status.user ?? {};
      const sar = await this.client.create<SubjectAccessReview>(
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: {
            user: user.username,
            uid: user.uid,
            groups: user.groups,
            extra: user.extra,
            nonResourceAttributes: { path: "/metrics", verb: "get" },
          },
        },
      );
      result = sar.status?.allowed
        ? { status: 200, message: "ok" }
        : {
            status: 403,
            message: `Forbidden: user "${user.username ?? ""}" may not get non-resource URL /metrics`,
          };
    }
    this.cache.set(key, { at: Date.now(), result });
    if (this.cache.size > 1000) this.cache.clear();
    return result;
  }
}

export interface MetricsServerOptions {
  bindAddress: string;
  secure: boolean;
  /** Directory holding the serving certificate; empty = generate a self-signed one. */
  certPath?: string;
  certName?: string;
  keyName?: string;
  enableHttp2?: boolean;
  authorizer?: MetricsAuthorizer;
  render: () => Promise<{ contentType: string; body: string }>;
  logger?: Logger;
}

export interface MetricsServer extends Listening {
  /** PEM of the serving certificate (HTTPS only). */
  certPem?: string;
}

async function selfSignedPair(): Promise<{ cert: string; key: string }> {
  const { certPem, keyPem } = createServingCertificate({
    commonName: "workload-variant-autoscaler",
    dnsNames: ["localhost", hostname()],
    ipAddresses: ["127.0.0.1"],
    days: 365,
  });
  return { cert: certPem, key: keyPem };
}

/**
 * `/metrics` over HTTPS with the authentication / authorization filter, or plain HTTP when
 * `secure` is false. A certificate directory is watched and reloaded when its files change.
 */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer | undefined> {
  const bind = parseBindAddress(opts.bindAddress);
  if (!bind) return undefined;
  const log = opts.logger ?? silentLogger;
  const handler: Handler = (req, res) => {
    void (async () => {
      const path = (req.url ?? "/").split("?")[0];
      if (path !== "/metrics") {
        res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
        return;
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { "Content-Type": "text/plain" }).end("method not allowed");
        return;
      }
      if (opts.secure && opts.authorizer) {
        const auth = req.headers.authorization ?? "";
        const m = /^Bearer\s+(.+)$/i.exec(auth);
        if (!m) {
          res.writeHead(401, { "Content-Type": "text/plain" }).end("Unauthorized");
          return;
        }
        try {
          const verdict = await opts.authorizer.check(m[1].trim());
          if (verdict.status !== 200) {
            res.writeHead(verdict.status, { "Content-Type": "text/plain" }).end(verdict.message);
            return;
          }
        } catch (err) {
          log.warn({ err: errText(err) }, "metrics authorization failed");
          res.writeHead(500, { "Content-Type": "text/plain" }).end("authorization failed");
          return;
        }
      }
      const out = await opts.render();
      res.writeHead(200, { "Content-Type": out.contentType });
      res.end(req.method === "HEAD" ? undefined : out.body);
    })().catch((err: unknown) => {
      log.error({ err: errText(err) }, "serving /metrics failed");
      if (!res.headersSent) res.writeHead(500).end("internal error");
    });
  };
  if (!opts.secure) {
    return await listen(http.createServer(handler), "http", bind);
  }
  let cert: string;
  let key: string;
  let certFile: string | undefined;
  let keyFile: string | undefined;
  if (opts.certPath) {
    certFile = join(opts.certPath, opts.certName || "tls.crt");
    keyFile = join(opts.certPath, opts.keyName || "tls.key");
    cert = readFileSync(certFile, "utf8");
    key = readFileSync(keyFile, "utf8");
  } else {
    ({ cert, key } = await selfSignedPair());
    log.info("serving /metrics with a generated self-signed certificate");
  }
  const tls = { cert, key, minVersion: "TLSv1.2" as const };
  const server = opts.enableHttp2
    ? http2.createSecureServer({ ...tls, allowHTTP1: true }, handler as never)
    : https.createServer({ ...tls, ALPNProtocols: ["http/1.1"] }, handler);
  const listening = await listen(server, "https", bind);
  let current = cert;
  if (certFile && keyFile) {
    const reload = (): void => {
      try {
        const c = readFileSync(certFile, "utf8");
        const k = readFileSync(keyFile, "utf8");
        server.setSecureContext({ cert: c, key: k, minVersion: "TLSv1.2" });
        current = c;
        log.info("reloaded the metrics serving certificate");
      } catch (err) {
        log.warn({ err: errText(err) }, "reloading the metrics certificate failed; keeping the old one");
      }
    };
    watchFile(certFile, { interval: 1000 }, reload);
    watchFile(keyFile, { interval: 1000 }, reload);
  }
  return {
    url: listening.url,
    get certPem() {
      return current;
    },
    close: async () => {
      if (certFile) unwatchFile(certFile);
      if (keyFile) unwatchFile(keyFile);
      await listening.close();
    },
  };
}
