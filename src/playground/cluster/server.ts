// Over 450 lines: the emulated API server's HTTP front, every endpoint routed in one class.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { parse as parseYaml } from "yaml";
import type {
  ClusterApi,
  DeleteOptions,
  FieldValidation,
  PatchType,
  WatchEvent,
  WriteOptions,
} from "./api.js";
import type { Authz, UserInfo } from "./auth.js";
import { apiGroup, apiGroupList, apiResourceList, apiVersions, serverVersion } from "./discovery.js";
import {
  ApiError,
  badRequest,
  forbidden,
  internalError,
  methodNotAllowed,
  notFound,
  unauthorized,
} from "./errors.js";
import type { Faults, RequestInfo } from "./faults.js";
import type { LogLine, PodLogs } from "./logs.js";
import { nodeMetrics, podMetrics, type ExternalMetricsProvider } from "./metrics.js";
import {
  openapiV2,
  openapiV2Protobuf,
  openapiV2ProtobufContentType,
  openapiV2ProtobufType,
  openapiV3Document,
  openapiV3Index,
} from "./openapi.js";
import { decodeProtobuf, isProtobuf, protobufMediaType } from "./protobuf/codec.js";
import { matchesLabels, parseLabelSelector } from "./selectors.js";
import type { ResourceType } from "./resources.js";
import { toTable } from "./table.js";
import { checkBody, isObject, type KObject } from "./util.js";

export interface ServerOptions {
  api: ClusterApi;
  faults: Faults;
  authz: Authz;
  /** Reject requests without a known bearer token (401) and check the identity table (403). */
  requireAuth: boolean;
  /** Interval of BOOKMARK events on watches that allow them. */
  bookmarkIntervalMs: number;
  /** Longest a watch stays open when the client gives no timeoutSeconds. */
  maxWatchSeconds: number;
  tls?: { key: string; cert: string };
  log?: (msg: string) => void;
  /** The pods' container output, served as the `log` subresource of pods. */
  logs?: PodLogs;
  /** Source of `external.metrics.k8s.io` values (the HPA controller's provider). */
  externalMetrics?: () => ExternalMetricsProvider | undefined;
}

interface ResourcePath {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
  watchPrefix: boolean;
}

/** Decodes the segments of a raw (not normalized) URL path; bad encoding and `.`/`..` are a 400. */
function pathSegments(rawPath: string): string[] {
  return rawPath
    .split("/")
    .filter((p) => p !== "")
    .map((p) => {
      let s: string;
      try {
        s = decodeURIComponent(p);
      } catch {
        throw badRequest(`the request path has a malformed percent-encoding: "${p}"`);
      }
      if (s === "." || s === ".." || s.includes("/"))
        throw badRequest(`the request path segment "${s}" is not allowed`);
      return s;
    });
}

/** Parses `/api/v1/...` and `/apis/{g}/{v}/...` resource paths (raw, as sent: not normalized). */
export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const parts = pathSegments(pathname);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 3) {
    group = "";
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 4) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else return undefined;
  let watchPrefix = false;
  if (rest[0] === "watch") {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (
    rest[0] === "namespaces" &&
    rest.length >= 3 &&
    !(group === "" && (rest[2] === "status" || rest[2] === "finalize"))
  ) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length === 0 || rest.length > 3) return undefined;
  return { group, version, namespace, resource: rest[0], name: rest[1], subresource: rest[2], watchPrefix };
}

function wantsTable(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? "";
  return /as=Table/.test(accept);
}

function send(res: ServerResponse, code: number, body: unknown, warnings: string[] = []): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | string[]> = {
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(text)),
    "Cache-Control": "no-cache, private",
  };
  if (warnings.length > 0) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown): void {
  const e = err instanceof ApiError ? err : internalError(err instanceof Error ? err.message : String(err));
  if (res.headersSent) {
    res.end();
    return;
  }
  send(res, e.code, e.toStatus());
}

async function readBytes(req: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new ApiError(413, "RequestEntityTooLarge", "the request body is too large");
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBytes(req)).toString("utf8");
}

/** Media types of an Accept header, without parameters. */
const acceptedTypes = (accept: string | undefined): string[] =>
  (accept ?? "")
    .split(",")
    .map((a) => a.split(";")[0].trim().toLowerCase())
    .filter(Boolean);

