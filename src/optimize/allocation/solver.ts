/**
 * Allocation solver: picks one allocation per model among its candidates (one variant, or a mix when
 * variants are at their maximums).
 *
 * - unlimited mode: the minimum-value candidate of every model, capacity ignored;
 * - limited mode: a greedy pass over the models in priority order under a GPU inventory
 *   (accelerator → free GPUs, the notion the GPU limiter uses), with an optional best-effort pass for
 *   models that got nothing within their targets.
 *
 * Pure code; see docs/design/model-based-optimizer.md.
 */
import { boundLabel, type GpuInventory } from "../../types/decision.js";
import {
  candidateAllocations,
  effectivePriority,
  type Allocation,
  type Candidates,
  type ModelDemand,
  type VariantShare,
} from "./allocation.js";

/** What the limited mode does with models that got no allocation within their targets. */
export type BestEffortPolicy = "None" | "PriorityExhaustive" | "PriorityRoundRobin" | "RoundRobin";
export const BEST_EFFORT_POLICIES: readonly BestEffortPolicy[] = [
  "None",
  "PriorityExhaustive",
  "PriorityRoundRobin",
  "RoundRobin",
];

export interface SolverOptions {
  /** Free GPUs per accelerator; absent = unlimited mode. */
  gpuInventory?: GpuInventory;
  /** Limited mode: policy for models left without an allocation. Default "None". */
  bestEffort?: BestEffortPolicy;
  /**
   * Limited mode: run best effort once after every priority level got its allocations (true), or after
   * each priority level before the next one (false, default).
   */
  delayedBestEffort?: boolean;
}

export interface ModelAllocation {
  modelID: string;
  namespace: string;
  /** The chosen allocation; undefined when none was feasible or the inventory had no room. */
  chosen?: Allocation;
  /** The chosen allocation has fewer replicas than its targets need (best effort). */
  bestEffort: boolean;
  /** Feasible candidates, by value. */
  candidates: Allocation[];
  infeasible: Array<{ variant: string; reason: string }>;
  reason: string;
}

interface Entry {
  demand: ModelDemand;
  key: string;
  priority: number;
  allocations: Allocation[];
  index: number;
  delta: number;
  chosen?: Allocation;
  bestEffort: boolean;
}

const fmt = (x: number, digits = 3): string => String(Number(x.toPrecision(digits)));

/** "4 × A100 (at maximum: HPA maxReplicas 4) + 2 × H100": the shares of an allocation. */
function mixText(a: Allocation): string {
  const text = a.shares
    .map(
      (s) =>
        `${s.replicas} × ${s.accelerator}${s.cappedBy ? ` (at maximum: ${boundLabel(s.cappedBy)})` : ""}`,
    )
    .join(" + ");
  return text || "0 replicas";
}

/** "per replica 1.15 req/s", or per accelerator for a mix. */
function perReplicaText(a: Allocation): string {
  if (a.shares.length === 1) return `per replica ${fmt(a.shares[0].maxRatePerReplicaPerSec)} req/s`;
  return `per replica ${a.shares.map((s) => `${s.accelerator} ${fmt(s.maxRatePerReplicaPerSec)}`).join(", ")} req/s`;
}

const leadOf = (a: Allocation): string => a.shares[0]?.variant ?? "";

/** Readable summary of a model's decision. */
function explain(e: Entry, infeasible: ModelAllocation["infeasible"], limited: boolean): string {
  const { targets } = e.demand;
  const goal = [
    targets.ttftMs > 0 ? `TTFT ${fmt(targets.ttftMs)} ms` : "",
    targets.itlMs > 0 ? `ITL ${fmt(targets.itlMs)} ms` : "",
    (targets.tps ?? 0) > 0 ? `${fmt(targets.tps ?? 0)} tokens/s` : "",
  ]
    .filter(Boolean)
    .join(" / ");
  const c = e.chosen;
  if (!c) {
    if (e.allocations.length === 0) {
      const why = infeasible.map((i) => `${i.variant}: ${i.reason}`).join("; ");
      return `no variant can meet ${goal || "the targets"}${why ? ` (${why})` : ""}`;
    }
    return `no GPUs left for ${e.allocations.map(mixText).join(" or ")}`;
  }
  if (c.totalRatePerSec === 0)
    return c.replicas === 0 ? `no load and minReplicas 0: 0 replicas` : `no load: minReplicas ${mixText(c)}`;
  const bestEffort = e.bestEffort ? " best effort (GPU limit)" : "";
  let text =
    c.unmetRatePerSec > 0
      ? `${mixText(c)}${bestEffort}: load ${fmt(c.totalRatePerSec)} req/s exceeds what the variants can ` +
        `serve at their maximums (${fmt(c.totalRatePerSec - c.unmetRatePerSec)} req/s) within ` +
        `${goal || "the targets"} (${perReplicaText(c)})`
      : `${mixText(c)} ${e.bestEffort ? "best effort (GPU limit) for" : "meet"} ${goal || "the load"} ` +
        `at ${fmt(c.totalRatePerSec)} req/s (${perReplicaText(c)})`;
  const alternative = e.allocations.find((a) => leadOf(a) !== leadOf(c) && a.replicas > 0);
  if (alternative && c.cost > 0) {
    const ratio = alternative.cost / c.cost;
    const name = alternative.shares.map((s) => s.accelerator).join(" + ");
    text +=
      ratio === 1
        ? `; ${name} would cost the same`
        : `; ${name} would cost ${fmt(ratio, 2)}× ${ratio > 1 ? "more" : "as much"}`;
  }
  if (limited && !e.bestEffort && e.allocations[0] !== c)
    text += " (preferred choice exceeded the GPU limit)";
  return text;
}

