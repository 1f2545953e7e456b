/**
 * Helpers for the few items of one model (its variants), run for thousands of models per cycle: they
 * avoid the fixed costs of the general tools (the working memory `Array.prototype.sort` allocates per
 * call, a `Map` per lookup table) while staying O(n log n) / O(1) per lookup for large inputs.
 */

/** Up to this many items a linear search beats building a map. */
const LINEAR_MAX = 8;

/** A lookup by key over `items` (the first item with a key wins); `items` must not change afterwards. */
export function lookupBy<T>(items: readonly T[], key: (t: T) => string): (k: string) => T | undefined {
  if (items.length <= LINEAR_MAX) {
    return (k) => {
      for (const t of items) if (key(t) === k) return t;
      return undefined;
    };
  }
  const m = new Map<string, T>();
  for (const t of items) {
    const k = key(t);
    if (!m.has(k)) m.set(k, t);
  }
  return (k) => m.get(k);
}

/** `items` itself when already in order, else a sorted copy (stable). Never mutates `items`. */
export function sortedSmall<T>(items: readonly T[], compare: (a: T, b: T) => number): readonly T[] {
  if (items.length > LINEAR_MAX * 4) return [...items].sort(compare);
  let i = 1;
  while (i < items.length && compare(items[i - 1], items[i]) <= 0) i++;
  if (i >= items.length) return items;
  const out = items.slice();
  for (; i < out.length; i++) {
    const x = out[i];
    let j = i - 1;
    while (j >= 0 && compare(out[j], x) > 0) {
      out[j + 1] = out[j];
      j--;
    }
    out[j + 1] = x;
  }
  return out;
}
