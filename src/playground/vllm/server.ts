import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { silentLogger } from "../../util/logger.js";
import {
  EngineError,
  VllmEngine,
  type CompletedRequest,
  type EngineConfig,
  type EngineStats,
} from "./engine.js";
import { EmulatorMetrics } from "./metrics.js";

export interface VllmEmulatorOptions {
  /** Model id served (`/v1/models`, label `model_name`). */
  model: string;
  engine?: Partial<EngineConfig>;
  /** Labels added to every metric series (for example namespace and pod). */
  extraLabels?: Record<string, string>;
  /** Output length when a request gives no max_tokens. */
  defaultOutputTokens?: number;
  /** Also expose `vllm:gpu_cache_usage_perc`. */
  legacyGpuCacheMetric?: boolean;
  /**
   * `wall` (default): the engine follows the wall clock and advances itself with timers.
   * `virtual`: time moves only through advance(t), for deterministic tests.
   */
  timeMode?: "wall" | "virtual";
  /**
   * Wall mode only: how many engine milliseconds pass per real millisecond (default 1). With 10, a scenario
   * of 150 s of server time runs in 15 s. Iteration boundaries stay exact in engine time however late the
   * timers fire.
   */
  speed?: number;
  /** Wall mode only: the clock (ms) to follow instead of Date.now (for example a playground's shared clock). */
  clock?: () => number;
  logger?: Logger;
  /** Receives one access line per finished completion request (a playground pod's log, for `kubectl logs`). */
  accessLog?: (line: string) => void;
}

export interface EmulatorStats extends EngineStats {
  model: string;
  /** Same as running/waiting; names used by the playground. */
  queue: number;
}

export interface ListenOptions {
  /** Default 127.0.0.1; any 127.0.0.0/8 address works on Linux, so each emulated pod can get its own IP. */
  host?: string;
  /** Default 0 = a free port. */
  port?: number;
}

/** Counts tokens of a text: whitespace-separated words (at least 1 for a non-empty prompt). */
export function countTokens(text: string): number {
  const words = text
    .trim()
    .split(/\s+/)
    .filter((w) => w.length > 0);
  return Math.max(1, words.length);
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = "BadRequestError",
  ) {
    super(message);
  }
}

/**
 * An HTTP server that behaves like a vLLM OpenAI-compatible server from the outside (endpoints, metric names
 * and labels) and like the iteration-time model of VllmEngine inside.
 */
export class VllmEmulator {
  readonly engine: VllmEngine;
  readonly metrics: EmulatorMetrics;
  readonly model: string;
  private server: http.Server | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly wall: boolean;
  private readonly t0: number;
  private readonly speed: number;
  private readonly wallClock: () => number;
  private readonly log: Logger;
  private address: { host: string; port: number; url: string } | undefined;

  constructor(private readonly opts: VllmEmulatorOptions) {
    if (!opts.model) throw new EngineError("model must not be empty", 400);
    this.model = opts.model;
    this.wall = (opts.timeMode ?? "wall") === "wall";
    this.speed = opts.speed ?? 1;
    if (!(this.speed > 0) || !Number.isFinite(this.speed))
      throw new EngineError(`speed must be a number > 0, got ${opts.speed}`, 400);
    this.wallClock = opts.clock ?? Date.now;
    this.t0 = this.wallClock();
    this.metrics = new EmulatorMetrics({
      model: opts.model,
      extraLabels: opts.extraLabels,
      legacyGpuCacheMetric: opts.legacyGpuCacheMetric,
    });
    this.engine = new VllmEngine(opts.engine, 0, this.metrics.observer);
    this.metrics.attach(this.engine);
    this.log = opts.logger ?? silentLogger;
  }

  /** Engine time in ms (wall mode: ms since construction). */
  private clock(): number {
    return this.wall ? (this.wallClock() - this.t0) * this.speed : this.engine.now();
  }

  /** Virtual mode: moves the engine to time t (ms). In wall mode it catches up with the wall clock. */
  advance(t?: number): void {
    this.engine.advance(this.wall ? this.clock() : (t ?? this.engine.now()));
    this.schedule();
  }

