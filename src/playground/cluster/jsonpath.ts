import { isObject } from "./util.js";

/**
 * Evaluates the JSONPath subset used by printer columns: `.a.b`, `.a[0]`, `.a[*].b` and filters
 * such as `.status.conditions[?(@.type=="Ready")].status`. Returns every match.
 */
export function evalJsonPath(obj: unknown, path: string): unknown[] {
  let p = path.trim();
  if (p.startsWith("{") && p.endsWith("}")) p = p.slice(1, -1);
  if (p.startsWith("$")) p = p.slice(1);
  let current: unknown[] = [obj];
  let i = 0;
  while (i < p.length) {
    if (p[i] === ".") {
      i++;
      let name = "";
      while (i < p.length && p[i] !== "." && p[i] !== "[") name += p[i++];
      if (!name) continue;
      current = current.flatMap((c) => (isObject(c) && c[name] !== undefined ? [c[name]] : []));
    } else if (p[i] === "[") {
      const end = findClose(p, i);
      const inner = p.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === "*")
        current = current.flatMap((c) => (Array.isArray(c) ? c : isObject(c) ? Object.values(c) : []));
      else if (/^-?\d+$/.test(inner)) {
        const n = Number(inner);
        current = current.flatMap((c) =>
          Array.isArray(c) ? [c[n < 0 ? c.length + n : n]].filter((x) => x !== undefined) : [],
        );
      } else if (inner.startsWith("?(") && inner.endsWith(")")) {
        const m = inner.slice(2, -1).match(/^@\.([\w.]+)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)'|([\w.-]+))$/);
        if (!m) return [];
        const [, field, op, dq, sq, bare] = m;
        const want = dq ?? sq ?? bare;
        current = current.flatMap((c) =>
          Array.isArray(c)
            ? c.filter((item) => {
                const v = field
                  .split(".")
                  .reduce<unknown>((acc, k) => (isObject(acc) ? acc[k] : undefined), item);
                return op === "==" ? String(v) === want : String(v) !== want;
              })
            : [],
        );
      } else {
        const key = inner.replace(/^['"]|['"]$/g, "");
        current = current.flatMap((c) => (isObject(c) && c[key] !== undefined ? [c[key]] : []));
      }
    } else i++;
  }
  return current;
}

function findClose(p: string, start: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = start; i < p.length; i++) {
    const ch = p[i];
    if (quote) {
      if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === "[") depth++;
    else if (ch === "]" && --depth === 0) return i;
  }
  return p.length;
}
