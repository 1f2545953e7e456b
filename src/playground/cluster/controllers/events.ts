import { randomBytes } from "node:crypto";
import type { ClusterApi } from "../api.js";
import { timestamp, type KObject } from "../util.js";

/** Records a core/v1 Event about `obj`, as the controllers of a real cluster do (`kubectl describe`). */
export function recordEvent(
  api: ClusterApi,
  obj: KObject,
  type: "Normal" | "Warning",
  reason: string,
  message: string,
  component: string,
): void {
  const m = obj.metadata ?? {};
  const namespace = m.namespace || "default";
  const ms = Date.now();
  const now = timestamp(ms);
  try {
    api.create(
      api.typeFor("v1", "Event"),
      {
        metadata: { name: `${m.name}.${randomBytes(8).toString("hex")}`, namespace },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: m.name,
          namespace: m.namespace,
          uid: m.uid,
          resourceVersion: m.resourceVersion,
        },
        reason,
        message,
        type,
        source: { component },
        reportingComponent: component,
        // MicroTime: when exactly it happened (first/lastTimestamp have whole seconds)
        eventTime: new Date(ms).toISOString().replace("Z", "000Z"),
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
      namespace,
    );
  } catch {
    // events are best effort (e.g. the namespace is being deleted)
  }
}
