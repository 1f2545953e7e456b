import type { Logger } from "../util/logger.js";
import { errText } from "./kube/informer.js";
import type { KubeClient } from "./kube/client.js";
import { LeaderElector } from "./kube/leader-election.js";

/** What runs only on the leader. */
export interface LeaderWork {
  /** Called when this manager starts leading (after the caches synced). */
  start(): void;
  /** Called when it stops leading or stops; resolves once the work has stopped. */
  stop(): Promise<void>;
}

export interface LeadershipOptions {
  client: KubeClient;
  /** Without election this manager leads at once. */
  elect: boolean;
  namespace: string;
  lease: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** Resolves once the caches synced; leading starts only then. */
  synced: Promise<void>;
  work: LeaderWork;
  log: Logger;
  /** Called when leadership is lost (not on stop). */
  onLost?: () => void;
}

/**
 * Owns leading and stopping to lead: runs the leader work when the lease is won (or at once without
 * election) and stops it when the lease is lost or the manager stops. Changes run one after the
 * other, so a quick lose / re-acquire never interleaves.
 */
export class Leadership {
  private leading = false;
  private stopping = false;
  private elector?: LeaderElector;
  private transition: Promise<void> = Promise.resolve();
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly opts: LeadershipOptions) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    const o = this.opts;
    if (!o.elect) {
      void this.inTurn(() => this.startLeading());
      return;
    }
    this.elector = new LeaderElector(o.client, {
      namespace: o.namespace,
      name: o.lease,
      identity: o.identity,
      leaseDurationMs: o.leaseDurationMs,
      renewDeadlineMs: o.renewDeadlineMs,
      retryPeriodMs: o.retryPeriodMs,
      releaseOnCancel: true,
      logger: o.log,
    });
    this.elector.on("started", () => void this.inTurn(() => this.startLeading()));
    this.elector.on("stopped", () => {
      void this.inTurn(() => this.stopLeading());
      if (!this.stopping) {
        o.log.error({ identity: o.identity, lease: o.lease }, "leader election lost");
        o.onLost?.();
      }
    });
    this.elector.start();
  }

  /** Resolves once this manager leads. */
  waitForLeadership(): Promise<void> {
    return this.leading ? Promise.resolve() : new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Gives up the lease (released unless `release: false`); `beforeStopWork` runs in between. */
  async stop(release: boolean, beforeStopWork: () => void): Promise<void> {
    this.stopping = true;
    if (this.elector) await this.elector.stop({ release });
    beforeStopWork();
    await this.inTurn(() => this.stopLeading());
  }

  private inTurn(fn: () => Promise<void>): Promise<void> {
    this.transition = this.transition.then(fn).catch((err: unknown) => {
      this.opts.log.error({ err: errText(err) }, "leadership change failed");
    });
    return this.transition;
  }

  private async startLeading(): Promise<void> {
    await this.opts.synced;
    if (this.stopping || this.leading) return;
    this.leading = true;
    this.opts.work.start();
    this.opts.log.info({ identity: this.opts.identity, lease: this.opts.lease }, "started leading");
    for (const w of this.waiters.splice(0)) w();
  }

  private async stopLeading(): Promise<void> {
    this.leading = false;
    await this.opts.work.stop();
  }
}