/** Entry order: lower priority number first; then larger regret; then larger current value; then key. */
function order(a: Entry, b: Entry): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  if (a.delta !== b.delta) return b.delta - a.delta;
  const va = a.allocations[a.index]?.value ?? 0;
  const vb = b.allocations[b.index]?.value ?? 0;
  if (va !== vb) return vb - va;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function regret(e: Entry): number {
  const next = e.allocations[e.index + 1];
  return next ? next.value - e.allocations[e.index].value : Number.MAX_VALUE;
}

/** True when every share of `a` fits in the free GPUs of its accelerator. */
function fits(a: Allocation, free: Map<string, number>): boolean {
  if (a.shares.length === 1) return (free.get(a.shares[0].accelerator) ?? 0) >= a.shares[0].gpus;
  const need = new Map<string, number>();
  for (const s of a.shares) need.set(s.accelerator, (need.get(s.accelerator) ?? 0) + s.gpus);
  for (const [accelerator, gpus] of need) if ((free.get(accelerator) ?? 0) < gpus) return false;
  return true;
}

function take(a: Allocation, free: Map<string, number>): void {
  for (const s of a.shares) free.set(s.accelerator, (free.get(s.accelerator) ?? 0) - s.gpus);
}

/** Places entries on their first candidate that fits; returns the ones that fit nowhere, in order. */
function allocate(entries: Entry[], free: Map<string, number>): Entry[] {
  const queue = [...entries];
  const unallocated: Entry[] = [];
  while (queue.length > 0) {
    const top = queue.shift()!;
    const alloc = top.allocations[top.index];
    if (!alloc) continue;
    if (fits(alloc, free)) {
      take(alloc, free);
      top.chosen = alloc;
      continue;
    }
    top.index += 1;
    if (top.index >= top.allocations.length) {
      unallocated.push(top);
      continue;
    }
    top.delta = regret(top);
    let at = queue.findIndex((e) => order(top, e) < 0);
    if (at < 0) at = queue.length;
    queue.splice(at, 0, top);
  }
  return unallocated;
}

const perReplica = (s: VariantShare): number => s.gpus / s.replicas;

/** `a` with `counts[i]` replicas in share i (shares left with none are dropped). */
function scaled(a: Allocation, counts: readonly number[]): Allocation {
  const shares: VariantShare[] = [];
  let replicas = 0;
  let cost = 0;
  a.shares.forEach((s, i) => {
    const n = counts[i];
    if (n <= 0) return;
    const { cappedBy: _, ...rest } = s;
    // fewer replicas than the share had: the GPUs, not the variant's maximum, limit it now
    const share = {
      ...(n < s.replicas ? rest : s),
      replicas: n,
      cost: (s.cost * n) / s.replicas,
      gpus: perReplica(s) * n,
    };
    shares.push(share);
    replicas += n;
    cost += share.cost;
  });
  return { ...a, shares, replicas, cost, value: (a.value * replicas) / a.replicas };
}

/** Free replicas of one share's accelerator (whole replicas). */
const room = (s: VariantShare, free: Map<string, number>): number =>
  s.replicas > 0 ? Math.floor((free.get(s.accelerator) ?? 0) / perReplica(s)) : 0;

/** Each entry in turn takes as many replicas as fit of each share of its best candidate with room. */
function allocateMaximally(entries: Entry[], free: Map<string, number>): void {
  for (const e of entries) {
    for (const a of e.allocations) {
      if (a.replicas === 0) continue;
      const counts = a.shares.map((s) => {
        const n = Math.min(room(s, free), s.replicas);
        if (n > 0) free.set(s.accelerator, (free.get(s.accelerator) ?? 0) - n * perReplica(s));
        return n;
      });
      if (counts.some((n) => n > 0)) {
        e.chosen = scaled(a, counts);
        e.bestEffort = true;
        break;
      }
    }
  }
}

