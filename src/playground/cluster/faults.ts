import { ApiError } from "./errors.js";

/** What a request is, for matching fault rules. */
export interface RequestInfo {
  method: string;
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** Answer the next matching calls with an error (409 Conflict, 500, ...). */
export interface FaultRule {
  /** get, list, watch, create, update, patch, delete, deletecollection; any when unset. */
  verb?: string;
  /** Plural resource, optionally with subresource (`deployments/scale`); any when unset. */
  resource?: string;
  namespace?: string;
  name?: string;
  /** HTTP status to answer; 409 and 500 produce the API server's Conflict / InternalError. */
  code: number;
  /** How many matching calls to fail (default 1; Infinity for all). */
  times?: number;
  message?: string;
}

export interface RandomFaults {
  /** Share (0..1) of requests delayed by `delayMs`. */
  delayShare?: number;
  delayMs?: number;
  /** Share (0..1) of requests answered with `failCode` (watch requests excluded). */
  failShare?: number;
  failCode?: number;
}

/** Fault injection for tests: failing chosen calls, random delays/failures, dropping watches. */
export class Faults {
  private rules: Array<FaultRule & { left: number }> = [];
  private random: Required<RandomFaults> = { delayShare: 0, delayMs: 0, failShare: 0, failCode: 500 };
  private readonly watchClosers = new Set<(abrupt: boolean) => void>();
  /** Requests answered by an injected fault so far. */
  injected = 0;

  /** Fails the next `times` calls matching the rule. */
  failNext(rule: FaultRule): void {
    this.rules.push({ ...rule, left: rule.times ?? 1 });
  }

  /** Delays or fails a random share of requests. */
  setRandom(r: RandomFaults): void {
    this.random = { ...this.random, ...r };
  }

  /**
   * Closes every open watch connection; clients then resume with their last resourceVersion.
   * By default the stream ends cleanly (as when the API server ends a watch); with `abrupt` the
   * socket is destroyed mid-stream (as when a connection breaks) and clients see an error.
   */
  dropWatches(options: { abrupt?: boolean } = {}): number {
    const n = this.watchClosers.size;
    for (const close of [...this.watchClosers]) close(options.abrupt ?? false);
    return n;
  }

  /** Number of open watch connections. */
  openWatches(): number {
    return this.watchClosers.size;
  }

  clear(): void {
    this.rules = [];
    this.random = { delayShare: 0, delayMs: 0, failShare: 0, failCode: 500 };
  }

  /** @internal registers an open watch's close function. */
  trackWatch(close: (abrupt: boolean) => void): () => void {
    this.watchClosers.add(close);
    return () => this.watchClosers.delete(close);
  }

  /** @internal the delay (ms) to apply and the error to answer for a request, if any. */
  check(info: RequestInfo): { delayMs: number; error?: ApiError } {
    const delayMs =
      this.random.delayShare > 0 && Math.random() < this.random.delayShare ? this.random.delayMs : 0;
    const full = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
    for (const r of this.rules) {
      if (r.left <= 0) continue;
      if (r.verb && r.verb !== info.verb) continue;
      if (r.resource && r.resource !== full && r.resource !== info.resource) continue;
      if (r.namespace && r.namespace !== info.namespace) continue;
      if (r.name && r.name !== info.name) continue;
      r.left--;
      this.rules = this.rules.filter((x) => x.left > 0);
      this.injected++;
      return { delayMs, error: faultError(r.code, r.message, info) };
    }
    if (info.verb !== "watch" && this.random.failShare > 0 && Math.random() < this.random.failShare) {
      this.injected++;
      return { delayMs, error: faultError(this.random.failCode, undefined, info) };
    }
    return { delayMs };
  }
}

function faultError(code: number, message: string | undefined, info: RequestInfo): ApiError {
  const name = info.name ?? "";
  const what = info.group ? `${info.resource}.${info.group}` : info.resource;
  if (code === 409)
    return new ApiError(
      409,
      "Conflict",
      message ??
        `Operation cannot be fulfilled on ${what} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, group: info.group || undefined, kind: info.resource },
    );
  if (code === 429)
    return new ApiError(429, "TooManyRequests", message ?? "injected: too many requests", {
      retryAfterSeconds: 1,
    });
  if (code === 503)
    return new ApiError(503, "ServiceUnavailable", message ?? "injected: service unavailable");
  if (code === 500)
    return new ApiError(500, "InternalError", message ?? "Internal error occurred: injected fault");
  return new ApiError(code, "Unknown", message ?? `injected fault ${code}`);
}
