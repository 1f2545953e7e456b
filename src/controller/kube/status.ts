import { isConflict, type KubeClient } from "./client.js";
import type { Condition } from "../../api/v1alpha1/types.js";
import { createMergePatch } from "./merge-patch.js";
import type { KubeObject } from "./informer.js";

export type { Condition };

/** RFC 3339 timestamp with second precision (metav1.Time). */
export function metaTime(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Sets a condition the way `meta.SetStatusCondition` does: `lastTransitionTime` changes only when the
 * status changes; reason, message and observedGeneration are always updated. Returns a new list.
 */
export function setCondition(
  conditions: Condition[] | undefined,
  next: Omit<Condition, "lastTransitionTime">,
  now: Date = new Date(),
): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  if (i < 0) {
    list.push({ ...next, lastTransitionTime: metaTime(now) });
    return list;
  }
  const old = list[i];
  list[i] = {
    ...old,
    ...next,
    lastTransitionTime: old.status === next.status ? old.lastTransitionTime : metaTime(now),
  };
  return list;
}

export function findCondition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export interface StatusWriteResult<T> {
  /** The object as the API returned it (or the base object when nothing had to be written). */
  object: T;
  /** True when a PATCH was sent and accepted. */
  written: boolean;
  /** Number of 409 conflicts retried. */
  conflicts: number;
}

/**
 * Writes `status` with a JSON merge patch computed against `base`, guarded by its resourceVersion.
 * On 409 Conflict the latest object is read again, `mutate` is re-applied and the write is retried
 * (up to `maxRetries` times). Nothing is sent when the status would not change.
 */
export async function patchStatus<T extends KubeObject & { status?: unknown }>(
  client: KubeClient,
  objectPath: string,
  base: T,
  mutate: (current: T) => T["status"],
  maxRetries = 5,
): Promise<StatusWriteResult<T>> {
  let current = base;
  let conflicts = 0;
  for (;;) {
    const nextStatus = mutate(current);
    const patch = createMergePatch({ status: current.status ?? {} }, { status: nextStatus ?? {} }) as
      Record<string, unknown> | undefined;
    if (patch === undefined) return { object: current, written: false, conflicts };
    patch.metadata = { resourceVersion: current.metadata?.resourceVersion };
    try {
      const obj = await client.mergePatch<T>(`${objectPath}/status`, patch);
      return { object: obj, written: true, conflicts };
    } catch (err) {
      if (!isConflict(err) || conflicts >= maxRetries) throw err;
      conflicts++;
      await new Promise((r) => setTimeout(r, Math.min(10 * 2 ** conflicts, 500)));
      current = await client.get<T>(objectPath);
    }
  }
}
