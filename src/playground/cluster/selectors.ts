import { badRequest } from "./errors.js";
import { getPath, isObject, type KObject } from "./util.js";

/** One requirement of a label selector (`key op values`). */
export interface Requirement {
  key: string;
  op: "=" | "!=" | "in" | "notin" | "exists" | "!";
  values: string[];
}

export type Selector = Requirement[];

/**
 * Parses a label selector string such as `app=x,tier!=db,env in (a,b),!legacy,gpu`. An empty string
 * selects everything. Throws a 400 `ApiError` on a malformed selector.
 */
export function parseLabelSelector(text: string | undefined | null): Selector {
  const out: Selector = [];
  if (!text || !text.trim()) return out;
  for (const raw of splitTopLevel(text)) {
    const part = raw.trim();
    if (!part) continue;
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^!\s*([\w./-]+)$/))) out.push({ key: m[1], op: "!", values: [] });
    else if ((m = part.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/)))
      out.push({
        key: m[1],
        op: m[2] as "in" | "notin",
        values: m[3]
          .split(",")
          .map((v) => v.trim())
          .filter((v) => v !== ""),
      });
    else if ((m = part.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/)))
      out.push({ key: m[1], op: m[2] === "!=" ? "!=" : "=", values: [m[3]] });
    else if ((m = part.match(/^([\w./-]+)$/))) out.push({ key: m[1], op: "exists", values: [] });
    else throw badRequest(`unable to parse requirement: invalid label selector "${text}"`);
  }
  return out;
}

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

export function matchesLabels(selector: Selector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const r of selector) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case "=":
        if (!has || v !== r.values[0]) return false;
        break;
      case "!=":
        if (has && v === r.values[0]) return false;
        break;
      case "in":
        if (!has || !r.values.includes(v)) return false;
        break;
      case "notin":
        if (has && r.values.includes(v)) return false;
        break;
      case "exists":
        if (!has) return false;
        break;
      case "!":
        if (has) return false;
        break;
    }
  }
  return true;
}

/** A `metav1.LabelSelector` object (matchLabels / matchExpressions) as a selector. */
export function fromLabelSelectorObject(sel: unknown): Selector {
  const out: Selector = [];
  if (!isObject(sel)) return out;
  for (const [k, v] of Object.entries((sel.matchLabels as Record<string, string>) ?? {}))
    out.push({ key: k, op: "=", values: [String(v)] });
  for (const e of (sel.matchExpressions as Array<Record<string, unknown>>) ?? []) {
    const op = String(e.operator);
    const values = ((e.values as string[]) ?? []).map(String);
    const key = String(e.key);
    if (op === "In") out.push({ key, op: "in", values });
    else if (op === "NotIn") out.push({ key, op: "notin", values });
    else if (op === "Exists") out.push({ key, op: "exists", values: [] });
    else if (op === "DoesNotExist") out.push({ key, op: "!", values: [] });
  }
  return out;
}

/** Formats a selector back to the string form (used in Scale.status.selector). */
export function formatSelector(sel: Selector): string {
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
        case "!":
          return `!${r.key}`;
      }
      return "";
    })
    .join(",");
}

export interface FieldRequirement {
  path: string;
  op: "=" | "!=";
  value: string;
}

/** Parses a field selector such as `metadata.name=x,status.phase!=Running`. */
export function parseFieldSelector(text: string | undefined | null): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  if (!text || !text.trim()) return out;
  for (const raw of text.split(",")) {
    const part = raw.trim();
    if (!part) continue;
    const m = part.match(/^([\w.]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid field selector: "${text}"`);
    out.push({ path: m[1], op: m[2] === "!=" ? "!=" : "=", value: m[3] });
  }
  return out;
}

export function matchesFields(reqs: FieldRequirement[], obj: KObject): boolean {
  for (const r of reqs) {
    const raw = getPath(obj, r.path);
    const v = raw === undefined || raw === null ? "" : String(raw);
    if (r.op === "=" ? v !== r.value : v === r.value) return false;
  }
  return true;
}
