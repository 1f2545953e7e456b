// Validation of rendered Kubernetes manifests without a cluster.
//
// Two independent checks per object:
// 1. kubernetes-models (MIT, tommy351/kubernetes-models-ts): JSON Schemas generated from the Kubernetes
//    OpenAPI document, compiled to validators — types, required fields, enums, int-or-string, formats.
//    The prometheus-operator and KEDA packages of the same family cover ServiceMonitor and ScaledObject.
// 2. Unknown fields, as `kubectl apply --validate=strict` reports them: every key must be a field of the
//    model in @kubernetes/client-node (generated from the same OpenAPI document). kubernetes-models'
//    schemas allow additional properties, so a misspelt key would otherwise pass.
import * as k8s from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

/** Parses a multi-document YAML stream (helm template / kubectl kustomize output), dropping empty docs. */
export function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`YAML error: ${doc.errors[0].message}`);
    const value = doc.toJS() as K8sObject | null;
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

type ModelCtor = new (data: unknown) => { validate(): void };

async function modelFor(apiVersion: string, kind: string): Promise<ModelCtor> {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  let mod: Record<string, unknown>;
  if (group === "monitoring.coreos.com") {
    mod = await import(`@kubernetes-models/prometheus-operator/${group}/${version}`);
  } else if (group === "keda.sh") {
    mod = await import(`@kubernetes-models/keda/${group}/${version}`);
  } else {
    mod = await import(
      group === "" ? `kubernetes-models/${version}` : `kubernetes-models/${group}/${version}`
    );
  }
  const ctor = mod[kind] as ModelCtor | undefined;
  if (!ctor) throw new Error(`no schema for ${apiVersion} ${kind}`);
  return ctor;
}

type AttributeMap = { baseName: string; type: string }[];
const models = k8s as unknown as Record<string, { getAttributeTypeMap?: () => AttributeMap }>;

function clientNodeModel(apiVersion: string, kind: string): string | undefined {
  const version = apiVersion.split("/").pop() ?? "";
  const name = version.charAt(0).toUpperCase() + version.slice(1) + kind;
  return models[name]?.getAttributeTypeMap ? name : undefined;
}

const LEAF = new Set(["string", "number", "boolean", "Date", "any", "object", "IntOrString"]);

function unknownFields(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined || LEAF.has(type)) return;
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, arr[1], `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === "object") {
      for (const [k, v] of Object.entries(value as object)) unknownFields(v, map[1], `${path}.${k}`, out);
    }
    return;
  }
  const model = models[type];
  if (!model?.getAttributeTypeMap || typeof value !== "object" || Array.isArray(value)) return;
  const attrs = model.getAttributeTypeMap();
  for (const [k, v] of Object.entries(value as object)) {
    const attr = attrs.find((a) => a.baseName === k);
    if (!attr) out.push(`${path}.${k}`);
    else unknownFields(v, attr.type, `${path}.${k}`, out);
  }
}

/** Throws with every problem found in one object; returns quietly when the object is valid. */
export async function validateObject(obj: K8sObject): Promise<void> {
  const where = `${obj.kind}/${obj.metadata?.name}`;
  const Model = await modelFor(obj.apiVersion, obj.kind);
  try {
    new Model(obj).validate();
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`, { cause: err });
  }
  const typeName = clientNodeModel(obj.apiVersion, obj.kind);
  if (typeName) {
    const unknown: string[] = [];
    unknownFields(obj, typeName, "", unknown);
    if (unknown.length > 0) throw new Error(`${where}: unknown fields ${unknown.join(", ")}`);
  }
}

export async function validateAll(objs: K8sObject[]): Promise<void> {
  for (const o of objs) await validateObject(o);
}

// ---------------------------------------------------------------------------------------------------
// Effective RBAC of one ServiceAccount, as the API server would evaluate it.

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  nonResourceURLs?: string[];
  resourceNames?: string[];
}

export interface Grant {
  /** undefined = cluster-wide (ClusterRole bound by a ClusterRoleBinding). */
  namespace: string | undefined;
  rule: PolicyRule;
}

