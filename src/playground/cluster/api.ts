// Over 450 lines: the API semantics of one object store (types, writes, deletion, scale, watches).
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  gone,
  invalid,
  notFound,
  unsupportedMediaType,
  type StatusCause,
} from "./errors.js";
import { kindHooks } from "./builtins.js";
import { crdToTypes, validateCrd } from "./crd.js";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch.js";
import { builtinResources, groupVersion, typeKey, type ResourceType } from "./resources.js";
import {
  formatSelector,
  fromLabelSelectorObject,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  type FieldRequirement,
  type Selector,
} from "./selectors.js";
import { ObjectStore, type EventType, type StoreEvent } from "./store.js";
import { parse as parseYaml } from "yaml";
import {
  checkBody,
  checkLabel,
  checkName,
  checkQualifiedName,
  clone,
  deepEqual,
  getPath,
  isObject,
  meta,
  newUID,
  randomSuffix,
  setPath,
  timestamp,
  type KObject,
  type ObjectMeta,
} from "./util.js";

export type FieldValidation = "Strict" | "Warn" | "Ignore";

export interface WriteOptions {
  dryRun?: boolean;
  fieldValidation?: FieldValidation;
  /** Collected `Warning` messages (unknown fields with `Warn`). */
  warnings?: string[];
}

