import { compareNames, groupKey } from "../types/decision.js";

export interface ModelGroup<T> {
  key: string;
  modelID: string;
  namespace: string;
  members: T[];
}

/**
 * Groups variants by (modelID, namespace); groups are sorted by namespace then modelID, members keep
 * their input order.
 */
export function groupByModel<T extends { modelID: string; namespace: string }>(
  items: readonly T[],
): ModelGroup<T>[] {
  const groups = new Map<string, ModelGroup<T>>();
  for (const item of items) {
    const key = groupKey(item.modelID, item.namespace);
    let g = groups.get(key);
    if (g === undefined) {
      g = { key, modelID: item.modelID, namespace: item.namespace, members: [] };
      groups.set(key, g);
    }
    g.members.push(item);
  }
  return [...groups.values()].sort(
    (a, b) => compareNames(a.namespace, b.namespace) || compareNames(a.modelID, b.modelID),
  );
}
