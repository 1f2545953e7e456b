/**
 * Allocation solver: picks one allocation per model among its variants' candidates.
 *
 * - unlimited mode: the minimum-value candidate of every model, capacity ignored;
 * - limited mode: a greedy pass over the models in priority order under a GPU inventory
 *   (accelerator → free GPUs, the notion the GPU limiter uses), with an optional best-effort pass for
 *   models that got nothing within their targets.
 *
 * Pure code; see docs/design/model-based-optimizer.md.
 */
import type { GpuInventory } from "../../types/decision.js";
import {
  candidateAllocations,
  effectivePriority,
  type Allocation,
  type Candidates,
  type ModelDemand,
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
    return `no GPUs left for ${e.allocations.map((a) => `${a.replicas} × ${a.accelerator}`).join(" or ")}`;
  }
  if (c.replicas === 0) return `no load and minReplicas 0: 0 replicas`;
  if (c.totalRatePerSec === 0) return `no load: minReplicas ${c.replicas} × ${c.accelerator}`;
  let text =
    `${c.replicas} × ${c.accelerator} ${e.bestEffort ? "best effort (GPU limit) for" : "meet"} ` +
    `${goal || "the load"} at ${fmt(c.totalRatePerSec)} req/s (per replica ${fmt(c.maxRatePerReplicaPerSec)} req/s)`;
  const alternative = e.allocations.find((a) => a.variant !== c.variant && a.replicas > 0);
  if (alternative && c.cost > 0) {
    const ratio = alternative.cost / c.cost;
    text +=
      ratio === 1
        ? `; ${alternative.accelerator} would cost the same`
        : `; ${alternative.accelerator} would cost ${fmt(ratio, 2)}× ${ratio > 1 ? "more" : "as much"}`;
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

/** Places entries on their first candidate that fits; returns the ones that fit nowhere, in order. */
function allocate(entries: Entry[], free: Map<string, number>): Entry[] {
  const queue = [...entries];
  const unallocated: Entry[] = [];
  while (queue.length > 0) {
    const top = queue.shift()!;
    const alloc = top.allocations[top.index];
    if (!alloc) continue;
    const available = free.get(alloc.accelerator) ?? 0;
    if (available >= alloc.gpus) {
      free.set(alloc.accelerator, available - alloc.gpus);
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

function scaled(a: Allocation, replicas: number, gpusPerReplica: number): Allocation {
  const factor = replicas / a.replicas;
  return { ...a, replicas, cost: a.cost * factor, value: a.value * factor, gpus: replicas * gpusPerReplica };
}

const perReplica = (a: Allocation): number => a.gpus / a.replicas;

/** Each entry in turn takes as many replicas as fit on its best candidate with room. */
function allocateMaximally(entries: Entry[], free: Map<string, number>): void {
  for (const e of entries) {
    for (const a of e.allocations) {
      if (a.replicas === 0) continue;
      const u = perReplica(a);
      const m = Math.min(Math.floor((free.get(a.accelerator) ?? 0) / u), a.replicas);
      if (u > 0 && m > 0) {
        e.chosen = scaled(a, m, u);
        e.bestEffort = true;
        free.set(a.accelerator, (free.get(a.accelerator) ?? 0) - m * u);
        break;
      }
    }
  }
}

/** Entries take one replica at a time in turns, each on its best candidate with room. */
function allocateEqually(entries: Entry[], free: Map<string, number>): void {
  const tickets = entries.map((e) => ({
    e,
    alloc: undefined as Allocation | undefined,
    count: 0,
    live: true,
  }));
  let live = tickets.length;
  while (live > 0) {
    for (const t of tickets) {
      if (!t.live) continue;
      if (!t.alloc) {
        t.alloc = t.e.allocations.find(
          (a) => a.replicas > 0 && (free.get(a.accelerator) ?? 0) >= perReplica(a),
        );
        if (!t.alloc) {
          t.live = false;
          live--;
          continue;
        }
      }
      const u = perReplica(t.alloc);
      const left = free.get(t.alloc.accelerator) ?? 0;
      if (t.count < t.alloc.replicas && Math.floor(left / u) > 0) {
        free.set(t.alloc.accelerator, left - u);
        t.count++;
      } else {
        t.live = false;
        live--;
      }
    }
  }
  for (const t of tickets) {
    if (t.alloc && t.count > 0) {
      t.e.chosen = scaled(t.alloc, t.count, perReplica(t.alloc));
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
