import { badRequest } from "./errors.js";
import { getPath, type KObject } from "./util.js";
import {
  LabelSelectorError,
  parseLabelSelector as parseSelectorText,
  type Selector,
} from "../../util/label-selector.js";

/** Label selectors: the shared parser, with parse errors as the API server's 400 Status. */
export {
  formatSelector,
  fromLabelSelectorObject,
  matchesLabels,
  type Requirement,
  type Selector,
} from "../../util/label-selector.js";

/**
 * Parses a label selector string such as `app=x,tier!=db,env in (a,b),!legacy,gpu`. An empty string
 * selects everything. Throws a 400 `ApiError` on a malformed selector.
 */
export function parseLabelSelector(text: string | undefined | null): Selector {
  try {
    return parseSelectorText(text);
  } catch (e) {
    if (e instanceof LabelSelectorError) throw badRequest(`unable to parse requirement: ${e.message}`);
    throw e;
  }
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