  private schedule(): void {
    if (!this.wall) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.engine.nextEventTime();
    if (next === undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.advance();
      },
      Math.max(0, (next - this.clock()) / this.speed),
    );
  }

  /** Submits a request programmatically (the HTTP handlers use this too). */
  submit(
    inputTokens: number,
    outputTokens: number,
    onToken?: (index: number, tMs: number) => void,
  ): { id: number; done: Promise<CompletedRequest> } {
    this.advance();
    let resolve!: (c: CompletedRequest) => void;
    let reject!: (e: Error) => void;
    const done = new Promise<CompletedRequest>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // throws EngineError synchronously (before any response is written) when the request is refused
    const id = this.engine.submit(
      { inputTokens, outputTokens },
      { onToken, onDone: resolve, onError: reject },
    );
    // callers that drop `done` must not turn a shutdown into an unhandled rejection
    done.catch(() => undefined);
    this.schedule();
    return { id, done };
  }

  pause(): void {
    this.advance();
    this.engine.pause();
    this.schedule();
  }

  resume(): void {
    this.engine.resume();
    this.advance();
  }

  stats(): EmulatorStats {
    if (this.wall) this.engine.advance(this.clock());
    const s = this.engine.stats();
    return { ...s, model: this.model, queue: s.waiting };
  }

  async metricsText(): Promise<string> {
    if (this.wall) this.advance();
    return this.metrics.text();
  }

  async start(listen: ListenOptions = {}): Promise<{ host: string; port: number; url: string }> {
    if (this.server) throw new Error("emulator already started");
    const host = listen.host ?? "127.0.0.1";
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.log.warn({ err: (err as Error).message }, "emulator request failed");
        if (!res.headersSent)
          sendJson(res, 500, {
            error: { message: String((err as Error).message), type: "InternalServerError", code: 500 },
          });
        else res.end();
      });
    });
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(listen.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    const urlHost = host.includes(":") ? `[${host}]` : host;
    this.address = { host, port, url: `http://${urlHost}:${port}` };
    return this.address;
  }

  get url(): string | undefined {
    return this.address?.url;
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.engine.abortAll("server shutting down");
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    try {
      if (req.method === "GET" && path === "/metrics") {
        const text = await this.metricsText();
        res.writeHead(200, { "content-type": this.metrics.registry.contentType });
        res.end(text);
        return;
      }
      if (req.method === "GET" && (path === "/health" || path === "/ready")) {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("ok");
        return;
      }
      if (req.method === "GET" && path === "/v1/models") {
        sendJson(res, 200, {
          object: "list",
          data: [
            {
              id: this.model,
              object: "model",
              created: Math.floor(this.t0 / 1000),
              owned_by: "vllm-emulator",
              max_model_len: this.engine.config.kvBlocks * this.engine.config.blockSize,
            },
          ],
        });
        return;
      }
      if (req.method === "POST" && (path === "/v1/completions" || path === "/v1/chat/completions")) {
        const body = await readJson(req);
        await this.complete(path === "/v1/chat/completions", body, req, res);
        return;
      }
      throw new HttpError(404, `no route for ${req.method} ${path}`, "NotFoundError");
    } catch (e) {
      if (res.headersSent) {
        res.end();
        return;
      }
      if (e instanceof HttpError) {
        sendJson(res, e.status, { error: { message: e.message, type: e.type, code: e.status } });
      } else if (e instanceof EngineError) {
        sendJson(res, e.status, {
          error: {
            message: e.message,
            type: e.status === 429 ? "TooManyRequests" : "BadRequestError",
            code: e.status,
          },
        });
      } else throw e;
    }
  }

  private async complete(
    chat: boolean,
    body: Record<string, unknown>,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    if (body.model !== undefined && body.model !== this.model) {
      throw new HttpError(404, `The model \`${String(body.model)}\` does not exist.`, "NotFoundError");
    }
    const inputTokens = chat ? chatTokens(body.messages) : promptTokens(body.prompt);
    const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? this.opts.defaultOutputTokens ?? 128;
    if (typeof maxTokens !== "number" || !Number.isInteger(maxTokens) || maxTokens < 1) {
      throw new HttpError(400, `max_tokens must be an integer >= 1, got ${JSON.stringify(maxTokens)}`);
    }
    const stream = body.stream === true;
    const created = Math.floor(Date.now() / 1000);
    const reqId = `${chat ? "chatcmpl" : "cmpl"}-${Math.random().toString(36).slice(2, 12)}`;
    const object = chat ? "chat.completion" : "text_completion";
    const usage = (out: number) => ({
      prompt_tokens: inputTokens,
      completion_tokens: out,
      total_tokens: inputTokens + out,
    });
    let onToken: ((i: number) => void) | undefined;
    if (stream) {
      onToken = (i: number) => {
        const delta = chat
          ? { delta: i === 1 ? { role: "assistant", content: " tok" } : { content: " tok" } }
          : { text: " tok" };
        const finish = i >= maxTokens ? "length" : null;
        writeEvent(res, {
          id: reqId,
          object: `${object}.chunk`.replace("text_completion.chunk", "text_completion"),
          created,
          model: this.model,
          choices: [{ index: 0, ...delta, finish_reason: finish }],
        });
      };
    }
    const { id, done } = this.submit(inputTokens, maxTokens, onToken);
    let finished = false;
    res.on("close", () => {
      if (!finished) this.engine.cancel(id);
    });
    if (stream) {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        connection: "keep-alive",
      });
      res.flushHeaders();
    }
    let c: CompletedRequest;
    try {
      c = await done;
    } finally {
      finished = true;
    }
    this.opts.accessLog?.(
      `INFO ${req.method} ${req.url} 200 model=${this.model} prompt_tokens=${c.inputTokens} ` +
        `completion_tokens=${c.outputTokens} ttft_ms=${c.ttft.toFixed(1)} e2e_ms=${c.e2e.toFixed(1)}`,
    );
    if (stream) {
      const opts = body.stream_options as { include_usage?: boolean } | undefined;
      if (opts?.include_usage) {
        writeEvent(res, {
          id: reqId,
          object: `${object}.chunk`,
          created,
          model: this.model,
          choices: [],
          usage: usage(c.outputTokens),
        });
      }
      res.end("data: [DONE]\n\n");
      return;
    }
    const text = " tok".repeat(c.outputTokens);
    sendJson(res, 200, {
      id: reqId,
      object,
      created,
      model: this.model,
      choices: [
        chat
          ? { index: 0, message: { role: "assistant", content: text }, finish_reason: "length" }
          : { index: 0, text, finish_reason: "length" },
      ],
      usage: usage(c.outputTokens),
    });
  }
}