/** Entries take one replica at a time in turns, each on its best candidate with room (shares in order). */
function allocateEqually(entries: Entry[], free: Map<string, number>): void {
  const tickets = entries.map((e) => ({
    e,
    alloc: undefined as Allocation | undefined,
    counts: [] as number[],
    live: true,
  }));
  let live = tickets.length;
  while (live > 0) {
    for (const t of tickets) {
      if (!t.live) continue;
      if (!t.alloc) {
        t.alloc = t.e.allocations.find((a) => a.shares.some((s) => room(s, free) > 0));
        t.counts = t.alloc ? t.alloc.shares.map(() => 0) : [];
      }
      const i = t.alloc
        ? t.alloc.shares.findIndex((s, j) => t.counts[j] < s.replicas && room(s, free) > 0)
        : -1;
      if (i < 0) {
        t.live = false;
        live--;
        continue;
      }
      const s = t.alloc!.shares[i];
      free.set(s.accelerator, (free.get(s.accelerator) ?? 0) - perReplica(s));
      t.counts[i]++;
    }
  }
  for (const t of tickets) {
    if (t.alloc && t.counts.some((n) => n > 0)) {
      t.e.chosen = scaled(t.alloc, t.counts);
      t.e.bestEffort = true;
    }
  }
}

function bestEffort(unallocated: Entry[], policy: BestEffortPolicy, free: Map<string, number>): void {
  if (policy === "PriorityExhaustive") allocateMaximally(unallocated, free);
  else if (policy === "RoundRobin") allocateEqually(unallocated, free);
  else if (policy === "PriorityRoundRobin") {
    for (const group of byPriority(unallocated)) allocateEqually(group, free);
  }
}

/** Consecutive runs of equal priority. */
function byPriority(entries: Entry[]): Entry[][] {
  const groups: Entry[][] = [];
  for (const e of entries) {
    const last = groups[groups.length - 1];
    if (last && last[0].priority === e.priority) last.push(e);
    else groups.push([e]);
  }
  return groups;
}

/** A model with its candidate allocations (from {@link candidateAllocations}). */
export interface ModelCandidates extends Candidates {
  demand: ModelDemand;
}

/** Sizes every model's candidates, then chooses one allocation per model. Output in input order. */
export function solveAllocations(
  demands: readonly ModelDemand[],
  options: SolverOptions = {},
): ModelAllocation[] {
  return chooseAllocations(
    demands.map((demand) => ({ demand, ...candidateAllocations(demand) })),
    options,
  );
}

/**
 * Chooses one allocation per model among already sized candidates (the solver proper; sizing is the
 * expensive part and depends only on each model's own inputs). Output in input order. Candidates are
 * not modified.
 */
export function chooseAllocations(
  models: readonly ModelCandidates[],
  options: SolverOptions = {},
): ModelAllocation[] {
  const limited = options.gpuInventory !== undefined;
  const entries: Entry[] = [];
  const infeasible = new Map<Entry, ModelAllocation["infeasible"]>();
  for (const { demand: d, allocations, infeasible: inf } of models) {
    const e: Entry = {
      demand: d,
      key: `${d.namespace}/${d.modelID}`,
      priority: effectivePriority(d.priority),
      allocations,
      index: 0,
      delta: 0,
      bestEffort: false,
    };
    e.delta = allocations.length > 0 ? regret(e) : Number.MAX_VALUE;
    entries.push(e);
    infeasible.set(e, inf);
  }
  if (!limited) {
    for (const e of entries) e.chosen = e.allocations[0];
  } else {
    const free = new Map(Object.entries(options.gpuInventory ?? {}));
    const policy = options.bestEffort ?? "None";
    const ordered = entries.filter((e) => e.allocations.length > 0).sort(order);
    if (options.delayedBestEffort) {
      bestEffort(allocate(ordered, free), policy, free);
    } else {
      for (const group of byPriority(ordered)) bestEffort(allocate(group, free), policy, free);
    }
  }
  return entries.map((e) => {
    const inf = infeasible.get(e) ?? [];
    return {
      modelID: e.demand.modelID,
      namespace: e.demand.namespace,
      chosen: e.chosen,
      bestEffort: e.bestEffort,
      candidates: e.allocations,
      infeasible: inf,
      reason: explain(e, inf, limited),
    };
  });
}