/** Every rule that applies to the ServiceAccount `ns/name`, with where it applies. */
export function grantsFor(objs: K8sObject[], saNamespace: string, saName: string): Grant[] {
  const roles = new Map<string, PolicyRule[]>();
  for (const o of objs) {
    if (o.kind === "ClusterRole")
      roles.set(`ClusterRole/${o.metadata.name}`, (o.rules as PolicyRule[]) ?? []);
    if (o.kind === "Role") {
      roles.set(`Role/${o.metadata.namespace}/${o.metadata.name}`, (o.rules as PolicyRule[]) ?? []);
    }
  }
  const grants: Grant[] = [];
  for (const b of objs) {
    if (b.kind !== "ClusterRoleBinding" && b.kind !== "RoleBinding") continue;
    const subjects = (b.subjects as { kind: string; name: string; namespace?: string }[]) ?? [];
    if (
      !subjects.some((s) => s.kind === "ServiceAccount" && s.name === saName && s.namespace === saNamespace)
    ) {
      continue;
    }
    const ref = b.roleRef as { kind: string; name: string };
    const key = ref.kind === "Role" ? `Role/${b.metadata.namespace}/${ref.name}` : `ClusterRole/${ref.name}`;
    const rules = roles.get(key);
    if (!rules) throw new Error(`${b.kind}/${b.metadata.name} refers to missing ${key}`);
    const namespace = b.kind === "ClusterRoleBinding" ? undefined : b.metadata.namespace;
    for (const rule of rules) grants.push({ namespace, rule });
  }
  return grants;
}

/** True when some grant allows `verb` on `group/resource` in `namespace` (undefined = cluster-wide). */
export function allows(
  grants: Grant[],
  group: string,
  resource: string,
  verb: string,
  namespace: string | undefined,
): boolean {
  return grants.some(
    (g) =>
      (g.namespace === undefined || g.namespace === namespace) &&
      (g.rule.apiGroups ?? []).some((x) => x === "*" || x === group) &&
      (g.rule.resources ?? []).some((x) => x === "*" || x === resource) &&
      g.rule.verbs.some((x) => x === "*" || x === verb) &&
      !g.rule.resourceNames,
  );
}

/** Flattened "group|resource|verb" triples a set of grants gives (for least-privilege comparisons). */
export function flatten(grants: Grant[]): Set<string> {
  const out = new Set<string>();
  for (const g of grants) {
    for (const group of g.rule.apiGroups ?? []) {
      for (const r of g.rule.resources ?? []) for (const v of g.rule.verbs) out.add(`${group}|${r}|${v}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Comparison with the controller's list of API calls.

export interface RequirementLike {
  apiGroup: string;
  resource: string;
  verbs: readonly string[];
  scope: "cluster" | "watched" | "controller-namespace";
}

export interface RbacReport {
  /** Calls the controller makes that the grants do not allow where needed. */
  missing: string[];
  /** Granted group|resource|verb triples the controller never uses (least privilege). */
  excess: string[];
}

export function checkRbac(
  grants: Grant[],
  requirements: readonly RequirementLike[],
  where: { controllerNamespace: string; watchNamespace?: string },
): RbacReport {
  const missing: string[] = [];
  const needed = new Set<string>();
  for (const r of requirements) {
    const ns =
      r.scope === "cluster"
        ? undefined
        : r.scope === "controller-namespace"
          ? where.controllerNamespace
          : where.watchNamespace;
    for (const verb of r.verbs) {
      needed.add(`${r.apiGroup}|${r.resource}|${verb}`);
      if (!allows(grants, r.apiGroup, r.resource, verb, ns)) {
        missing.push(`${verb} ${r.apiGroup || "core"}/${r.resource} in ${ns ?? "the cluster"}`);
      }
    }
  }
  const excess = [...flatten(grants)].filter((t) => !needed.has(t));
  for (const g of grants) if ((g.rule.nonResourceURLs ?? []).length > 0) excess.push("nonResourceURLs");
  return { missing, excess };
}
