/** One requirement of an equality- or set-based label selector (`key op values`). */
export interface Requirement {
  key: string;
  op: "=" | "!=" | "in" | "notin" | "exists" | "!exists";
  values: string[];
}

export type Selector = Requirement[];

/** A label selector text that does not parse; the message names the selector and the bad term. */
export class LabelSelectorError extends Error {
  constructor(
    readonly selector: string,
    readonly term: string,
  ) {
    super(`invalid label selector "${selector}": cannot parse "${term}"`);
    this.name = "LabelSelectorError";
  }
}

const NAME = String.raw`[\w./-]+`;
const IN_RE = new RegExp(String.raw`^(${NAME})\s+(in|notin)\s+\(([^)]*)\)$`);
const EQ_RE = new RegExp(String.raw`^(${NAME})\s*(==|=|!=)\s*([\w./-]*)$`);
const NOT_EXISTS_RE = new RegExp(String.raw`^!\s*(${NAME})$`);
const EXISTS_RE = new RegExp(String.raw`^(${NAME})$`);

/**
 * Parses a label selector such as `a=b,c!=d,e in (x,y),f notin (z),g,!h`. An empty (or missing)
 * text selects everything; empty terms are skipped. Throws `LabelSelectorError` on a malformed term.
 */
export function parseLabelSelector(text: string | undefined | null): Selector {
  const out: Selector = [];
  if (!text || !text.trim()) return out;
  for (const raw of splitTopLevel(text)) {
    const t = raw.trim();
    if (!t) continue;
    let m: RegExpExecArray | null;
    if ((m = NOT_EXISTS_RE.exec(t))) out.push({ key: m[1], op: "!exists", values: [] });
    else if ((m = IN_RE.exec(t)))
      out.push({
        key: m[1],
        op: m[2] as "in" | "notin",
        values: m[3]
          .split(",")
          .map((v) => v.trim())
          .filter((v) => v !== ""),
      });
    else if ((m = EQ_RE.exec(t))) out.push({ key: m[1], op: m[2] === "!=" ? "!=" : "=", values: [m[3]] });
    else if ((m = EXISTS_RE.exec(t))) out.push({ key: m[1], op: "exists", values: [] });
    else throw new LabelSelectorError(text, t);
  }
  return out;
}

/** Splits on commas outside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

/** Whether the labels satisfy every requirement of the selector (an empty selector matches all). */
export function matchesLabels(
  selector: readonly Requirement[],
  labels: Record<string, string> | undefined,
): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
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
    return false;
  });
}

/** A `metav1.LabelSelector` object (matchLabels / matchExpressions) as a selector. */
export function fromLabelSelectorObject(sel: unknown): Selector {
  const out: Selector = [];
  if (typeof sel !== "object" || sel === null || Array.isArray(sel)) return out;
  const obj = sel as Record<string, unknown>;
  for (const [k, v] of Object.entries((obj.matchLabels as Record<string, string>) ?? {}))
    out.push({ key: k, op: "=", values: [String(v)] });
  for (const e of (obj.matchExpressions as Array<Record<string, unknown>>) ?? []) {
    const op = String(e.operator);
    const values = ((e.values as string[]) ?? []).map(String);
    const key = String(e.key);
    if (op === "In") out.push({ key, op: "in", values });
    else if (op === "NotIn") out.push({ key, op: "notin", values });
    else if (op === "Exists") out.push({ key, op: "exists", values: [] });
    else if (op === "DoesNotExist") out.push({ key, op: "!exists", values: [] });
  }
  return out;
}

/** Formats a selector back to its text form (as in Scale.status.selector). */
export function formatSelector(sel: readonly Requirement[]): string {
  return sel
    .map((r) => {
      switch (r.op) {
        case "=":
          return `${r.key}=${r.values[0]}`;
        case "!=":
          return `${r.key}!=${r.values[0]}`;
        case "in":
          return `${r.key} in (${r.values.join(",")})`;
        case "notin":
          return `${r.key} notin (${r.values.join(",")})`;
        case "exists":
          return r.key;
        case "!exists":
          return `!${r.key}`;
      }
      return "";
    })
    .join(",");
}