function writeEvent(res: http.ServerResponse, data: unknown): void {
  res.write(`data: ${JSON.stringify(data)}\n\n`);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 16 * 1024 * 1024) throw new HttpError(413, "request body larger than 16 MiB");
    chunks.push(c as Buffer);
  }
  let v: unknown;
  try {
    v = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "request body is not valid JSON");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new HttpError(400, "request body must be a JSON object");
  return v as Record<string, unknown>;
}

/** Prompt of /v1/completions: a string, a list of strings, a list of token ids or a list of such lists. */
export function promptTokens(prompt: unknown): number {
  if (typeof prompt === "string") return countTokens(prompt);
  if (Array.isArray(prompt) && prompt.length > 0) {
    if (prompt.every((p) => typeof p === "number")) return prompt.length;
    if (prompt.every((p) => typeof p === "string"))
      return prompt.reduce((n: number, p: string) => n + countTokens(p), 0);
    if (prompt.every((p) => Array.isArray(p)))
      return prompt.reduce((n: number, p: unknown[]) => n + p.length, 0);
  }
  throw new HttpError(400, "prompt must be a non-empty string, list of strings or list of token ids");
}

/** Messages of /v1/chat/completions: the words of every message's text content. */
export function chatTokens(messages: unknown): number {
  if (!Array.isArray(messages) || messages.length === 0)
    throw new HttpError(400, "messages must be a non-empty list");
  let n = 0;
  for (const m of messages) {
    const content = (m as { content?: unknown })?.content;
    if (typeof content === "string") n += countTokens(content);
    else if (Array.isArray(content)) {
      for (const part of content) {
        const text = (part as { text?: unknown })?.text;
        if (typeof text === "string") n += countTokens(text);
      }
    } else throw new HttpError(400, "each message needs a string content or a list of text parts");
  }
  return Math.max(1, n);
}
