import protobuf from "protobufjs";
import { ApiError, badRequest } from "../errors.js";
import { checkBody } from "../util.js";
import { kinds, messages, type MessageTable } from "./schema.js";

/** The media type of Kubernetes' protobuf encoding. */
export const protobufMediaType = "application/vnd.kubernetes.protobuf";

/** Every Kubernetes protobuf body starts with these four bytes, then a `runtime.Unknown` message. */
const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

const scalars = new Set(["string", "bool", "int32", "int64", "bytes"]);

interface FieldInfo {
  name: string;
  type: string;
  repeated: boolean;
  map: boolean;
  optional: boolean;
  embedded: boolean;
}

/** Parses one field of the table's notation (see `schema.ts`). */
function parseField(key: string, spec: string): FieldInfo & { id: number } {
  const m = /^(\d+) (\[\])?(\{)?([A-Za-z0-9]+)(\})?(\?)?$/.exec(spec);
  if (!m || Boolean(m[3]) !== Boolean(m[5])) throw new Error(`bad protobuf field ${key}: "${spec}"`);
  const embedded = key.startsWith("...");
  return {
    id: Number(m[1]),
    name: embedded ? key.slice(3) : key,
    type: m[4],
    repeated: Boolean(m[2]),
    map: Boolean(m[3]),
    optional: Boolean(m[6]),
    embedded,
  };
}

/** Builds the protobufjs root and the per-message field notes used to shape the JSON. */
function build(table: MessageTable): { root: protobuf.Root; fields: Map<string, Map<string, FieldInfo>> } {
  const nested: Record<string, protobuf.INamespace | protobuf.IType> = {};
  const fields = new Map<string, Map<string, FieldInfo>>();
  for (const [message, spec] of Object.entries(table)) {
    const json: Record<string, protobuf.IField | protobuf.IMapField> = {};
    const info = new Map<string, FieldInfo>();
    for (const [key, s] of Object.entries(spec)) {
      const f = parseField(key, s);
      if (!scalars.has(f.type) && !table[f.type])
        throw new Error(`protobuf field ${message}.${key} names an unknown message ${f.type}`);
      json[f.name] = f.map
        ? { id: f.id, type: f.type, keyType: "string" }
        : { id: f.id, type: f.type, ...(f.repeated ? { rule: "repeated" } : {}) };
      info.set(f.name, f);
    }
    // proto2: a field read from the wire is kept even when it holds its zero value
    nested[message] = { edition: "proto2", fields: json } as protobuf.IType;
    fields.set(message, info);
  }
  return { root: protobuf.Root.fromJSON({ nested: { k8s: { nested } } }), fields };
}

const schema = build(messages);

function lookup(name: string): protobuf.Type {
  return schema.root.lookupType(`k8s.${name}`);
}

function rfc3339(seconds: number, nanos: number, micro: boolean, where: string): string {
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime()) || nanos < 0 || nanos > 999_999_999)
    throw badRequest(`the protobuf body could not be decoded: ${where} is not a valid time`);
  const iso = date.toISOString();
  if (!micro) return iso.replace(/\.\d{3}Z$/, "Z");
  return iso.replace(/\.\d{3}Z$/, `.${String(Math.floor(nanos / 1000)).padStart(6, "0")}Z`);
}

function embeddedJson(raw: unknown, where: string): unknown {
  if (typeof raw !== "string" || raw === "") return undefined;
  const text = Buffer.from(raw, "base64").toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest(`the protobuf body could not be decoded: ${where} holds invalid JSON`);
  }
}

const isZero = (v: unknown): boolean => v === "" || v === 0 || v === false;