function parseBody(text: string, contentType: string): unknown {
  if (/protobuf|cbor/.test(contentType))
    throw new ApiError(
      415,
      "UnsupportedMediaType",
      `the emulator accepts JSON, YAML and (for built-in kinds) Kubernetes protobuf request bodies, not ${contentType.split(";")[0]}`,
    );
  if (text.trim() === "") return undefined;
  let body: unknown;
  try {
    body = /yaml/.test(contentType) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw badRequest(
      `the request body could not be decoded: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  checkBody(body);
  return body;
}

/** `limit`: absent, or a non-negative integer (0 means no limit). */
function parseLimit(text: string | null): number | undefined {
  if (text === null || text === "") return undefined;
  if (!/^\d+$/.test(text)) throw badRequest(`limit: "${text}" must be a non-negative integer`);
  return Number(text);
}

function patchTypeOf(contentType: string): PatchType {
  const ct = contentType.split(";")[0].trim();
  if (ct === "application/json-patch+json") return "json";
  if (ct === "application/merge-patch+json") return "merge";
  if (ct === "application/strategic-merge-patch+json") return "strategic";
  if (ct === "application/apply-patch+yaml" || ct === "application/apply-patch+cbor") return "apply";
  throw new ApiError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
  );
}

function verbOf(method: string, p: ResourcePath, watch: boolean): string {
  switch (method) {
    case "GET":
      return watch ? "watch" : p.name ? "get" : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return p.name ? "delete" : "deletecollection";
    default:
      return method.toLowerCase();
  }
}

/** The HTTP front of the emulator: routing, content negotiation, watch streaming. */
export class ApiServer {
  private server?: Server;
  private readonly sockets = new Set<import("node:net").Socket>();
  private address = "";

  constructor(private readonly o: ServerOptions) {}

  async listen(port: number, host = "127.0.0.1"): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.server = this.o.tls
      ? createHttpsServer({ key: this.o.tls.key, cert: this.o.tls.cert }, handler)
      : createHttpServer(handler);
    this.server.keepAliveTimeout = 5000;
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(port, host, () => resolve());
    });
    const a = this.server.address() as AddressInfo;
    this.address = `${host}:${a.port}`;
    return `${this.o.tls ? "https" : "http"}://${this.address}`;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.o.faults.dropWatches({ abrupt: true });
    const closed = new Promise<void>((resolve) => this.server!.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      const method = (req.method ?? "GET").toUpperCase();
      let user: UserInfo | undefined;
      const auth = req.headers.authorization;
      if (auth?.startsWith("Bearer ")) user = this.o.authz.authenticate(auth.slice(7).trim());
      if (
        this.o.requireAuth &&
        !user &&
        url.pathname !== "/healthz" &&
        url.pathname !== "/livez" &&
        url.pathname !== "/readyz"
      )
        throw unauthorized();
      const p = parseResourcePath((req.url ?? "/").split("?")[0]);
      if (!p) {
        if (
          this.o.requireAuth &&
          user &&
          !this.o.authz.allowed(user, undefined, { path: url.pathname, verb: method.toLowerCase() })
        )
          throw new ApiError(
            403,
            "Forbidden",
            `forbidden: User "${user.username}" cannot get path "${url.pathname}"`,
          );
        return this.nonResource(req, url, method, res);
      }
      const watch =
        p.watchPrefix || url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1";
      const info: RequestInfo = {
        method,
        verb: verbOf(method, p, watch),
        group: p.group,
        resource: p.resource,
        subresource: p.subresource,
        namespace: p.namespace,
        name: p.name,
      };
      const fault = this.o.faults.check(info);
      if (fault.delayMs > 0) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault.error) throw fault.error;
      if (p.group === "external.metrics.k8s.io" && method === "GET")
        return await this.externalMetric(res, url.searchParams, p);
      const t = this.o.api.resolve(p.group, p.version, p.resource);
      if (!t) throw new ApiError(404, "NotFound", "the server could not find the requested resource");
      const accepted = acceptedTypes(req.headers.accept);
      if (accepted.length > 0 && accepted.every((a) => a === protobufMediaType))
        throw new ApiError(
          406,
          "NotAcceptable",
          `the emulator answers in JSON only; accept application/json as well as ${protobufMediaType}`,
        );
      if (this.o.requireAuth && user && !this.o.authz.allowed(user, { ...info, verb: info.verb }))
        throw forbidden(
          user.username,
          info.verb,
          p.subresource ? `${p.resource}/${p.subresource}` : p.resource,
          p.group,
        );
      await this.resource(req, res, url, method, p, t, watch, user);
    } catch (err) {
      if (!(err instanceof ApiError))
        this.o.log?.(`request failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      sendError(res, err);
    }
  }

  private nonResource(req: IncomingMessage, url: URL, method: string, res: ServerResponse): void {
    if (method !== "GET") throw methodNotAllowed();
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const types = this.o.api.types();
    if (path === "/healthz" || path === "/livez" || path === "/readyz") {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("ok");
      return;
    }
    if (path === "/version") return send(res, 200, serverVersion);
    if (path === "/api") return send(res, 200, apiVersions(this.address));
    if (path === "/apis") return send(res, 200, apiGroupList(types));
    if (path === "/openapi/v2") {
      if (!acceptedTypes(req.headers.accept).includes(openapiV2ProtobufType))
        return send(res, 200, openapiV2(types));
      const doc = openapiV2Protobuf();
      res.writeHead(200, {
        "Content-Type": openapiV2ProtobufContentType,
        "Content-Length": String(doc.length),
      });
      res.end(doc);
      return;
    }
    if (path === "/openapi/v3") return send(res, 200, openapiV3Index(types));
    if (path.startsWith("/openapi/v3/")) {
      const doc = openapiV3Document(types, path.slice("/openapi/v3/".length));
      if (doc) return send(res, 200, doc);
    }
    const parts = path.split("/").filter(Boolean);
    if (parts[0] === "api" && parts.length === 2) {
      const list = apiResourceList(types, "", parts[1]);
      if (list) return send(res, 200, list);
    }
    if (parts[0] === "apis" && parts.length === 2) {
      const g = apiGroup(types, parts[1]);
      if (g) return send(res, 200, g);
    }
    if (parts[0] === "apis" && parts.length === 3) {
      const list = apiResourceList(types, parts[1], parts[2]);
      if (list) return send(res, 200, list);
    }
    throw new ApiError(404, "NotFound", "the server could not find the requested resource");
  }

  private async resource(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    method: string,
    p: ResourcePath,
    t: ResourceType,
    watch: boolean,
    user: UserInfo | undefined,
  ): Promise<void> {
    const api = this.o.api;
    const q = url.searchParams;
    const ns = t.namespaced ? p.namespace : undefined;
    const warnings: string[] = [];
    const writeOpts: WriteOptions = {
      dryRun: q.get("dryRun") === "All",
      fieldValidation: (q.get("fieldValidation") as FieldValidation | null) ?? undefined,
      warnings,
    };
    const contentType = req.headers["content-type"] ?? "application/json";
    const readJson = async () =>
      (isProtobuf(contentType)
        ? decodeProtobuf(await readBytes(req))
        : parseBody(await readBody(req), contentType)) as KObject;
    if (t.virtual) {
      if (method !== "POST" || p.name) throw methodNotAllowed();
      const body = await readJson();
      if (t.kind === "TokenReview") return send(res, 201, this.o.authz.tokenReview(body));
      if (t.kind === "SelfSubjectAccessReview" && !user && !this.o.requireAuth)
        // kubectl sends no token over plain HTTP; without --require-auth every request is served
        return send(res, 201, {
          ...this.o.authz.subjectAccessReview(body, t.kind),
          status: { allowed: true, reason: "the emulator serves every request when --require-auth is off" },
        });
      return send(res, 201, this.o.authz.subjectAccessReview(body, t.kind, user));
    }
    if (t.metrics) {
      if (method !== "GET" || watch || p.subresource) throw methodNotAllowed();
      return this.resourceMetrics(res, q, t, ns, p.name);
    }
    if (p.subresource === "log" && t.group === "" && t.resource === "pods" && p.name && method === "GET")
      return this.podLog(req, res, q, p.namespace ?? "", p.name);
    if (p.subresource && p.subresource !== "status" && p.subresource !== "scale")
      throw new ApiError(404, "NotFound", "the server could not find the requested resource");
    if (p.subresource === "scale" && !t.scale)
      throw new ApiError(404, "NotFound", "the server could not find the requested resource");
    if (!t.namespaced && p.namespace)
      throw new ApiError(404, "NotFound", "the server could not find the requested resource");

    if (watch) {
      if (method !== "GET") throw methodNotAllowed();
      return this.watch(req, res, q, t, ns, p.name);
    }

    if (!p.name) {
      switch (method) {
        case "GET": {
          const list = api.list(
            t,
            {
              namespace: ns,
              labelSelector: q.get("labelSelector"),
              fieldSelector: q.get("fieldSelector"),
              limit: parseLimit(q.get("limit")),
              continue: q.get("continue") ?? undefined,
            } as never,
            false,
          );
          const listMeta: Record<string, unknown> = { resourceVersion: list.resourceVersion };
          if (list.continue) listMeta.continue = list.continue;
          if (list.remainingItemCount !== undefined) listMeta.remainingItemCount = list.remainingItemCount;
          if (wantsTable(req)) return send(res, 200, toTable(t, list.items, listMeta));
          return send(res, 200, {
            kind: t.listKind,
            apiVersion: t.group ? `${t.group}/${t.version}` : t.version,
            metadata: listMeta,
            items: list.items,
          });
        }
        case "POST": {
          const body = await readJson();
          const created = api.create(t, body, ns, writeOpts);
          return send(res, 201, created, warnings);
        }
        case "DELETE": {
          const body = (await readJson()) ?? {};
          const deleted = api.deleteCollection(t, {
            namespace: ns,
            labelSelector: q.get("labelSelector") ?? undefined,
            fieldSelector: q.get("fieldSelector") ?? undefined,
            ...deleteOptions(q, body),
          });
          return send(res, 200, {
            kind: t.listKind,
            apiVersion: t.group ? `${t.group}/${t.version}` : t.version,
            metadata: {},
            items: deleted,
          });
        }
        default:
          throw methodNotAllowed();
      }
    }

    const name = p.name;
    if (p.subresource === "scale") {
      switch (method) {
        case "GET":
          return send(res, 200, api.getScale(t, ns, name));
        case "PUT":
          return send(res, 200, api.updateScale(t, ns, name, await readJson(), writeOpts), warnings);
        case "PATCH": {
          const type = patchTypeOf(contentType);
          const raw = await readBody(req);
          const body = type === "apply" ? raw : parseBody(raw, contentType);
          return send(res, 200, api.patchScale(t, ns, name, type, body, writeOpts), warnings);
        }
        default:
          throw methodNotAllowed();
      }
    }
    const sub = p.subresource === "status" ? ("status" as const) : undefined;
    if (sub && !t.status)
      throw new ApiError(404, "NotFound", "the server could not find the requested resource");
    switch (method) {
      case "GET": {
        const obj = api.get(t, ns, name);
        if (wantsTable(req))
          return send(res, 200, toTable(t, [obj], { resourceVersion: obj.metadata?.resourceVersion }));
        return send(res, 200, obj);
      }
      case "PUT": {
        const body = await readJson();
        return send(res, 200, api.update(t, body, ns, { ...writeOpts, subresource: sub, name }), warnings);
      }
      case "PATCH": {
        const type = patchTypeOf(contentType);
        const raw = await readBody(req);
        const body = type === "apply" ? raw : parseBody(raw, contentType);
        return send(
          res,
          200,
          api.patch(t, ns, name, type, body, { ...writeOpts, subresource: sub }),
          warnings,
        );
      }
      case "DELETE": {
        if (sub) throw methodNotAllowed();
        const body = (await readJson()) ?? {};
        const deleted = api.delete(t, ns, name, { ...deleteOptions(q, body), dryRun: writeOpts.dryRun });
        return send(res, 200, deleted);
      }
      default:
        throw methodNotAllowed();
    }
  }

  /** `metrics.k8s.io`: PodMetrics / NodeMetrics computed from the stored pods and nodes. */
  private resourceMetrics(
    res: ServerResponse,
    q: URLSearchParams,
    t: ResourceType,
    ns: string | undefined,
    name: string | undefined,
  ): void {
    const api = this.o.api;
    const pt = api.typeFor("v1", "Pod");
    const now = new Date();
    const labels = parseLabelSelector(q.get("labelSelector"));
    let items: KObject[];
    if (t.metrics === "pods") {
      const pods = name ? [api.get(pt, ns, name)] : api.peekList(pt, ns);
      items = pods.map((p) => podMetrics(p, now)).filter((m): m is KObject => m !== undefined);
    } else {
      const nt = api.typeFor("v1", "Node");
      const nodes = name ? [api.get(nt, undefined, name)] : api.peekList(nt);
      const pods = api.peekList(pt);
      items = nodes.map((n) => nodeMetrics(n, pods, now));
    }
    items = items.filter((o) => matchesLabels(labels, o.metadata?.labels));
    if (name) {
      if (items.length === 0) throw notFound(t.resource, t.group, name);
      return send(res, 200, items[0]);
    }
    return send(res, 200, { kind: t.listKind, apiVersion: "metrics.k8s.io/v1beta1", metadata: {}, items });
  }

  /** `external.metrics.k8s.io/v1beta1/namespaces/{ns}/{metric}`: values from the metrics provider. */
  private async externalMetric(res: ServerResponse, q: URLSearchParams, p: ResourcePath): Promise<void> {
    if (p.version !== "v1beta1" || !p.namespace || p.name)
      throw new ApiError(404, "NotFound", "the server could not find the requested resource");
    const provider = this.o.externalMetrics?.();
    if (!provider)
      throw new ApiError(
        404,
        "NotFound",
        "no external metrics provider is configured (wva cluster up --external-metrics-from URL)",
      );
    const selector: Record<string, string> = {};
    for (const r of parseLabelSelector(q.get("labelSelector"))) {
      if (r.op !== "=")
        throw badRequest(`labelSelector: only equality requirements are supported, not "${r.key} ${r.op}"`);
      selector[r.key] = r.values[0];
    }
    let values: number[];
    try {
      values = await provider.getExternalMetric(p.namespace, p.resource, selector);
    } catch (err) {
      throw new ApiError(
        404,
        "NotFound",
        `unable to fetch metrics from external metrics API: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const timestamp = new Date().toISOString();
    return send(res, 200, {
      kind: "ExternalMetricValueList",
      apiVersion: "external.metrics.k8s.io/v1beta1",
      metadata: {},
      items: values.map((v) => ({
        metricName: p.resource,
        metricLabels: selector,
        timestamp,
        value: Number.isInteger(v) ? String(v) : `${Math.round(v * 1000)}m`,
      })),
    });
  }

  /** `GET .../pods/{name}/log`: the buffered output, then new lines with `follow=true`. */
  private podLog(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    ns: string,
    name: string,
  ): void {
    const pt = this.o.api.typeFor("v1", "Pod");
    const pod = this.o.api.get(pt, ns, name);
    const containers = ((pod.spec?.containers as Array<{ name?: string }>) ?? []).map((c) => c.name ?? "");
    const container = q.get("container") ?? (containers.length === 1 ? containers[0] : undefined);
    if (container === undefined)
      throw badRequest(
        `a container name must be specified for pod ${name}, choose one of: [${containers.join(" ")}]`,
      );
    if (!containers.includes(container))
      throw badRequest(`container ${container} is not valid for pod ${name}`);
    if (pod.status?.phase === "Pending" || !pod.status?.phase)
      throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ContainerCreating`);
    const tail = q.get("tailLines");
    if (tail !== null && !/^\d+$/.test(tail))
      throw badRequest(`tailLines: "${tail}" must be a non-negative integer`);
    const sinceSeconds = q.get("sinceSeconds");
    if (sinceSeconds !== null && !/^\d+$/.test(sinceSeconds))
      throw badRequest(`sinceSeconds: "${sinceSeconds}" must be a non-negative integer`);
    const sinceTime = q.get("sinceTime");
    if (sinceTime !== null && Number.isNaN(Date.parse(sinceTime)))
      throw badRequest(`sinceTime: "${sinceTime}" must be an RFC 3339 time`);
    const since =
      sinceSeconds !== null
        ? Date.now() - Number(sinceSeconds) * 1000
        : sinceTime !== null
          ? Date.parse(sinceTime)
          : -Infinity;
    const timestamps = q.get("timestamps") === "true";
    const uid = pod.metadata!.uid!;
    const format = (l: LogLine) => `${timestamps ? `${l.time} ` : ""}${l.text}\n`;
    const logs = this.o.logs;
    res.writeHead(200, { "Content-Type": "text/plain", "Cache-Control": "no-cache, private" });
    const lines = (logs?.read(uid) ?? []).filter((l) => Date.parse(l.time) >= since);
    for (const l of tail === null ? lines : lines.slice(Math.max(0, lines.length - Number(tail))))
      res.write(format(l));
    if (q.get("follow") !== "true" || !logs) {
      res.end();
      return;
    }
    res.flushHeaders();
    const stop = logs.follow(uid, (l) => {
      if (l) res.write(format(l));
      else end();
    });
    const end = () => {
      stop();
      res.end();
    };
    req.on("close", end);
  }

  private watch(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    t: ResourceType,
    ns: string | undefined,
    name: string | undefined,
  ): void {
    const table = wantsTable(req);
    let fieldSelector = q.get("fieldSelector") ?? "";
    if (name)
      fieldSelector = fieldSelector ? `${fieldSelector},metadata.name=${name}` : `metadata.name=${name}`;
    const sendInitial = q.get("sendInitialEvents") === "true";
    const bookmarks = q.get("allowWatchBookmarks") === "true";
    let headerSent = false;
    let first = true;
    const write = (e: WatchEvent) => {
      if (!headerSent) {
        res.writeHead(200, {
          "Content-Type": "application/json",
          "Cache-Control": "no-cache, private",
          "Transfer-Encoding": "chunked",
        });
        headerSent = true;
      }
      let object: unknown = e.object;
      if (table && (e.type === "ADDED" || e.type === "MODIFIED" || e.type === "DELETED")) {
        object = toTable(t, [e.object], { resourceVersion: e.object.metadata?.resourceVersion }, first);
        first = false;
      }
      res.write(`${JSON.stringify({ type: e.type, object })}\n`);
    };
    const bookmark = (extra: Record<string, string> = {}) =>
      write({
        type: "BOOKMARK",
        object: {
          kind: t.kind,
          apiVersion: t.group ? `${t.group}/${t.version}` : t.version,
          metadata: {
            resourceVersion: String(this.o.api.objects.currentRV()),
            ...(Object.keys(extra).length ? { annotations: extra } : {}),
          },
        },
      });
    let ended = false;
    const timers: NodeJS.Timeout[] = [];
    let untrack: () => void = () => {};
    const end = () => {
      if (ended) return;
      ended = true;
      handle.stop();
      for (const tm of timers) clearTimeout(tm);
      untrack();
      if (!headerSent) {
        res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private" });
        headerSent = true;
      }
      res.end();
    };
    let gone = false;
    const handle = this.o.api.watch(
      t,
      {
        namespace: ns,
        labelSelector: q.get("labelSelector") ?? undefined,
        fieldSelector: fieldSelector || undefined,
        resourceVersion: q.get("resourceVersion") ?? undefined,
        sendInitialEvents: sendInitial,
      },
      (e) => {
        if (ended) return;
        write(e);
        if (e.type === "ERROR") gone = true;
      },
    );
    if (gone) {
      end();
      return;
    }
    if (sendInitial && bookmarks) bookmark({ "k8s.io/initial-events-end": "true" });
    if (!headerSent) {
      res.writeHead(200, {
        "Content-Type": "application/json",
        "Cache-Control": "no-cache, private",
        "Transfer-Encoding": "chunked",
      });
      res.flushHeaders();
      headerSent = true;
    }
    untrack = this.o.faults.trackWatch((abrupt) => {
      if (!abrupt) return end();
      // as when a connection breaks: no terminating chunk
      ended = true;
      handle.stop();
      for (const tm of timers) clearTimeout(tm);
      untrack();
      res.socket?.destroy();
    });
    const timeout = Number(q.get("timeoutSeconds") ?? this.o.maxWatchSeconds);
    timers.push(setTimeout(end, Math.max(0, timeout) * 1000));
    if (bookmarks && this.o.bookmarkIntervalMs > 0)
      timers.push(setInterval(() => bookmark(), this.o.bookmarkIntervalMs));
    req.on("close", end);
    res.on("close", end);
  }
}

function deleteOptions(q: URLSearchParams, body: unknown): DeleteOptions {
  const b = isObject(body) ? body : {};
  const policy = (q.get("propagationPolicy") ?? b.propagationPolicy) as
    DeleteOptions["propagationPolicy"] | undefined;
  let propagationPolicy = policy;
  if (!propagationPolicy && (q.get("orphanDependents") === "true" || b.orphanDependents === true))
    propagationPolicy = "Orphan";
  return {
    propagationPolicy,
    preconditions: isObject(b.preconditions)
      ? (b.preconditions as DeleteOptions["preconditions"])
      : undefined,
  };
}
