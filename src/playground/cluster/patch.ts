import { ApiError, badRequest } from "./errors.js";
import { checkBody, clone, deepEqual, isObject, isPrototypeKey } from "./util.js";

/** RFC 7386 JSON merge patch. Returns a new value; `target` is not modified. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  checkBody(patch, "merge patch");
  return merge(target, patch);
}

function merge(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = merge(out[k], v);
  }
  return out;
}

/** Builds a merge patch turning `from` into `to` (used by tests and the scale subresource). */
export function createMergePatch(from: unknown, to: unknown): unknown {
  if (!isObject(from) || !isObject(to)) return clone(to);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(from)) if (!(k in to)) out[k] = null;
  for (const [k, v] of Object.entries(to)) {
    if (!deepEqual(from[k], v)) out[k] = createMergePatch(from[k], v);
  }
  return out;
}

interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function parsePointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw badRequest(`json patch: invalid path "${path}"`);
  const parts = path
    .slice(1)
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  const bad = parts.find(isPrototypeKey);
  if (bad !== undefined)
    throw badRequest(`json patch: the path segment "${bad}" in "${path}" is not allowed`);
  return parts;
}

function parentOf(doc: unknown, parts: string[], path: string): { parent: unknown; key: string } {
  let cur = doc;
  for (const p of parts.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isObject(cur)) cur = cur[p];
    else cur = undefined;
    if (cur === undefined) throw new ApiError(422, "Invalid", `json patch: path "${path}" does not exist`);
  }
  return { parent: cur, key: parts[parts.length - 1] };
}

function getAt(doc: unknown, path: string): unknown {
  let cur = doc;
  for (const p of parsePointer(path)) {
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isObject(cur)) cur = cur[p];
    else return undefined;
  }
  return cur;
}

function arrayIndex(arr: unknown[], key: string, forInsert: boolean, path: string): number {
  if (key === "-" && forInsert) return arr.length;
  if (!/^\d+$/.test(key)) throw new ApiError(422, "Invalid", `json patch: invalid array index in "${path}"`);
  const i = Number(key);
  if (i > arr.length || (!forInsert && i >= arr.length))
    throw new ApiError(422, "Invalid", `json patch: array index out of range in "${path}"`);
  return i;
}

function removeAt(doc: unknown, path: string): { doc: unknown; removed: unknown } {
  const parts = parsePointer(path);
  if (parts.length === 0) return { doc: undefined, removed: doc };
  const { parent, key } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, key, false, path);
    return { doc, removed: parent.splice(i, 1)[0] };
  }
  if (isObject(parent) && key in parent) {
    const removed = parent[key];
    delete parent[key];
    return { doc, removed };
  }
  throw new ApiError(422, "Invalid", `json patch: path "${path}" does not exist`);
}

function addAt(doc: unknown, path: string, value: unknown, replace: boolean): unknown {
  const parts = parsePointer(path);
  if (parts.length === 0) return clone(value);
  const { parent, key } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, key, !replace, path);
    if (replace) parent[i] = clone(value);
    else parent.splice(i, 0, clone(value));
  } else if (isObject(parent)) {
    if (replace && !(key in parent))
      throw new ApiError(422, "Invalid", `json patch: path "${path}" does not exist`);
    parent[key] = clone(value);
  } else throw new ApiError(422, "Invalid", `json patch: path "${path}" does not exist`);
  return doc;
}

/** RFC 6902 JSON patch (add, remove, replace, move, copy, test). */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest("json patch: the patch must be an array of operations");
  checkBody(ops, "json patch");
  let doc = clone(target);
  for (const raw of ops as JsonPatchOp[]) {
    if (!isObject(raw) || typeof raw.op !== "string" || typeof raw.path !== "string")
      throw badRequest("json patch: each operation needs string fields op and path");
    switch (raw.op) {
      case "add":
        doc = addAt(doc, raw.path, raw.value, false);
        break;
      case "replace":
        doc = addAt(doc, raw.path, raw.value, true);
        break;
      case "remove":
        doc = removeAt(doc, raw.path).doc;
        break;
      case "move": {
        const r = removeAt(doc, raw.from ?? "");
        doc = addAt(r.doc, raw.path, r.removed, false);
        break;
      }
      case "copy":
        doc = addAt(doc, raw.path, getAt(doc, raw.from ?? ""), false);
        break;
      case "test":
        if (!deepEqual(getAt(doc, raw.path), raw.value))
          throw new ApiError(422, "Invalid", `json patch: test operation failed at "${raw.path}"`);
        break;
      default:
        throw badRequest(`json patch: unknown operation "${raw.op}"`);
    }
  }
  return doc;
}