/** Turns one decoded value of message `type` into its Kubernetes JSON form. */
function shape(type: string, v: Record<string, unknown>, where: string): unknown {
  switch (type) {
    case "Time":
    case "MicroTime": {
      const seconds = Number(v.seconds ?? 0);
      const nanos = Number(v.nanos ?? 0);
      return seconds === 0 && nanos === 0 ? undefined : rfc3339(seconds, nanos, type === "MicroTime", where);
    }
    case "Quantity":
      return typeof v.string === "string" ? v.string : "0";
    case "IntOrString":
      return Number(v.type ?? 0) === 1 ? (v.strVal ?? "") : (v.intVal ?? 0);
    case "RawExtension":
    case "FieldsV1":
      return embeddedJson(v.raw, where);
    case "ExtraValue":
      return (v.items as unknown[] | undefined) ?? [];
  }
  const out: Record<string, unknown> = {};
  const info = schema.fields.get(type)!;
  for (const [name, value] of Object.entries(v)) {
    const f = info.get(name);
    if (!f || value === undefined || value === null) continue;
    const path = `${where}.${name}`;
    let j: unknown;
    if (scalars.has(f.type)) {
      if (!f.map && !f.repeated && !f.optional && isZero(value)) continue;
      j = value;
    } else if (f.map) {
      j = Object.fromEntries(
        Object.entries(value as Record<string, Record<string, unknown>>).map(([k, x]) => [
          k,
          shape(f.type, x, `${path}[${k}]`),
        ]),
      );
    } else if (f.repeated) {
      j = (value as Array<Record<string, unknown>>).map((x, i) => shape(f.type, x, `${path}[${i}]`));
    } else j = shape(f.type, value as Record<string, unknown>, path);
    if (j === undefined) continue;
    if (f.embedded) Object.assign(out, j);
    else out[name] = j;
  }
  return out;
}

const toObjectOptions: protobuf.IConversionOptions = { longs: Number, bytes: String, defaults: false };

function decodeMessage(type: string, bytes: Uint8Array, where: string): Record<string, unknown> {
  const t = lookup(type);
  let message: protobuf.Message;
  try {
    message = t.decode(bytes);
  } catch (err) {
    throw badRequest(
      `the protobuf body could not be decoded: ${where}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return t.toObject(message, toObjectOptions);
}

const unsupported = (what: string) =>
  new ApiError(
    415,
    "UnsupportedMediaType",
    `the emulator does not decode ${what}: send it as JSON or YAML (kubectl apply -f)`,
  );

/** True for the Kubernetes protobuf media type (parameters ignored). */
export function isProtobuf(contentType: string): boolean {
  return contentType.split(";")[0].trim().toLowerCase() === protobufMediaType;
}

/**
 * Decodes a Kubernetes protobuf body (magic prefix, `runtime.Unknown` envelope, typed message) into
 * the JSON object the API stores. Fields the schema does not list are skipped.
 */
export function decodeProtobuf(body: Buffer): Record<string, unknown> | undefined {
  if (body.length === 0) return undefined;
  if (body.length < magic.length || !body.subarray(0, magic.length).equals(magic))
    throw badRequest("the protobuf body could not be decoded: it does not start with the prefix k8s\\0");
  const envelope = decodeMessage("Unknown", body.subarray(magic.length), "envelope");
  const typeMeta = (envelope.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const apiVersion = typeMeta.apiVersion ?? "";
  const kind = typeMeta.kind ?? "";
  if (envelope.contentEncoding)
    throw unsupported(`protobuf bodies with content encoding ${String(envelope.contentEncoding)}`);
  if (!apiVersion || !kind)
    throw badRequest("the protobuf body could not be decoded: its envelope names no apiVersion and kind");
  const message = kinds[`${apiVersion}/${kind}`];
  if (!message) throw unsupported(`${apiVersion}/${kind} in protobuf`);
  const raw = Buffer.from(typeof envelope.raw === "string" ? envelope.raw : "", "base64");
  const obj = { apiVersion, kind, ...(shape(message, decodeMessage(message, raw, kind), kind) as object) };
  checkBody(obj);
  return obj;
}

/** Encodes a message of the table (used by tests and the OpenAPI v2 document). */
export function encodeMessage(type: string, value: Record<string, unknown>): Uint8Array {
  const t = lookup(type);
  return t.encode(t.fromObject(value)).finish();
}

/** Wraps a typed message into the Kubernetes protobuf envelope, as clients send it. */
export function encodeEnvelope(apiVersion: string, kind: string, raw: Uint8Array): Buffer {
  return Buffer.concat([magic, encodeMessage("Unknown", { typeMeta: { apiVersion, kind }, raw })]);
}
