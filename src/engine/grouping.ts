import { compareNames, groupKey, type ModelGroup } from "../types/decision.js";

/** Where an item belongs: the model and namespace of a variant. */
export interface ModelRef {
  modelID: string;
  namespace: string;
}

/**
 * Groups variants by (modelID, namespace); groups are sorted by namespace then modelID, variants keep
 * their input order. `refOf` reads an item's model and namespace (default: the item's own fields).
 */
export function groupByModel<T extends ModelRef>(items: readonly T[]): ModelGroup<T>[];
export function groupByModel<T>(items: readonly T[], refOf: (item: T) => ModelRef): ModelGroup<T>[];
export function groupByModel<T>(
  items: readonly T[],
  refOf: (item: T) => ModelRef = (item) => item as ModelRef,
): ModelGroup<T>[] {
  const groups = new Map<string, ModelGroup<T>>();
  for (const item of items) {
    const { modelID, namespace } = refOf(item);
    const key = groupKey(modelID, namespace);
    let g = groups.get(key);
    if (g === undefined) {
      g = { modelID, namespace, variants: [] };
      groups.set(key, g);
    }
    g.variants.push(item);
  }
  return [...groups.values()].sort(
    (a, b) => compareNames(a.namespace, b.namespace) || compareNames(a.modelID, b.modelID),
  );
}
