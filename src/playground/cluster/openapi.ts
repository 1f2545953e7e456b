import { createHash } from "node:crypto";
import { serverVersion } from "./discovery.js";
import { encodeMessage } from "./protobuf/codec.js";
import { groupVersion, type ResourceType } from "./resources.js";
import { clone, isObject } from "./util.js";

/**
 * Minimal OpenAPI documents: enough for kubectl to find out that the server validates fields
 * (`fieldValidation` on PATCH) and to read CRD schemas (`kubectl explain`). Built-in kinds are
 * described loosely (`x-kubernetes-preserve-unknown-fields`): kubectl carries their exact types.
 */

const reversedGroup = (group: string) => (group ? group.split(".").reverse().join(".") : "io.k8s.api.core");

function definitionName(t: ResourceType): string {
  return `${reversedGroup(t.group)}.${t.version}.${t.kind}`;
}

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function schemaOf(t: ResourceType): Record<string, unknown> {
  const base = isObject(t.openAPIV3Schema)
    ? (clone(t.openAPIV3Schema) as Record<string, unknown>)
    : { type: "object", "x-kubernetes-preserve-unknown-fields": true };
  return {
    ...base,
    "x-kubernetes-group-version-kind": [{ group: t.group, kind: t.kind, version: t.version }],
  };
}

const param = (name: string, required = false) => ({
  name,
  in: "query",
  required,
  schema: { type: "string" },
});

function operations(t: ResourceType): Record<string, unknown> {
  const gvk = { group: t.group, version: t.version, kind: t.kind };
  const ref = { $ref: `#/components/schemas/${definitionName(t)}` };
  const body = { content: { "application/json": { schema: ref } } };
  const ok = {
    responses: { "200": { description: "OK", content: { "application/json": { schema: ref } } } },
  };
  const writeParams = [param("dryRun"), param("fieldManager"), param("fieldValidation")];
  const base = gvPath(t.group, t.version);
  const prefix = t.namespaced ? `/${base}/namespaces/{namespace}/${t.resource}` : `/${base}/${t.resource}`;
  const ext = { "x-kubernetes-group-version-kind": gvk };
  const item: Record<string, unknown> = {
    get: { ...ok, ...ext, "x-kubernetes-action": "get" },
    put: { ...ok, ...ext, requestBody: body, parameters: writeParams, "x-kubernetes-action": "put" },
    patch: {
      ...ok,
      ...ext,
      requestBody: { content: { "application/merge-patch+json": { schema: { type: "object" } } } },
      parameters: [...writeParams, param("force")],
      "x-kubernetes-action": "patch",
    },
    delete: { ...ok, ...ext, "x-kubernetes-action": "delete" },
  };
  if (t.virtual) return { [prefix]: { post: { ...ok, ...ext, requestBody: body, parameters: writeParams } } };
  return {
    [prefix]: {
      get: { ...ok, ...ext, "x-kubernetes-action": "list" },
      post: { ...ok, ...ext, requestBody: body, parameters: writeParams },
    },
    [`${prefix}/{name}`]: item,
    ...(t.status ? { [`${prefix}/{name}/status`]: item } : {}),
  };
}

/** `/openapi/v3`: the index of group-version documents. */
export function openapiV3Index(types: ResourceType[]): Record<string, unknown> {
  const gvs = new Set(types.map((t) => gvPath(t.group, t.version)));
  const paths: Record<string, unknown> = {};
  for (const gv of [...gvs].sort()) {
    const hash = createHash("sha256")
      .update(JSON.stringify(openapiV3Document(types, gv)))
      .digest("hex")
      .slice(0, 32)
      .toUpperCase();
    paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${hash}` };
  }
  return { paths };
}

/** `/openapi/v3/{api/v1 | apis/group/version}`. */
export function openapiV3Document(types: ResourceType[], gv: string): Record<string, unknown> | undefined {
  const ts = types.filter((t) => gvPath(t.group, t.version) === gv);
  if (ts.length === 0) return undefined;
  const schemas: Record<string, unknown> = {};
  let paths: Record<string, unknown> = {};
  for (const t of ts) {
    schemas[definitionName(t)] = schemaOf(t);
    paths = { ...paths, ...operations(t) };
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: serverVersion.gitVersion },
    paths,
    components: { schemas },
  };
}

/** `/openapi/v2` (JSON): definitions of every kind. */
export function openapiV2(types: ResourceType[]): Record<string, unknown> {
  const definitions: Record<string, unknown> = {};
  for (const t of types) definitions[definitionName(t)] = schemaOf(t);
  return {
    swagger: "2.0",
    info: { title: "Kubernetes", version: serverVersion.gitVersion },
    paths: {},
    definitions,
    "x-served-group-versions": [...new Set(types.map((t) => groupVersion(t)))],
  };
}

/** The media type kubectl asks `/openapi/v2` for. */
export const openapiV2ProtobufType = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
/** The same media type as the server names it in answers (`@` is not valid in a Content-Type). */
export const openapiV2ProtobufContentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/**
 * `/openapi/v2` in protobuf: a document without definitions. kubectl reads it only to validate, on
 * the client, kinds that the v3 documents do not cover (kinds the server does not serve); finding no
 * definition it skips that step and reports an unserved kind as `no matches for kind`.
 */
export function openapiV2Protobuf(): Buffer {
  return Buffer.from(
    encodeMessage("OpenAPIDocument", {
      swagger: "2.0",
      info: { title: "Kubernetes", version: serverVersion.gitVersion },
    }),
  );
}
