import { hostname } from "node:os";
import type { Logger } from "../../util/logger.js";
import { silentLogger } from "../../util/logger.js";
import type { KubeClient } from "./client.js";
import { errText, type KubeObject } from "./informer.js";

export type EventType = "Normal" | "Warning";

interface CoreEvent {
  metadata: { name: string; namespace: string };
  count?: number;
}

/**
 * Records `core/v1` Events about objects. Repeats of the same (object, type, reason, message)
 * within `dedupWindowMs` bump the count of the existing Event instead of creating a new one.
 * Recording never throws: failures are logged.
 */
export class EventRecorder {
  private readonly recent = new Map<string, { name: string; namespace: string; count: number; at: number }>();
  private readonly log: Logger;

  constructor(
    private readonly client: KubeClient,
    private readonly component = "workload-variant-autoscaler",
    private readonly opts: { logger?: Logger; dedupWindowMs?: number; instance?: string } = {},
  ) {
    this.log = opts.logger ?? silentLogger;
  }

  async record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const md = obj.metadata ?? {};
    const namespace = md.namespace || "default";
    const key = `${obj.kind}/${namespace}/${md.name}/${type}/${reason}/${message}`;
    const now = Date.now();
    const window = this.opts.dedupWindowMs ?? 10 * 60_000;
    const ts = new Date(now).toISOString().replace(/\.\d{3}Z$/, "Z");
    const prev = this.recent.get(key);
    try {
      if (prev && now - prev.at < window) {
        prev.count++;
        prev.at = now;
        await this.client.mergePatch(
          `/api/v1/namespaces/${encodeURIComponent(prev.namespace)}/events/${encodeURIComponent(prev.name)}`,
          { count: prev.count, lastTimestamp: ts },
        );
        return;
      }
      const created = await this.client.create<CoreEvent>(
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`,
        {
          apiVersion: "v1",
          kind: "Event",
          metadata: { generateName: `${md.name}.`, namespace },
          involvedObject: {
            apiVersion: obj.apiVersion,
            kind: obj.kind,
            name: md.name,
            namespace: md.namespace,
            uid: md.uid,
            resourceVersion: md.resourceVersion,
          },
          type,
          reason,
          message,
          source: { component: this.component, host: hostname() },
          reportingComponent: this.component,
          reportingInstance: this.opts.instance ?? hostname(),
          firstTimestamp: ts,
          lastTimestamp: ts,
          count: 1,
        },
      );
      this.recent.set(key, { name: created.metadata.name, namespace, count: 1, at: now });
      if (this.recent.size > 1000) {
        for (const [k, v] of this.recent) if (now - v.at >= window) this.recent.delete(k);
      }
    } catch (err) {
      this.log.warn(
        { err: errText(err), reason, object: `${namespace}/${md.name}` },
        "recording an event failed",
      );
    }
  }
}
