/**
 * JSON merge patch (RFC 7386) between two JSON values: applying the result to `from` gives `to`.
 * Objects are diffed key by key (removed keys become null); arrays and scalars are replaced whole.
 * Returns undefined when nothing changed.
 */
export function createMergePatch(from: unknown, to: unknown): unknown {
  if (isPlainObject(from) && isPlainObject(to)) {
    const patch: Record<string, unknown> = {};
    for (const k of Object.keys(from)) {
      if (!(k in to) || to[k] === undefined) {
        if (from[k] !== undefined) patch[k] = null;
      }
    }
    for (const [k, v] of Object.entries(to)) {
      if (v === undefined) continue;
      const d = createMergePatch(from[k], v);
      if (d !== undefined) patch[k] = d;
    }
    return Object.keys(patch).length > 0 ? patch : undefined;
  }
  if (jsonEqual(from, to)) return undefined;
  return to === undefined ? null : to;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}
