/** One requirement of an equality- or set-based label selector. */
export interface Requirement {
  key: string;
  op: "=" | "!=" | "in" | "notin" | "exists" | "!exists";
  values: string[];
}

/**
 * Parses a label selector (`a=b,c!=d,e in (x,y),f notin (z),g,!h`); "" selects everything.
 * Throws naming the bad term.
 */
export function parseSelector(text: string): Requirement[] {
  const out: Requirement[] = [];
  const s = text.trim();
  if (s === "") return out;
  // split on commas outside parentheses
  const terms: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      terms.push(cur);
      cur = "";
    } else cur += ch;
  }
  terms.push(cur);
  for (const raw of terms) {
    const t = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t))) {
      out.push({ key: m[1], op: m[2] as "in" | "notin", values: m[3].split(",").map((v) => v.trim()) });
    } else if ((m = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(t))) {
      out.push({ key: m[1], op: m[2] === "!=" ? "!=" : "=", values: [m[3]] });
    } else if ((m = /^!\s*([^\s!=(),]+)$/.exec(t))) {
      out.push({ key: m[1], op: "!exists", values: [] });
    } else if ((m = /^([^\s!=(),]+)$/.exec(t))) {
      out.push({ key: m[1], op: "exists", values: [] });
    } else {
      throw new Error(`invalid label selector "${text}": cannot parse "${t}"`);
    }
  }
  return out;
}

export function matchesSelector(labels: Record<string, string>, reqs: readonly Requirement[]): boolean {
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    const v = labels[r.key];
    switch (r.op) {
      case "=":
        return has && v === r.values[0];
      case "!=":
        return !has || v !== r.values[0];
      case "in":
        return has && r.values.includes(v);
      case "notin":
        return !has || !r.values.includes(v);
      case "exists":
        return has;
      case "!exists":
        return !has;
    }
  });
}
