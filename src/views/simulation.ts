/**
 * Reads a `wva simulate` report for the views. The reader is tolerant: it needs `policies` (an array of
 * objects with a `policy` name) and takes every other field when it has the expected type, leaving it
 * out otherwise. From each policy's `timeline` it reads, per entry, `t` (seconds; or `tMs` in ms) and
 * `variants[]` with `variant` (or `name`), optional `model` and `namespace`, and the replica counts
 * `current` (or `replicas`), `ready` and `desired` (both default to `current`), and `load[]` with
 * `model`, optional `namespace`, the arrival rate `rps` (or `rate`, requests per second) and `ttftMs.p95`.
 * Entries without a time are skipped.
 */

/** Thrown when a file is not a report the views can draw; the message names the field. */
export class ReportFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReportFormatError";
  }
}

export interface TimelineVariant {
  /** `namespace/variant` (or just `variant` without a namespace): the series name. */
  key: string;
  model?: string;
  current: number;
  ready: number;
  desired: number;
}

/** Requests of one model over the interval before a timeline entry. */
export interface TimelineLoad {
  /** `namespace/model` (or just `model`). */
  key: string;
  rate: number | null;
  ttftP95: number | null;
}

export interface PolicyView {
  policy: string;
  cost: number | null;
  costRatioToOracle: number | null;
  sloAttainment: number | null;
  requests: { sent: number; completed: number; failed: number } | null;
  ttftMs: { p50?: number; p95?: number; p99?: number } | null;
  itlMs: { p50?: number; p95?: number; p99?: number } | null;
  scalingActions: number | null;
  reversals: number | null;
  timeline: Array<{ t: number; variants: TimelineVariant[]; load: TimelineLoad[] }>;
}

export interface SimulationView {
  scenario: string;
  policies: PolicyView[];
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);
const num = (x: unknown): number | null => (typeof x === "number" && Number.isFinite(x) ? x : null);
const percentiles = (x: unknown) =>
  isObj(x)
    ? { p50: num(x.p50) ?? undefined, p95: num(x.p95) ?? undefined, p99: num(x.p99) ?? undefined }
    : null;

/** True when the JSON looks like a simulation report (has `policies`) rather than a playground report. */
export function isSimulationReport(json: unknown): boolean {
  return isObj(json) && Array.isArray(json.policies);
}

export function simulationView(json: unknown): SimulationView {
  if (!isObj(json)) throw new ReportFormatError("the report must be a JSON object");
  if (!Array.isArray(json.policies)) throw new ReportFormatError("policies: must be an array");
  const scenario = isObj(json.scenario)
    ? String(json.scenario.name ?? "scenario")
    : typeof json.scenario === "string"
      ? json.scenario
      : "scenario";
  const policies = json.policies.map((p, i): PolicyView => {
    if (!isObj(p) || typeof p.policy !== "string")
      throw new ReportFormatError(`policies[${i}].policy: must be a string`);
    const r = isObj(p.requests) ? p.requests : undefined;
    return {
      policy: p.policy,
      cost: num(p.cost),
      costRatioToOracle: num(p.costRatioToOracle),
      sloAttainment: num(p.sloAttainment),
      requests: r
        ? { sent: num(r.sent) ?? 0, completed: num(r.completed) ?? 0, failed: num(r.failed) ?? 0 }
        : null,
      ttftMs: percentiles(p.ttftMs),
      itlMs: percentiles(p.itlMs),
      scalingActions: num(p.scalingActions),
      reversals: num(p.reversals),
      timeline: readTimeline(p.timeline),
    };
  });
  return { scenario, policies };
}

function readTimeline(x: unknown): PolicyView["timeline"] {
  if (!Array.isArray(x)) return [];
  const out: PolicyView["timeline"] = [];
  for (const e of x) {
    if (!isObj(e)) continue;
    const t = num(e.t) ?? (num(e.tMs) === null ? null : num(e.tMs)! / 1000);
    if (t === null) continue;
    const variants: TimelineVariant[] = [];
    for (const v of Array.isArray(e.variants) ? e.variants : []) {
      if (!isObj(v)) continue;
      const name =
        typeof v.variant === "string" ? v.variant : typeof v.name === "string" ? v.name : undefined;
      const current = num(v.current) ?? num(v.replicas);
      if (name === undefined || current === null) continue;
      variants.push({
        key: typeof v.namespace === "string" ? `${v.namespace}/${name}` : name,
        ...(typeof v.model === "string" ? { model: v.model } : {}),
        current,
        ready: num(v.ready) ?? current,
        desired: num(v.desired) ?? current,
      });
    }
    const load: TimelineLoad[] = [];
    for (const l of Array.isArray(e.load) ? e.load : []) {
      if (!isObj(l) || typeof l.model !== "string") continue;
      load.push({
        key: typeof l.namespace === "string" ? `${l.namespace}/${l.model}` : l.model,
        rate: num(l.rps) ?? num(l.rate),
        ttftP95: isObj(l.ttftMs) ? num(l.ttftMs.p95) : null,
      });
    }
    out.push({ t, variants, load });
  }
  return out.sort((a, b) => a.t - b.t);
}
