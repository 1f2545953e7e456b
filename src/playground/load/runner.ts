import { sleep } from "../../collect/http.js";
import type { Arrival } from "./patterns.js";

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

export interface LoadReport {
  target: string;
  model: string;
  pattern: string;
  durationSec: number;
  requests: { sent: number; completed: number; failed: number };
  /** Failure reasons and how often they happened. */
  errors: Record<string, number>;
  throughputRps: number;
  outputTokensPerSec: number;
  ttftMs: Percentiles;
  itlMs: Percentiles;
  e2eMs: Percentiles;
  /** Extra facts about the pattern (for traces: rows, compression, scaling). */
  info?: Record<string, unknown>;
}

/** Counts of a running load, for a progress display. */
export interface LoadProgress {
  sent: number;
  completed: number;
  failed: number;
  /** Requests the load will send in all. */
  total: number;
  elapsedMs: number;
  /** When the last request is due, ms from the start. */
  lastArrivalMs: number;
}

export interface LoadOptions {
  target: string;
  model: string;
  arrivals: Arrival[];
  pattern?: string;
  endpoint?: "completions" | "chat";
  /** Per-request timeout (default 180 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  info?: Record<string, unknown>;
  /** Called as each request ends: its TTFT and inter-token gaps (ms), or the failure. */
  onResult?: (r: { ok: true; ttftMs: number; itlMs: number[] } | { ok: false }) => void;
  /** Called whenever a request is sent or finishes. */
  onProgress?: (p: LoadProgress) => void;
}

/** Percentiles (nearest rank) and mean of a list; all 0 for an empty list. */
export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { p50: 0, p95: 0, p99: 0, mean: 0 };
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  return { p50: at(50), p95: at(95), p99: at(99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

/**
 * Sends the arrivals open-loop (each at its time, without waiting for earlier ones) as streaming OpenAI
 * requests with exact token counts (prompt as token ids, `max_tokens` with `ignore_eos`), and measures time
 * to first token, inter-token latency and end-to-end latency from the stream.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadReport> {
  const base = opts.target.replace(/\/+$/, "").replace(/\/v1$/, "");
  const chat = opts.endpoint === "chat";
  const url = `${base}/v1/${chat ? "chat/completions" : "completions"}`;
  const ttft: number[] = [];
  const itl: number[] = [];
  const e2e: number[] = [];
  const errors: Record<string, number> = {};
  let sent = 0;
  let completed = 0;
  let failed = 0;
  let outTokens = 0;
  const start = performance.now();
  const inflight: Array<Promise<void>> = [];
  const lastArrivalMs = opts.arrivals.length > 0 ? opts.arrivals[opts.arrivals.length - 1].t : 0;
  const progress = () =>
    opts.onProgress?.({
      sent,
      completed,
      failed,
      total: opts.arrivals.length,
      elapsedMs: performance.now() - start,
      lastArrivalMs,
    });

  const one = async (a: Arrival) => {
    const t0 = performance.now();
    const body: Record<string, unknown> = {
      model: opts.model,
      max_tokens: a.outputTokens,
      ignore_eos: true,
      stream: true,
    };
    if (chat) body.messages = [{ role: "user", content: "x ".repeat(a.inputTokens).trim() }];
    else body.prompt = Array.from({ length: a.inputTokens }, (_, i) => (i % 1000) + 1);
    const signals = [AbortSignal.timeout(opts.timeoutMs ?? 180_000)];
    if (opts.signal) signals.push(opts.signal);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.any(signals),
      });
      if (res.status !== 200 || !res.body) {
        const text = await res.text().catch(() => "");
        throw new Error(`HTTP ${res.status}${text ? `: ${text.slice(0, 120)}` : ""}`);
      }
      const times: number[] = [];
      const decoder = new TextDecoder();
      let buf = "";
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const now = performance.now();
        buf += decoder.decode(chunk, { stream: true });
        let idx: number;
        while ((idx = buf.indexOf("\n\n")) >= 0) {
          const event = buf.slice(0, idx);
          buf = buf.slice(idx + 2);
          for (const line of event.split("\n")) {
            if (!line.startsWith("data:")) continue;
            const data = line.slice(5).trim();
            if (data === "[DONE]") continue;
            const parsed = JSON.parse(data) as { choices?: unknown[] };
            if (parsed.choices && parsed.choices.length > 0) times.push(now);
          }
        }
      }
      if (times.length === 0) throw new Error("stream ended without tokens");
      const gaps = times.slice(1).map((t, i) => t - times[i]);
      ttft.push(times[0] - t0);
      itl.push(...gaps);
      opts.onResult?.({ ok: true, ttftMs: times[0] - t0, itlMs: gaps });
      e2e.push(times[times.length - 1] - t0);
      outTokens += times.length;
      completed++;
    } catch (e) {
      failed++;
      opts.onResult?.({ ok: false });
      const reason = (e as Error).name === "TimeoutError" ? "timeout" : (e as Error).message.split(":")[0];
      errors[reason] = (errors[reason] ?? 0) + 1;
    }
    progress();
  };

  for (const a of opts.arrivals) {
    if (opts.signal?.aborted) break;
    const wait = a.t - (performance.now() - start);
    if (wait > 0) {
      try {
        await sleep(wait, opts.signal);
      } catch {
        break;
      }
    }
    sent++;
    inflight.push(one(a));
    progress();
  }
  await Promise.all(inflight);
  const durationSec = (performance.now() - start) / 1000;
  return {
    target: opts.target,
    model: opts.model,
    pattern: opts.pattern ?? "custom",
    durationSec,
    requests: { sent, completed, failed },
    errors,
    throughputRps: durationSec > 0 ? completed / durationSec : 0,
    outputTokensPerSec: durationSec > 0 ? outTokens / durationSec : 0,
    ttftMs: percentiles(ttft),
    itlMs: percentiles(itl),
    e2eMs: percentiles(e2e),
    info: opts.info,
  };
}

/** The report as a fixed-width text table. */
export function formatReport(r: LoadReport): string {
  const f = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(2));
  const lines = [
    `target ${r.target}  model ${r.model}  pattern ${r.pattern}  duration ${r.durationSec.toFixed(1)} s`,
    `requests: sent ${r.requests.sent}, completed ${r.requests.completed}, failed ${r.requests.failed}`,
    `throughput: ${r.throughputRps.toFixed(2)} req/s, ${r.outputTokensPerSec.toFixed(1)} output tokens/s`,
    "",
    "latency (ms)   p50        p95        p99        mean",
  ];
  for (const [name, p] of [
    ["TTFT", r.ttftMs],
    ["ITL", r.itlMs],
    ["e2e", r.e2eMs],
  ] as const) {
    lines.push(
      `${name.padEnd(14)} ${f(p.p50).padEnd(10)} ${f(p.p95).padEnd(10)} ${f(p.p99).padEnd(10)} ${f(p.mean)}`,
    );
  }
  const errs = Object.entries(r.errors);
  if (errs.length > 0) lines.push("", `failures: ${errs.map(([k, v]) => `${k} x${v}`).join(", ")}`);
  if (r.info) lines.push("", `pattern info: ${JSON.stringify(r.info)}`);
  return lines.join("\n");
}
