import { createHash, randomInt, randomUUID } from "node:crypto";
import type { ObjectMeta as ApiObjectMeta } from "../../api/v1alpha1/types.js";
import { badRequest } from "./errors.js";

/** A JSON object as stored by the emulator. */
export type KObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
};

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** The API's ObjectMeta with the emulator's extra fields and typed owner references. */
export interface ObjectMeta extends Omit<ApiObjectMeta, "ownerReferences" | "managedFields"> {
  deletionGracePeriodSeconds?: number;
  ownerReferences?: OwnerReference[];
  managedFields?: unknown[];
  [key: string]: unknown;
}

export function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** RFC 3339 timestamp with second precision, as Kubernetes writes it. */
export function timestamp(ms = Date.now()): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

export const newUID = (): string => randomUUID();

const alphabet = "bcdfghjklmnpqrstvwxz2456789";
/** Random suffix as used by generateName (5 characters). */
export function randomSuffix(n = 5): string {
  let s = "";
  for (let i = 0; i < n; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
}

/** Stable short hash used for pod-template-hash labels. */
export function shortHash(value: unknown): string {
  const hex = createHash("sha256").update(JSON.stringify(value)).digest();
  let s = "";
  for (let i = 0; i < 10; i++) s += alphabet[hex[i] % alphabet.length];
  return s;
}

/** Keys that reach an object's prototype when written with `obj[key] = ...`. */
const prototypeKeys = new Set(["__proto__", "constructor", "prototype"]);

export function isPrototypeKey(key: string): boolean {
  return prototypeKeys.has(key);
}

/** Deepest nesting of objects and arrays accepted in a request body. */
export const MAX_BODY_DEPTH = 100;

/**
 * Refuses (400) a decoded request body that nests deeper than `MAX_BODY_DEPTH` or has a key named
 * `__proto__`, `constructor` or `prototype` anywhere, so no write can reach a prototype.
 */
export function checkBody(value: unknown, what = "the request body"): void {
  const stack: Array<[unknown, number, string]> = [[value, 0, ""]];
  while (stack.length > 0) {
    const [v, depth, at] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth >= MAX_BODY_DEPTH)
      throw badRequest(`${what}: nesting at ${at || "the top"} is deeper than ${MAX_BODY_DEPTH} levels`);
    if (Array.isArray(v)) {
      v.forEach((x, i) => stack.push([x, depth + 1, `${at}[${i}]`]));
      continue;
    }
    for (const k of Object.keys(v)) {
      if (prototypeKeys.has(k))
        throw badRequest(`${what}: the key "${k}" at ${at || "the top"} is not allowed`);
      stack.push([(v as Record<string, unknown>)[k], depth + 1, at ? `${at}.${k}` : k]);
    }
  }
}

/** Reads a dotted path such as `spec.replicas` from an object (own properties only). */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.replace(/^\./, "").split(".")) {
    if (part === "") continue;
    if (!isObject(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = cur[part];
  }
  return cur;
}

/** Writes a dotted path, creating objects on the way. */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.replace(/^\./, "").split(".");
  if (parts.some(isPrototypeKey)) throw badRequest(`the path "${path}" is not allowed`);
  let cur = obj;
  for (const part of parts.slice(0, -1)) {
    if (!isObject(cur[part])) cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}

export function meta(obj: KObject): ObjectMeta {
  if (!isObject(obj.metadata)) obj.metadata = {};
  return obj.metadata as ObjectMeta;
}

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Validates an object name as a DNS-1123 subdomain; returns an error message or undefined. */
export function checkName(name: string): string | undefined {
  if (name.length > 253) return "must be no more than 253 characters";
  if (!dns1123Subdomain.test(name))
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

const qualifiedNamePart = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/**
 * Validates a label or annotation key (`[prefix/]name`: a DNS subdomain prefix of at most 253
 * characters, a name of at most 63); returns an error message or undefined.
 */
export function checkQualifiedName(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    if (prefix === "") return "prefix part must be non-empty";
    const err = checkName(prefix);
    if (err) return `prefix part ${err}`;
  }
  if (name === "") return "name part must be non-empty";
  if (name.length > 63) return "name part must be no more than 63 characters";
  if (!qualifiedNamePart.test(name))
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

export function checkLabel(name: string): string | undefined {
  if (name.length > 63) return "must be no more than 63 characters";
  if (!dns1123Label.test(name))
    return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
  return undefined;
}

/** Human-readable age as kubectl prints it (e.g. `5s`, `3m2s`, `4h`, `2d`). */
export function age(since: string | undefined, now = Date.now()): string {
  if (!since) return "<unknown>";
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ""}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}