export interface DeleteOptions {
  propagationPolicy?: "Background" | "Foreground" | "Orphan";
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface ListResult {
  items: KObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export type PatchType = "json" | "merge" | "strategic" | "apply";

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Resume point; "" or undefined sends the current objects as ADDED first, like the API server. */
  resourceVersion?: string;
  /** With resourceVersion set: still send the current state first (sendInitialEvents). */
  sendInitialEvents?: boolean;
}

export interface WatchEvent {
  type: EventType | "BOOKMARK" | "ERROR";
  object: KObject;
}

export interface WatchHandle {
  stop(): void;
}

/** The key under which the group-version-resource is routed. */
const routeKey = (group: string, version: string, resource: string) => `${group}/${version}/${resource}`;

const conflictMessage =
  "the object has been modified; please apply your changes to the latest version and try again";

function parseApplyBody(text: string): unknown {
  try {
    return parseYaml(text);
  } catch (err) {
    throw badRequest(
      `apply patch: the body could not be decoded: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** A namespace's `spec.finalizers` (the `kubernetes` finalizer of the namespace controller). */
function namespaceFinalizers(ns: KObject): string[] {
  const f = ns.spec?.finalizers;
  return Array.isArray(f) ? f.filter((x): x is string => typeof x === "string") : [];
}

/** Kubernetes' limit on the total size of an object's annotations (keys and values). */
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

/** Label and annotation rules of ObjectMeta: qualified-name keys, 63-character values, 256 KiB. */
function metadataCauses(m: ObjectMeta | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const labels = isObject(m?.labels) ? m.labels : {};
  for (const [k, v] of Object.entries(labels)) {
    const keyError = checkQualifiedName(k);
    if (keyError)
      causes.push({
        reason: "FieldValueInvalid",
        field: "metadata.labels",
        message: `Invalid value: ${JSON.stringify(k)}: ${keyError}`,
      });
    if (typeof v !== "string" || v.length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v))
      causes.push({
        reason: "FieldValueInvalid",
        field: `metadata.labels`,
        message: `Invalid value: ${JSON.stringify(v)}: label ${k} must be 63 characters or less and consist of alphanumerics, '-', '_' or '.'`,
      });
  }
  const annotations = isObject(m?.annotations) ? m.annotations : {};
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    const keyError = checkQualifiedName(k);
    if (keyError)
      causes.push({
        reason: "FieldValueInvalid",
        field: "metadata.annotations",
        message: `Invalid value: ${JSON.stringify(k)}: ${keyError}`,
      });
    if (typeof v !== "string")
      causes.push({
        reason: "FieldValueInvalid",
        field: `metadata.annotations`,
        message: `Invalid value: annotation ${k} must be a string`,
      });
    size += Buffer.byteLength(k) + Buffer.byteLength(String(v));
  }
  if (size > MAX_ANNOTATIONS_BYTES)
    causes.push({
      reason: "FieldValueTooLong",
      field: "metadata.annotations",
      message: `Too long: may not be more than ${MAX_ANNOTATIONS_BYTES} bytes`,
    });
  return causes;
}

/** Strips metadata and status: what decides whether `metadata.generation` moves. */
function specPart(obj: KObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

/**
 * The API semantics on top of the object store: types (built-in and from CRDs), defaulting,
 * validation, resourceVersion concurrency, status/scale subresources, patches, finalizers and
 * deletion, label/field selectors, paging and watches. The HTTP server and the emulated
 * controllers both go through it.
 */
export class ClusterApi {
  readonly objects: ObjectStore;
  private readonly routes = new Map<string, ResourceType>();
  private readonly kinds = new Map<string, ResourceType>();
  /** CRD name → the route keys it installed. */
  private readonly crdRoutes = new Map<string, string[]>();
  private readonly typeListeners = new Set<() => void>();

  constructor(options: { historySize?: number } = {}) {
    this.objects = new ObjectStore(options.historySize);
    for (const t of builtinResources()) this.addType(t);
  }

  // ---- types -------------------------------------------------------------------------------

  private addType(t: ResourceType): void {
    this.routes.set(routeKey(t.group, t.version, t.resource), t);
    this.kinds.set(`${groupVersion(t)}/${t.kind}`, t);
  }

  /** Called whenever the set of served resources changes (discovery caches listen). */
  onTypesChanged(listener: () => void): () => void {
    this.typeListeners.add(listener);
    return () => this.typeListeners.delete(listener);
  }

  types(): ResourceType[] {
    return [...this.routes.values()];
  }

  resolve(group: string, version: string, resource: string): ResourceType | undefined {
    return this.routes.get(routeKey(group, version, resource));
  }

  /** Finds a type by `apiVersion` and `kind` (or plural resource name in place of the kind). */
  typeFor(apiVersion: string, kindOrResource: string): ResourceType {
    const t = this.kinds.get(`${apiVersion}/${kindOrResource}`);
    if (t) return t;
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    const r = this.resolve(group, version, kindOrResource);
    if (r) return r;
    throw new ApiError(
      404,
      "NotFound",
      `the server could not find the requested resource (${apiVersion} ${kindOrResource})`,
    );
  }

  private installCrd(crd: KObject): void {
    const name = crd.metadata!.name!;
    this.uninstallCrd(name, false);
    const types = crdToTypes(crd);
    for (const t of types) this.addType(t);
    this.crdRoutes.set(
      name,
      types.map((t) => routeKey(t.group, t.version, t.resource)),
    );
    for (const l of this.typeListeners) l();
  }

  private uninstallCrd(name: string, dropData: boolean): void {
    const keys = this.crdRoutes.get(name);
    if (!keys) return;
    for (const k of keys) {
      const t = this.routes.get(k);
      this.routes.delete(k);
      if (t) {
        this.kinds.delete(`${groupVersion(t)}/${t.kind}`);
        if (dropData) this.objects.removeAll(typeKey(t.group, t.resource));
      }
    }
    this.crdRoutes.delete(name);
    for (const l of this.typeListeners) l();
  }

  // ---- reads -------------------------------------------------------------------------------

  private key(t: ResourceType): string {
    return typeKey(t.group, t.resource);
  }

  private ns(t: ResourceType, namespace: string | undefined): string {
    return t.namespaced ? (namespace ?? "") : "";
  }

  /** The object with `apiVersion`/`kind` set for the requested version; a copy. */
  private present(t: ResourceType, obj: KObject): KObject {
    const out = clone(obj);
    out.apiVersion = groupVersion(t);
    out.kind = t.kind;
    return out;
  }

  get(t: ResourceType, namespace: string | undefined, name: string): KObject {
    const obj = this.objects.peek(this.key(t), this.ns(t, namespace), name);
    if (!obj) throw notFound(t.resource, t.group, name);
    return this.present(t, obj);
  }

  /** Like `get` but undefined when missing, and without copying (do not mutate). */
  peek(t: ResourceType, namespace: string | undefined, name: string): KObject | undefined {
    return this.objects.peek(this.key(t), this.ns(t, namespace), name);
  }

  /** Objects of a type in a namespace (all namespaces when undefined), without copying. */
  peekList(t: ResourceType, namespace?: string): KObject[] {
    return this.objects.list(this.key(t), t.namespaced ? namespace : undefined);
  }

  list(t: ResourceType, opts: ListOptions = {}, copy = true): ListResult {
    const labels = parseLabelSelector(opts.labelSelector);
    const fields = parseFieldSelector(opts.fieldSelector);
    const rv = this.objects.currentRV();
    let start: string | undefined;
    if (opts.continue) {
      try {
        const tok = JSON.parse(Buffer.from(opts.continue, "base64url").toString()) as {
          start: string;
          rv: number;
        };
        start = tok.start;
        if (tok.rv < this.objects.oldestResumableRV())
          throw gone("The provided continue parameter is too old to display a consistent list result.");
      } catch (err) {
        if (err instanceof ApiError) throw err;
        throw badRequest("continue key is not valid: invalid continue token");
      }
    }
    const all = this.peekList(t, opts.namespace);
    const out: KObject[] = [];
    let last: string | undefined;
    let remaining = 0;
    // the store lists by namespace, then name: resume after the (namespace, name) of the token
    const slash = start?.indexOf("/") ?? -1;
    const after = start === undefined ? undefined : [start.slice(0, slash), start.slice(slash + 1)];
    for (const o of all) {
      const ons = o.metadata?.namespace ?? "";
      const oname = o.metadata?.name ?? "";
      const k = `${ons}/${oname}`;
      if (after && (ons < after[0] || (ons === after[0] && oname <= after[1]))) continue;
      if (!matchesLabels(labels, o.metadata?.labels) || !matchesFields(fields, o)) continue;
      if (opts.limit && out.length >= opts.limit) {
        remaining++;
        continue;
      }
      out.push(o);
      last = k;
    }
    // without `copy` the items share nested objects with the store (the server only serializes them)
    const items = out.map((o) => ({ ...(copy ? clone(o) : o), apiVersion: groupVersion(t), kind: t.kind }));
    const res: ListResult = { items, resourceVersion: String(rv) };
    if (remaining > 0 && last !== undefined) {
      res.continue = Buffer.from(JSON.stringify({ start: last, rv })).toString("base64url");
      res.remainingItemCount = remaining;
    }
    return res;
  }

  // ---- writes ------------------------------------------------------------------------------

  private checkNamespace(t: ResourceType, namespace: string, name: string): void {
    if (!t.namespaced) return;
    if (!namespace) throw badRequest("the namespace of the object is required");
    const ns = this.objects.peek("/namespaces", "", namespace);
    if (!ns) throw notFound("namespaces", "", namespace);
    if (ns.metadata?.deletionTimestamp)
      throw new ApiError(
        403,
        "Forbidden",
        `${t.resource} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
      );
  }

  /** Defaulting, pruning and validation shared by create and update. */
  private admit(t: ResourceType, obj: KObject, opts: WriteOptions): void {
    const name = obj.metadata?.name ?? "";
    const hooks = kindHooks[this.key(t)];
    hooks?.defaults?.(obj);
    const causes: StatusCause[] = [];
    if (t.normalize) {
      const unknown = t.normalize(obj);
      if (unknown.length > 0) {
        const mode = opts.fieldValidation ?? "Warn";
        if (mode === "Strict")
          throw badRequest(
            `${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(", ")}`,
          );
        if (mode === "Warn") for (const f of unknown) opts.warnings?.push(`unknown field "${f}"`);
      }
    }
    if (t.validate) causes.push(...t.validate(obj, false).causes);
    if (hooks?.validate) causes.push(...hooks.validate(obj));
    if (this.key(t) === "apiextensions.k8s.io/customresourcedefinitions") causes.push(...validateCrd(obj));
    causes.push(...metadataCauses(obj.metadata));
    if (t.resource === "namespaces" && t.group === "") {
      const err = checkLabel(name);
      if (err)
        causes.push({
          reason: "FieldValueInvalid",
          field: "metadata.name",
          message: `Invalid value: ${JSON.stringify(name)}: ${err}`,
        });
    }
    if (causes.length > 0) throw invalid(t.kind, t.group, name, causes);
  }

  create(t: ResourceType, input: KObject, namespace?: string, opts: WriteOptions = {}): KObject {
    if (t.virtual) throw new ApiError(405, "MethodNotAllowed", `${t.resource} are handled by the server`);
    if (!isObject(input)) throw badRequest("the request body must be an object");
    const obj = clone(input);
    const m = meta(obj);
    if (obj.kind !== undefined && obj.kind !== t.kind)
      throw badRequest(
        `the API version in the data (${String(obj.apiVersion)}) and kind (${String(obj.kind)}) do not match the resource ${t.resource}`,
      );
    const ns = t.namespaced ? (namespace ?? m.namespace ?? "default") : "";
    if (t.namespaced && m.namespace && m.namespace !== ns)
      throw badRequest(
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    if (t.namespaced) m.namespace = ns;
    else delete m.namespace;
    if (!m.name && m.generateName) m.name = `${m.generateName}${randomSuffix()}`;
    if (!m.name)
      throw invalid(t.kind, t.group, "", [
        {
          reason: "FieldValueRequired",
          field: "metadata.name",
          message: "Required value: name or generateName is required",
        },
      ]);
    const nameError = checkName(m.name);
    if (nameError)
      throw invalid(t.kind, t.group, m.name, [
        {
          reason: "FieldValueInvalid",
          field: "metadata.name",
          message: `Invalid value: ${JSON.stringify(m.name)}: ${nameError}`,
        },
      ]);
    this.checkNamespace(t, ns, m.name);
    if (this.objects.peek(this.key(t), ns, m.name)) throw alreadyExists(t.resource, t.group, m.name);
    const hooks = kindHooks[this.key(t)];
    if ((t.status && t.custom) || hooks?.resetStatusOnCreate) delete obj.status;
    obj.apiVersion = groupVersion(t);
    obj.kind = t.kind;
    this.admit(t, obj, opts);
    m.uid = newUID();
    m.creationTimestamp = timestamp();
    m.generation = 1;
    delete m.resourceVersion;
    delete m.deletionTimestamp;
    if (t.resource === "customresourcedefinitions") this.prepareCrd(obj);
    if (opts.dryRun) return this.present(t, obj);
    const stored = this.objects.put(this.key(t), obj);
    if (t.resource === "customresourcedefinitions" && t.group === "apiextensions.k8s.io")
      this.installCrd(stored);
    return this.present(t, stored);
  }

  private prepareCrd(obj: KObject): void {
    const spec = obj.spec ?? {};
    const names = isObject(spec.names) ? spec.names : {};
    obj.status = {
      acceptedNames: clone(names),
      storedVersions: ((spec.versions as Array<Record<string, unknown>>) ?? [])
        .filter((v) => v.storage)
        .map((v) => v.name),
      conditions: [
        {
          type: "NamesAccepted",
          status: "True",
          reason: "NoConflicts",
          message: "no conflicts found",
          lastTransitionTime: timestamp(),
        },
        {
          type: "Established",
          status: "True",
          reason: "InitialNamesAccepted",
          message: "the initial names have been accepted",
          lastTransitionTime: timestamp(),
        },
      ],
    };
  }

  /**
   * Replaces an object (PUT). `subresource: "status"` changes only the status; the main resource
   * ignores status changes when the type has a status subresource.
   */
  update(
    t: ResourceType,
    input: KObject,
    namespace?: string,
    opts: WriteOptions & { subresource?: "status"; name?: string } = {},
  ): KObject {
    if (!isObject(input)) throw badRequest("the request body must be an object");
    const ns = this.ns(t, namespace ?? input.metadata?.namespace);
    const name = opts.name ?? input.metadata?.name;
    if (!name) throw badRequest("name is required");
    if (input.metadata?.name && input.metadata.name !== name)
      throw badRequest(
        `the name of the object (${input.metadata.name}) does not match the name on the URL (${name})`,
      );
    if (t.namespaced && input.metadata?.namespace && input.metadata.namespace !== ns)
      throw badRequest(
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    const existing = this.objects.peek(this.key(t), ns, name);
    if (!existing) throw notFound(t.resource, t.group, name);
    const rv = input.metadata?.resourceVersion;
    if (rv !== undefined && rv !== "" && rv !== existing.metadata!.resourceVersion)
      throw conflict(t.resource, t.group, name, conflictMessage);
    if ((rv === undefined || rv === "") && t.custom)
      throw invalid(t.kind, t.group, name, [
        {
          reason: "FieldValueInvalid",
          field: "metadata.resourceVersion",
          message: "Invalid value: 0x0: must be specified for an update",
        },
      ]);
    let obj: KObject;
    if (opts.subresource === "status") {
      obj = clone(existing);
      if (input.status === undefined) delete obj.status;
      else obj.status = clone(input.status);
    } else {
      obj = clone(input);
      if (t.status) {
        if (existing.status === undefined) delete obj.status;
        else obj.status = clone(existing.status);
      }
      const m = meta(obj);
      const em = existing.metadata!;
      m.namespace = em.namespace;
      if (!t.namespaced) delete m.namespace;
      m.name = em.name;
      m.uid = em.uid;
      m.creationTimestamp = em.creationTimestamp;
      m.generation = em.generation;
      if (em.deletionTimestamp) m.deletionTimestamp = em.deletionTimestamp;
      else delete m.deletionTimestamp;
      if (em.deletionGracePeriodSeconds !== undefined)
        m.deletionGracePeriodSeconds = em.deletionGracePeriodSeconds;
      if (em.deletionTimestamp) {
        const added = (m.finalizers ?? []).filter((f) => !(em.finalizers ?? []).includes(f));
        if (added.length > 0)
          throw new ApiError(
            422,
            "Invalid",
            `${t.kind} "${name}" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
          );
      }
    }
    obj.apiVersion = groupVersion(t);
    obj.kind = t.kind;
    this.admit(t, obj, opts);
    if (opts.subresource !== "status" && !deepEqual(specPart(obj), specPart(existing)))
      meta(obj).generation = (existing.metadata!.generation ?? 1) + 1;
    meta(obj).resourceVersion = existing.metadata!.resourceVersion;
    if (
      t.resource === "customresourcedefinitions" &&
      t.group === "apiextensions.k8s.io" &&
      opts.subresource !== "status"
    )
      this.prepareCrd(obj);
    if (deepEqual(obj, { ...existing, apiVersion: obj.apiVersion, kind: obj.kind }))
      return this.present(t, existing);
    if (opts.dryRun) return this.present(t, obj);
    if (obj.metadata?.deletionTimestamp && (obj.metadata.finalizers ?? []).length === 0) {
      const removed = this.objects.remove(this.key(t), ns, name);
      this.afterRemove(t, removed!);
      return this.present(t, removed!);
    }
    const stored = this.objects.put(this.key(t), obj);
    if (t.resource === "customresourcedefinitions" && t.group === "apiextensions.k8s.io")
      this.installCrd(stored);
    return this.present(t, stored);
  }

  /** Applies a patch of the given type and stores the result (through `update`). */
  patch(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    body: unknown,
    opts: WriteOptions & { subresource?: "status" } = {},
  ): KObject {
    const ns = this.ns(t, namespace);
    const existing = this.objects.peek(this.key(t), ns, name);
    if (type === "apply") {
      const applied = (typeof body === "string" ? parseApplyBody(body) : body) as KObject;
      if (!isObject(applied)) throw badRequest("apply patch: the body must be an object");
      checkBody(applied, "apply patch");
      if (!existing) {
        if (opts.subresource) throw notFound(t.resource, t.group, name);
        return this.create(t, { ...applied, metadata: { ...(applied.metadata ?? {}), name } }, ns, opts);
      }
      body = applied;
      type = t.custom ? "merge" : "strategic";
    }
    if (!existing) throw notFound(t.resource, t.group, name);
    const base = this.present(t, existing);
    let patched: unknown;
    switch (type) {
      case "json":
        patched = jsonPatch(base, body);
        break;
      case "merge":
        patched = mergePatch(base, body);
        break;
      case "strategic":
        if (t.custom) throw unsupportedMediaType("application/strategic-merge-patch+json");
        patched = strategicMergePatch(base, body, t.kind);
        break;
    }
    if (!isObject(patched)) throw badRequest("the patch produced a value that is not an object");
    const p = patched as KObject;
    meta(p);
    if (!p.metadata!.resourceVersion) p.metadata!.resourceVersion = existing.metadata!.resourceVersion;
    return this.update(t, p, ns, { ...opts, name });
  }

  /** Deletes an object, honouring finalizers, preconditions and the propagation policy. */
  delete(t: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions = {}): KObject {
    const ns = this.ns(t, namespace);
    const existing = this.objects.peek(this.key(t), ns, name);
    if (!existing) throw notFound(t.resource, t.group, name);
    const pre = opts.preconditions ?? {};
    if (pre.uid && pre.uid !== existing.metadata!.uid)
      throw conflict(
        t.resource,
        t.group,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata!.uid}`,
      );
    if (pre.resourceVersion && pre.resourceVersion !== existing.metadata!.resourceVersion)
      throw conflict(
        t.resource,
        t.group,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.metadata!.resourceVersion}`,
      );
    if (opts.dryRun) return this.present(t, existing);
    if (t.resource === "namespaces" && t.group === "" && namespaceFinalizers(existing).length > 0) {
      // the namespace controller empties it and removes the `kubernetes` finalizer (terminateNamespace)
      if (existing.metadata!.deletionTimestamp) return this.present(t, existing);
      const obj = clone(existing);
      obj.metadata!.deletionTimestamp = timestamp();
      obj.metadata!.deletionGracePeriodSeconds = 0;
      obj.status = { ...(obj.status ?? {}), phase: "Terminating" };
      return this.present(t, this.objects.put(this.key(t), obj));
    }
    const policy = opts.propagationPolicy ?? "Background";
    if (policy === "Orphan") this.orphanDependents(existing.metadata!.uid!);
    const finalizers = [...(existing.metadata!.finalizers ?? [])];
    if (
      policy === "Foreground" &&
      !finalizers.includes("foregroundDeletion") &&
      this.hasDependents(existing.metadata!.uid!)
    )
      finalizers.push("foregroundDeletion");
    if (finalizers.length > 0) {
      if (existing.metadata!.deletionTimestamp && deepEqual(finalizers, existing.metadata!.finalizers))
        return this.present(t, existing);
      const obj = clone(existing);
      obj.metadata!.finalizers = finalizers;
      obj.metadata!.deletionTimestamp ??= timestamp();
      obj.metadata!.deletionGracePeriodSeconds ??= 0;
      return this.present(t, this.objects.put(this.key(t), obj));
    }
    const removed = this.objects.remove(this.key(t), ns, name)!;
    this.afterRemove(t, removed);
    return this.present(t, removed);
  }

  private afterRemove(t: ResourceType, removed: KObject): void {
    if (t.resource === "customresourcedefinitions" && t.group === "apiextensions.k8s.io")
      this.uninstallCrd(removed.metadata!.name!, true);
  }

  /** Deletes every object of a type matching the selectors (DELETE on a collection). */
  deleteCollection(t: ResourceType, opts: ListOptions & DeleteOptions = {}): KObject[] {
    const items = this.list(t, {
      namespace: opts.namespace,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
    }).items;
    const out: KObject[] = [];
    for (const o of items) {
      try {
        out.push(this.delete(t, o.metadata?.namespace, o.metadata!.name!, opts));
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    return out;
  }

  /**
   * One pass of the namespace controller over a terminating namespace: deletes the objects left in
   * it (their own finalizers are honoured), and once none is left drops the `kubernetes` finalizer,
   * which removes the namespace. Returns true when the namespace is gone.
   */
  terminateNamespace(namespace: string): boolean {
    const nsType = this.typeFor("v1", "Namespace");
    const ns = this.objects.peek("/namespaces", "", namespace);
    if (!ns) return true;
    if (!ns.metadata?.deletionTimestamp) return false;
    const seen = new Set<string>();
    for (const t of this.types()) {
      const k = this.key(t);
      if (!t.namespaced || t.virtual || seen.has(k)) continue;
      seen.add(k);
      for (const o of this.objects.list(k, namespace)) {
        if (o.metadata?.deletionTimestamp) continue;
        try {
          this.delete(t, namespace, o.metadata!.name!);
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        }
      }
    }
    for (const k of seen) if (this.objects.list(k, namespace).length > 0) return false;
    const obj = clone(ns);
    obj.spec = { ...(obj.spec ?? {}), finalizers: namespaceFinalizers(ns).filter((f) => f !== "kubernetes") };
    if ((obj.metadata!.finalizers ?? []).length === 0 && namespaceFinalizers(obj).length === 0) {
      const removed = this.objects.remove("/namespaces", "", namespace);
      if (removed) this.afterRemove(nsType, removed);
      return true;
    }
    this.objects.put("/namespaces", obj);
    return false;
  }

  /** Objects of a type in a namespace whose controller (ownerReference with `controller`) is `uid`. */
  peekControlled(t: ResourceType, namespace: string, uid: string): KObject[] {
    return this.objects
      .owned(this.key(t), uid, namespace)
      .filter((o) => o.metadata?.ownerReferences?.some((r) => r.controller && r.uid === uid));
  }

  /** Every stored object (of any type) whose ownerReferences name `uid`. */
  dependentsOf(uid: string): Array<{ type: ResourceType; object: KObject }> {
    const out: Array<{ type: ResourceType; object: KObject }> = [];
    const seen = new Set<string>();
    for (const t of this.types()) {
      const k = this.key(t);
      if (t.virtual || seen.has(k)) continue;
      seen.add(k);
      for (const object of this.objects.owned(k, uid)) out.push({ type: t, object });
    }
    return out;
  }

  private hasDependents(uid: string): boolean {
    return this.dependentsOf(uid).length > 0;
  }

  private orphanDependents(uid: string): void {
    for (const { type, object } of this.dependentsOf(uid)) {
      const o = clone(object);
      o.metadata!.ownerReferences = o.metadata!.ownerReferences!.filter((r) => r.uid !== uid);
      if (o.metadata!.ownerReferences.length === 0) delete o.metadata!.ownerReferences;
      this.objects.put(this.key(type), o);
    }
  }

  /** Whether any object of any type has this uid (owner lookup for garbage collection). */
  uidExists(uid: string): boolean {
    return this.objects.locate(uid) !== undefined;
  }

  // ---- scale subresource -------------------------------------------------------------------

  getScale(t: ResourceType, namespace: string | undefined, name: string): KObject {
    if (!t.scale) throw notFound(t.resource, t.group, `${name}/scale`);
    const obj = this.get(t, namespace, name);
    const sel = t.scale.labelSelectorPath ? getPath(obj, t.scale.labelSelectorPath) : undefined;
    const selector = isObject(sel)
      ? formatSelector(fromLabelSelectorObject(sel))
      : typeof sel === "string"
        ? sel
        : undefined;
    return {
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      metadata: {
        name,
        namespace: obj.metadata?.namespace,
        uid: obj.metadata?.uid,
        resourceVersion: obj.metadata?.resourceVersion,
        creationTimestamp: obj.metadata?.creationTimestamp,
      },
      spec: { replicas: (getPath(obj, t.scale.specReplicasPath) as number | undefined) ?? 0 },
      status: {
        replicas: (getPath(obj, t.scale.statusReplicasPath) as number | undefined) ?? 0,
        ...(selector !== undefined ? { selector } : {}),
      },
    };
  }

  updateScale(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    scale: KObject,
    opts: WriteOptions = {},
  ): KObject {
    if (!t.scale) throw notFound(t.resource, t.group, `${name}/scale`);
    const replicas = scale.spec?.replicas;
    if (!Number.isInteger(replicas) || (replicas as number) < 0)
      throw invalid("Scale", "autoscaling", name, [
        {
          reason: "FieldValueInvalid",
          field: "spec.replicas",
          message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
        },
      ]);
    const existing = this.get(t, namespace, name);
    const rv = scale.metadata?.resourceVersion;
    if (rv && rv !== existing.metadata!.resourceVersion)
      throw conflict(t.resource, t.group, name, conflictMessage);
    setPath(existing, t.scale.specReplicasPath, replicas);
    this.update(t, existing, namespace, { ...opts, name });
    return this.getScale(t, namespace, name);
  }

  patchScale(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    body: unknown,
    opts: WriteOptions = {},
  ): KObject {
    const current = this.getScale(t, namespace, name);
    let patched: unknown;
    if (type === "json") patched = jsonPatch(current, body);
    else if (type === "apply")
      patched = mergePatch(current, typeof body === "string" ? parseApplyBody(body) : body);
    else patched = mergePatch(current, body);
    return this.updateScale(t, namespace, name, patched as KObject, opts);
  }

  // ---- watch -------------------------------------------------------------------------------

  /**
   * Streams changes of a type to `onEvent`. Objects that start or stop matching the selectors are
   * sent as ADDED / DELETED like the API server does. A resourceVersion older than the retained
   * history yields one ERROR event with a `410 Gone` Status and stops.
   */
  watch(t: ResourceType, opts: WatchOptions, onEvent: (e: WatchEvent) => void): WatchHandle {
    const labels: Selector = parseLabelSelector(opts.labelSelector);
    const fields: FieldRequirement[] = parseFieldSelector(opts.fieldSelector);
    const k = this.key(t);
    const namespace = t.namespaced ? opts.namespace : undefined;
    const matches = (o: KObject | undefined) =>
      !!o &&
      (namespace === undefined || o.metadata?.namespace === namespace) &&
      matchesLabels(labels, o.metadata?.labels) &&
      matchesFields(fields, o);
    let stopped = false;
    const deliver = (e: StoreEvent) => {
      if (stopped || e.typeKey !== k) return;
      const now = matches(e.object);
      const before = e.type === "MODIFIED" ? matches(e.previous) : now;
      let type: EventType | undefined;
      if (e.type === "ADDED") type = now ? "ADDED" : undefined;
      else if (e.type === "DELETED") type = matches(e.previous) ? "DELETED" : undefined;
      else if (now && before) type = "MODIFIED";
      else if (now) type = "ADDED";
      else if (before) type = "DELETED";
      if (type) onEvent({ type, object: this.present(t, e.object) });
    };
    const rvText = opts.resourceVersion ?? "";
    if (rvText === "" || rvText === "0" || opts.sendInitialEvents) {
      for (const o of this.peekList(t, namespace))
        if (matches(o)) onEvent({ type: "ADDED", object: this.present(t, o) });
    } else {
      const rv = Number(rvText);
      if (!Number.isFinite(rv)) throw badRequest(`invalid resourceVersion "${rvText}"`);
      const events = this.objects.eventsSince(rv);
      if (!events) {
        onEvent({
          type: "ERROR",
          object: gone(`too old resource version: ${rv} (${this.objects.oldestResumableRV()})`).toStatus(),
        });
        return { stop() {} };
      }
      for (const e of events) deliver(e);
    }
    const unsubscribe = this.objects.subscribe(deliver);
    return {
      stop() {
        stopped = true;
        unsubscribe();
      },
    };
  }
}
