/**
 * Gateway API Inference Extension `InferencePool`s as the scale-from-zero path sees them: which pods a
 * pool selects and where its endpoint picker (EPP) publishes metrics. Pure data and functions; the
 * controller feeds the datastore from its watch. See docs/design/scale-from-zero.md.
 */

/** The two API groups that define `InferencePool`, and the version served for each. */
export const INFERENCE_POOL_APIS = {
  "inference.networking.k8s.io": "v1",
  "inference.networking.x-k8s.io": "v1alpha2",
} as const;

export type InferencePoolGroup = keyof typeof INFERENCE_POOL_APIS;

/** The group watched when `POOL_GROUP` is not set. */
export const DEFAULT_POOL_GROUP: InferencePoolGroup = "inference.networking.x-k8s.io";

export function isInferencePoolGroup(group: string): group is InferencePoolGroup {
  return Object.hasOwn(INFERENCE_POOL_APIS, group);
}

/** `apiVersion` of InferencePools in a group, e.g. `inference.networking.k8s.io/v1`. */
export function poolApiVersion(group: InferencePoolGroup): string {
  return `${group}/${INFERENCE_POOL_APIS[group]}`;
}

/** The endpoint picker of a pool: its Service and the Service port that serves metrics. */
export interface EndpointPicker {
  serviceName: string;
  namespace: string;
  /** The Service port's number. */
  port: number;
  /** The pod port behind it (the Service's numeric `targetPort`, else `port`). */
  targetPort: number;
}

export interface InferencePool {
  namespace: string;
  name: string;
  /** `matchLabels` of the pool's selector; empty selects every pod of the namespace. */
  selector: Record<string, string>;
  endpointPicker: EndpointPicker;
}

/** A pool object or its Service that cannot be used; the message names the object and the field. */
export class InferencePoolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InferencePoolError";
  }
}

interface ObjectLike {
  metadata?: { name?: string; namespace?: string };
  spec?: unknown;
}

interface ServiceLike extends ObjectLike {
  spec?: { ports?: Array<{ name?: string; port?: number; targetPort?: number | string }> };
}

function record(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function stringMap(v: unknown, field: string, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(record(v))) {
    if (typeof x !== "string") throw new InferencePoolError(`${where}: ${field}.${k} must be a string`);
    out[k] = x;
  }
  return out;
}

/**
 * The selector and the endpoint picker's Service name of a pool object. `v1`: `spec.selector.matchLabels`
 * and `spec.endpointPickerRef.name`; `v1alpha2`: `spec.selector` (a plain label map) and
 * `spec.extensionRef.name`.
 */
export function poolSpec(
  obj: ObjectLike,
  group: InferencePoolGroup,
): { selector: Record<string, string>; serviceName: string } {
  const where = `InferencePool ${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
  const spec = record(obj.spec);
  const v1 = INFERENCE_POOL_APIS[group] === "v1";
  const selector = v1
    ? stringMap(record(spec.selector).matchLabels, "spec.selector.matchLabels", where)
    : stringMap(spec.selector, "spec.selector", where);
  const refField = v1 ? "endpointPickerRef" : "extensionRef";
  const serviceName = record(spec[refField]).name;
  if (typeof serviceName !== "string" || serviceName === "")
    throw new InferencePoolError(`${where}: spec.${refField}.name is required`);
  return { selector, serviceName };
}

/** The first port of the Service whose name contains `metric`; throws when there is none. */
export function eppMetricsPort(service: ServiceLike): { port: number; targetPort: number } {
  for (const p of service.spec?.ports ?? []) {
    if (!(p.name ?? "").includes("metric") || typeof p.port !== "number") continue;
    return { port: p.port, targetPort: typeof p.targetPort === "number" ? p.targetPort : p.port };
  }
  throw new InferencePoolError(
    `Service ${service.metadata?.namespace ?? ""}/${service.metadata?.name ?? ""}: metrics port not found ` +
      `(no port whose name contains "metric")`,
  );
}

/** Builds the datastore entry of a pool from the pool object and its endpoint picker's Service. */
export function toInferencePool(
  obj: ObjectLike,
  group: InferencePoolGroup,
  service: ServiceLike,
): InferencePool {
  const { selector, serviceName } = poolSpec(obj, group);
  const namespace = obj.metadata?.namespace ?? "";
  return {
    namespace,
    name: obj.metadata?.name ?? "",
    selector,
    endpointPicker: { serviceName, namespace, ...eppMetricsPort(service) },
  };
}

export function poolKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The pools known to the controller, keyed by namespace and name. */
export class PoolDatastore {
  private readonly pools = new Map<string, InferencePool>();

  set(pool: InferencePool): void {
    this.pools.set(poolKey(pool.namespace, pool.name), pool);
  }

  delete(namespace: string, name: string): boolean {
    return this.pools.delete(poolKey(namespace, name));
  }

  get(namespace: string, name: string): InferencePool | undefined {
    return this.pools.get(poolKey(namespace, name));
  }

  get size(): number {
    return this.pools.size;
  }

  list(): InferencePool[] {
    return [...this.pools.values()];
  }
}

/** Whether a pool's selector selects pods with these labels (an empty selector selects all). */
export function poolSelects(pool: InferencePool, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(pool.selector).every(([k, v]) => labels[k] === v);
}

export interface PoolChoice {
  pool?: InferencePool;
  /** Every pool of the namespace that selects the labels, the chosen one first. */
  matches: InferencePool[];
}

/**
 * The pool serving pods with `labels` in `namespace`: among the namespace's pools whose selector selects
 * them, the most specific one (most selector labels), ties broken by name. `matches.length > 1` tells the
 * caller the choice was ambiguous.
 */
export function selectPool(
  pools: Iterable<InferencePool>,
  namespace: string,
  labels: Readonly<Record<string, string>>,
): PoolChoice {
  const matches = [...pools]
    .filter((p) => p.namespace === namespace && poolSelects(p, labels))
    .sort(
      (a, b) =>
        Object.keys(b.selector).length - Object.keys(a.selector).length ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
  return { pool: matches[0], matches };
}
