import { EventEmitter } from "node:events";
import type { Logger } from "../../util/logger.js";
import { silentLogger } from "../../util/logger.js";
import { isConflict, isNotFound, type KubeClient } from "./client.js";
import { errText } from "./informer.js";
import type { Lease } from "./objects.js";
import { boundedTimeout, checkTimerDelay } from "../../util/timer.js";

export interface LeaderElectionOptions {
  namespace: string;
  /** Lease name. */
  name: string;
  /** Identity written to `holderIdentity` (unique per process). */
  identity: string;
  /** A non-leader may take the lease this long after it last saw it change (ms). */
  leaseDurationMs: number;
  /** The leader gives up when it could not renew for this long (ms). */
  renewDeadlineMs: number;
  /** Interval between acquire / renew attempts (ms). */
  retryPeriodMs: number;
  /** Release the lease on stop so another candidate can take over at once. */
  releaseOnCancel?: boolean;
  logger?: Logger;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
export function microTime(d: Date = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/**
 * Leader election on a `coordination.k8s.io/v1` Lease, following client-go's algorithm: a candidate
 * takes the lease when it is free or when its record has not changed for the lease duration (as
 * observed on the local clock), the leader renews it every retry period, and a leader that cannot
 * renew within the renew deadline stops leading. Writes use optimistic concurrency (resourceVersion).
 *
 * Events: `started` (became leader), `stopped` (lost or released leadership), `leader` (new holder seen).
 */
export class LeaderElector extends EventEmitter {
  private leading = false;
  private running = false;
  private observed?: Lease;
  private observedAt = 0;
  private lastRenew = 0;
  private timer?: NodeJS.Timeout;
  private loop?: Promise<void>;
  private readonly log: Logger;
  private wake?: () => void;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: LeaderElectionOptions,
  ) {
    super();
    checkTimerDelay(opts.leaseDurationMs, "leader election lease duration");
    checkTimerDelay(opts.renewDeadlineMs, "leader election renew deadline");
    checkTimerDelay(opts.retryPeriodMs * 1.2, "leader election retry period");
    this.log = (opts.logger ?? silentLogger).child({ lease: `${opts.namespace}/${opts.name}` });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get leaseName(): string {
    return this.opts.name;
  }

  /** Holder seen on the last read of the lease. */
  get observedHolder(): string {
    return this.observed?.spec?.holderIdentity ?? "";
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.opts.namespace)}/leases`;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops campaigning; releases the lease when leading and `releaseOnCancel` is set. */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
    const release = options.release ?? this.opts.releaseOnCancel ?? true;
    if (this.leading && release) await this.release();
    if (this.leading) this.setLeading(false);
  }

  private async run(): Promise<void> {
    while (this.running) {
      const ok = await this.tryAcquireOrRenew();
      const now = Date.now();
      if (ok) this.lastRenew = now;
      if (this.leading && !ok && now - this.lastRenew > this.opts.renewDeadlineMs) {
        this.log.error("could not renew the lease within the renew deadline; leadership lost");
        this.setLeading(false);
      }
      if (!this.running) break;
      const jitter = this.leading ? 1 : 1 + Math.random() * 0.2;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = boundedTimeout(
          resolve,
          this.opts.retryPeriodMs * jitter,
          "leader election retry period",
        );
      });
    }
  }

  private setLeading(v: boolean): void {
    if (this.leading === v) return;
    this.leading = v;
    this.emit(v ? "started" : "stopped");
  }

  private desiredSpec(old: Lease | undefined, now: Date): Lease["spec"] {
    const held = old?.spec?.holderIdentity === this.opts.identity;
    return {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.opts.leaseDurationMs / 1000)),
      acquireTime: held && old?.spec?.acquireTime ? old.spec.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (old?.spec?.leaseTransitions ?? 0) + (held || !old?.spec?.holderIdentity ? 0 : 1),
    };
  }

  private observe(lease: Lease): void {
    const prev = this.observed;
    const changed =
      !prev ||
      prev.metadata.resourceVersion !== lease.metadata.resourceVersion ||
      prev.spec?.holderIdentity !== lease.spec?.holderIdentity ||
      prev.spec?.renewTime !== lease.spec?.renewTime;
    if (changed) {
      this.observedAt = Date.now();
      if (prev?.spec?.holderIdentity !== lease.spec?.holderIdentity) {
        this.emit("leader", lease.spec?.holderIdentity ?? "");
      }
    }
    this.observed = lease;
  }

  /** One attempt; true when this candidate holds the lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    let lease: Lease;
    try {
      lease = await this.client.get<Lease>(`${this.path}/${encodeURIComponent(this.opts.name)}`);
    } catch (err) {
      if (!isNotFound(err)) {
        this.log.warn({ err: errText(err) }, "reading the lease failed");
        return false;
      }
      try {
        const created = await this.client.create<Lease>(this.path, {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: this.opts.name, namespace: this.opts.namespace },
          spec: this.desiredSpec(undefined, now),
        });
        this.observe(created);
        this.setLeading(true);
        return true;
      } catch (e) {
        this.log.debug({ err: errText(e) }, "creating the lease failed");
        return false;
      }
    }
    this.observe(lease);
    const holder = lease.spec?.holderIdentity ?? "";
    const mine = holder === this.opts.identity;
    const expired = Date.now() - this.observedAt > this.opts.leaseDurationMs;
    if (holder !== "" && !mine && !expired) {
      if (this.leading) this.setLeading(false);
      return false;
    }
    try {
      const updated = await this.client.replace<Lease>(`${this.path}/${encodeURIComponent(this.opts.name)}`, {
        ...lease,
        spec: this.desiredSpec(lease, now),
      });
      this.observe(updated);
      if (!mine) this.log.info({ previous: holder }, "acquired the lease");
      this.setLeading(true);
      return true;
    } catch (err) {
      if (!isConflict(err)) this.log.warn({ err: errText(err) }, "updating the lease failed");
      return false;
    }
  }

  private async release(): Promise<void> {
    try {
      const lease = await this.client.get<Lease>(`${this.path}/${encodeURIComponent(this.opts.name)}`);
      if (lease.spec?.holderIdentity !== this.opts.identity) return;
      await this.client.replace(`${this.path}/${encodeURIComponent(this.opts.name)}`, {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: "",
          leaseDurationSeconds: 1,
          renewTime: microTime(),
          acquireTime: undefined,
        },
      });
      this.log.info("released the lease");
    } catch (err) {
      this.log.warn({ err: errText(err) }, "releasing the lease failed");
    }
  }
}

/** Lease name: the election ID, prefixed with the controller instance when one is set. */
export function leaseName(electionId: string, instance: string): string {
  if (!instance) return electionId;
  const safe = instance
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, "-")
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  return safe ? `${safe}.${electionId}` : electionId;
}
