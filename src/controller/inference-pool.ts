/**
 * The InferencePool reconciler and the endpoint pickers' metrics: keeps the pool datastore in step with
 * the watched InferencePools and their EPP Services, and reads each pool's flow-control queue by scraping
 * the EPP pods. See docs/design/scale-from-zero.md.
 */
import {
  InferencePoolError,
  PoolDatastore,
  poolKey,
  poolSpec,
  toInferencePool,
  type InferencePool,
  type InferencePoolGroup,
} from "../collect/inference-pool.js";
import {
  PodScrapingSource,
  type ScrapeTarget,
  type ScrapeTargetLister,
} from "../collect/podscrape/source.js";
import { QueryName } from "../collect/queries.js";
import { matchesLabels, type Selector } from "../util/label-selector.js";
import type { Logger } from "../util/logger.js";
import { errText, type Informer } from "./kube/informer.js";
import type { KubeObject, Pod } from "./kube/objects.js";

/** An InferencePool object of either API group (its spec is read by {@link poolSpec}). */
export interface InferencePoolObject extends KubeObject {
  spec?: unknown;
}

/** A Service: its selector and ports. */
export interface Service extends KubeObject {
  spec?: {
    selector?: Record<string, string>;
    ports?: Array<{ name?: string; port?: number; targetPort?: number | string }>;
  };
}

function selectorOf(labels: Record<string, string>): Selector {
  return Object.entries(labels).map(([key, v]) => ({ key, op: "=", values: [v] }));
}

/** The EPP pods behind a pool's Service, from the caches: Ready pods with an IP, at the metrics port. */
export class EppScrapeTargets implements ScrapeTargetLister {
  constructor(
    private readonly pool: InferencePool,
    private readonly services: Informer<Service>,
    private readonly pods: Informer<Pod>,
  ) {}

  async listTargets(): Promise<ScrapeTarget[]> {
    const epp = this.pool.endpointPicker;
    const svc = this.services.get(epp.namespace, epp.serviceName);
    if (!svc) throw new Error(`EPP Service ${epp.namespace}/${epp.serviceName} not found`);
    const sel = svc.spec?.selector ?? {};
    if (Object.keys(sel).length === 0) return [];
    const selector = selectorOf(sel);
    const out: ScrapeTarget[] = [];
    for (const p of this.pods.list()) {
      if (p.metadata?.namespace !== epp.namespace || p.metadata?.deletionTimestamp) continue;
      if (!matchesLabels(selector, p.metadata?.labels)) continue;
      const ip = p.status?.podIP ?? "";
      out.push({
        pod: p.metadata?.name ?? "",
        namespace: epp.namespace,
        url: ip ? `http://${ip.includes(":") ? `[${ip}]` : ip}:${epp.targetPort}/metrics` : "",
        ready: p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
      });
    }
    return out;
  }
}

export interface PoolReconcilerOptions {
  group: InferencePoolGroup;
  pools: Informer<InferencePoolObject>;
  services: Informer<Service>;
  pods: Informer<Pod>;
  /** `EPP_METRIC_READER_BEARER_TOKEN`: sent as `Authorization: Bearer <token>` to the EPP pods. */
  bearerToken?: string;
  /** Per-pod scrape timeout (default 5 s). */
  timeoutMs?: number;
  log: Logger;
}

/**
 * Keeps the datastore of InferencePools (keyed by namespace and name) from the pool and Service caches,
 * with one pod-scraping source per pool, rebuilt when its endpoint picker changes.
 */
export class PoolReconciler {
  readonly datastore = new PoolDatastore();
  private readonly sources = new Map<string, { epp: string; source: PodScrapingSource }>();
  /** Last error logged per pool, so a failing pool is logged once per change. */
  private readonly errors = new Map<string, string>();

  constructor(private readonly o: PoolReconcilerOptions) {
    o.pools.addHandlers({
      add: (p) => this.sync(p),
      update: (_old, p) => this.sync(p),
      delete: (p) => this.remove(p.metadata?.namespace ?? "", p.metadata?.name ?? ""),
    });
    const onService = (s: Service) => this.syncService(s);
    o.services.addHandlers({ add: onService, update: (_old, s) => onService(s), delete: onService });
  }

  /** Recomputes one pool's entry from its object and its EPP Service. */
  sync(obj: InferencePoolObject): void {
    const ns = obj.metadata?.namespace ?? "";
    const name = obj.metadata?.name ?? "";
    if (obj.metadata?.deletionTimestamp) return this.remove(ns, name);
    const key = poolKey(ns, name);
    try {
      const { serviceName } = poolSpec(obj, this.o.group);
      const svc = this.o.services.get(ns, serviceName);
      if (!svc)
        throw new InferencePoolError(`InferencePool ${key}: EPP Service ${ns}/${serviceName} not found`);
      const pool = toInferencePool(obj, this.o.group, svc);
      this.datastore.set(pool);
      this.errors.delete(key);
      const epp = JSON.stringify(pool.endpointPicker);
      const known = this.sources.get(key);
      if (known?.epp !== epp) {
        known?.source.close();
        const source = new PodScrapingSource({
          targets: new EppScrapeTargets(pool, this.o.services, this.o.pods),
          bearerToken: this.o.bearerToken || undefined,
          timeoutMs: this.o.timeoutMs,
          // the loop asks every 100 ms; models sharing a pool in one round share a scrape
          minScrapeIntervalMs: 50,
          logger: this.o.log,
        });
        this.sources.set(key, { epp, source });
      }
    } catch (err) {
      this.remove(ns, name);
      const text = errText(err);
      if (this.errors.get(key) !== text) {
        this.errors.set(key, text);
        this.o.log.warn({ pool: key, err: text }, "InferencePool not usable for scale from zero");
      }
    }
  }

  private syncService(s: Service): void {
    for (const obj of this.o.pools.list()) {
      if (obj.metadata?.namespace !== s.metadata?.namespace) continue;
      let serviceName: string;
      try {
        serviceName = poolSpec(obj, this.o.group).serviceName;
      } catch {
        continue;
      }
      if (serviceName === s.metadata?.name) this.sync(obj);
    }
  }

  private remove(namespace: string, name: string): void {
    const key = poolKey(namespace, name);
    this.datastore.delete(namespace, name);
    this.sources.get(key)?.source.close();
    this.sources.delete(key);
  }

  /**
   * Requests held in the pool's flow-control queue for `modelID`: the sum of the EPP pods'
   * `inference_extension_flow_control_queue_size` samples whose `target_model_name` is the model.
   * Throws when the EPP pods cannot be listed.
   */
  async queueSize(pool: InferencePool, modelID: string): Promise<number> {
    const source = this.sources.get(poolKey(pool.namespace, pool.name))?.source;
    if (!source) return 0;
    const name = QueryName.schedulerQueueSize;
    const r = (await source.refresh([name], { modelID })).get(name);
    if (r?.error) throw new Error(`InferencePool ${poolKey(pool.namespace, pool.name)}: ${r.error}`);
    return r?.values.reduce((s, v) => s + v.value, 0) ?? 0;
  }

  close(): void {
    for (const { source } of this.sources.values()) source.close();
    this.sources.clear();
  }
}