/**
 * Merge keys of the list fields of the built-in kinds served here (the `patchMergeKey` of the
 * Kubernetes Go types). Lists not named here are replaced as a whole, like atomic lists.
 */
const mergeKeys: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  env: "name",
  volumeMounts: "mountPath",
  volumeDevices: "devicePath",
  volumes: "name",
  conditions: "type",
  ownerReferences: "uid",
  imagePullSecrets: "name",
  hostAliases: "ip",
  topologySpreadConstraints: "topologyKey",
  resourceClaims: "name",
  addresses: "type",
  ephemeralContainerStatuses: "name",
  containerStatuses: "name",
  initContainerStatuses: "name",
};
/** Lists of scalars merged as sets. */
const setLists = new Set(["finalizers"]);

function mergeKeyFor(field: string, kind: string, path: string[]): string | undefined {
  if (field === "ports") {
    if (kind === "Service") return "port";
    if (path.includes("containers") || path.includes("initContainers")) return "containerPort";
    return undefined;
  }
  return mergeKeys[field];
}

/**
 * Strategic merge patch for the built-in kinds: maps merge recursively, lists with a merge key are
 * merged by key, `$patch: delete|replace` directives are honoured and the `$setElementOrder` /
 * `$retainKeys` / `$deleteFromPrimitiveList` directives that kubectl sends are understood.
 */
export function strategicMergePatch(target: unknown, patch: unknown, kind: string): unknown {
  checkBody(patch, "strategic merge patch");
  return smp(target, patch, kind, []);
}

function smp(target: unknown, patch: unknown, kind: string, path: string[]): unknown {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === "replace") {
    const rest = { ...patch };
    delete rest.$patch;
    return stripDirectives(rest);
  }
  if (patch.$patch === "delete") return undefined;
  const out: Record<string, unknown> = isObject(target) ? clone(target) : {};
  const retain = Array.isArray(patch.$retainKeys) ? (patch.$retainKeys as string[]) : undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === "$patch" || k === "$retainKeys" || k.startsWith("$setElementOrder/")) continue;
    if (k.startsWith("$deleteFromPrimitiveList/")) {
      const field = k.slice("$deleteFromPrimitiveList/".length);
      if (Array.isArray(out[field]) && Array.isArray(v))
        out[field] = (out[field] as unknown[]).filter((x) => !(v as unknown[]).some((d) => deepEqual(d, x)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      const key = mergeKeyFor(k, kind, path);
      if (key) out[k] = mergeList(out[k], v, key, kind, [...path, k]);
      else if (setLists.has(k)) {
        const base = Array.isArray(out[k]) ? [...(out[k] as unknown[])] : [];
        for (const x of v) if (!base.some((b) => deepEqual(b, x))) base.push(x);
        out[k] = base;
      } else out[k] = stripDirectives(v);
      continue;
    }
    if (isObject(v)) {
      const merged = smp(out[k], v, kind, [...path, k]);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
      continue;
    }
    out[k] = v;
  }
  if (retain) for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  return out;
}

function mergeList(target: unknown, patch: unknown[], key: string, kind: string, path: string[]): unknown[] {
  const base = Array.isArray(target) ? clone(target as unknown[]) : [];
  if (patch.some((p) => isObject(p) && p.$patch === "replace"))
    return stripDirectives(patch.filter((p) => !(isObject(p) && p.$patch === "replace"))) as unknown[];
  for (const item of patch) {
    if (!isObject(item)) {
      base.push(item);
      continue;
    }
    const idx = base.findIndex((b) => isObject(b) && deepEqual(b[key], item[key]));
    if (item.$patch === "delete") {
      if (idx >= 0) base.splice(idx, 1);
      continue;
    }
    if (idx >= 0) base[idx] = smp(base[idx], item, kind, path);
    else base.push(stripDirectives(item));
  }
  return base;
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith("$")) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}
