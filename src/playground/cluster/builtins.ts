import type { StatusCause } from "./errors.js";
import { withDefaults } from "./hpa.js";
import { fromLabelSelectorObject, matchesLabels } from "./selectors.js";
import { isObject, type KObject } from "./util.js";

/** Defaulting and validation of a built-in kind, in the spirit of the API server's strategies. */
export interface KindHooks {
  defaults?(obj: KObject): void;
  validate?(obj: KObject): StatusCause[];
  /** Reset on create for kinds whose status belongs to controllers. */
  resetStatusOnCreate?: boolean;
}

function podSpecDefaults(spec: Record<string, unknown> | undefined): void {
  if (!spec) return;
  spec.restartPolicy ??= "Always";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= "ClusterFirst";
  spec.schedulerName ??= "default-scheduler";
  for (const c of (spec.containers as Array<Record<string, unknown>>) ?? []) {
    c.imagePullPolicy ??= "IfNotPresent";
    c.terminationMessagePath ??= "/dev/termination-log";
    c.terminationMessagePolicy ??= "File";
    for (const p of (c.ports as Array<Record<string, unknown>>) ?? []) p.protocol ??= "TCP";
  }
}

function validateContainers(spec: unknown, field: string): StatusCause[] {
  const containers = isObject(spec) ? spec.containers : undefined;
  if (!Array.isArray(containers) || containers.length === 0)
    return [{ reason: "FieldValueRequired", field: `${field}.containers`, message: "Required value" }];
  const out: StatusCause[] = [];
  containers.forEach((c, i) => {
    if (!isObject(c) || typeof c.name !== "string" || !c.name)
      out.push({
        reason: "FieldValueRequired",
        field: `${field}.containers[${i}].name`,
        message: "Required value",
      });
    if (!isObject(c) || typeof c.image !== "string" || !c.image)
      out.push({
        reason: "FieldValueRequired",
        field: `${field}.containers[${i}].image`,
        message: "Required value",
      });
  });
  return out;
}

function validateWorkload(obj: KObject): StatusCause[] {
  const spec = obj.spec ?? {};
  const out: StatusCause[] = [];
  if (spec.replicas !== undefined && (!Number.isInteger(spec.replicas) || (spec.replicas as number) < 0))
    out.push({
      reason: "FieldValueInvalid",
      field: "spec.replicas",
      message: `Invalid value: ${JSON.stringify(spec.replicas)}: must be greater than or equal to 0`,
    });
  if (!isObject(spec.selector)) {
    out.push({ reason: "FieldValueRequired", field: "spec.selector", message: "Required value" });
    return out;
  }
  const template = isObject(spec.template) ? spec.template : {};
  const labels = (isObject(template.metadata) ? template.metadata.labels : undefined) as
    Record<string, string> | undefined;
  const sel = fromLabelSelectorObject(spec.selector);
  if (sel.length === 0)
    out.push({
      reason: "FieldValueInvalid",
      field: "spec.selector",
      message: "Invalid value: empty selector is invalid for deployment",
    });
  else if (!matchesLabels(sel, labels))
    out.push({
      reason: "FieldValueInvalid",
      field: "spec.template.metadata.labels",
      message: `Invalid value: ${JSON.stringify(labels ?? {})}: \`selector\` does not match template \`labels\``,
    });
  out.push(...validateContainers(template.spec, "spec.template.spec"));
  return out;
}

export const kindHooks: Record<string, KindHooks> = {
  "/pods": {
    resetStatusOnCreate: true,
    defaults(obj) {
      podSpecDefaults(obj.spec);
      obj.status = { phase: "Pending", qosClass: "BestEffort", ...(obj.status ?? {}) };
    },
    validate: (obj) => validateContainers(obj.spec, "spec"),
  },
  "apps/deployments": {
    resetStatusOnCreate: true,
    defaults(obj) {
      const spec = (obj.spec ??= {});
      spec.replicas ??= 1;
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      spec.strategy ??= { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } };
      if (isObject(spec.template)) podSpecDefaults(spec.template.spec as Record<string, unknown>);
    },
    validate: validateWorkload,
  },
  "apps/replicasets": {
    resetStatusOnCreate: true,
    defaults(obj) {
      const spec = (obj.spec ??= {});
      spec.replicas ??= 1;
      if (isObject(spec.template)) podSpecDefaults(spec.template.spec as Record<string, unknown>);
    },
    validate: validateWorkload,
  },
  "autoscaling/horizontalpodautoscalers": {
    resetStatusOnCreate: true,
    defaults(obj) {
      const spec = (obj.spec ??= {});
      spec.minReplicas ??= 1;
      if (spec.behavior !== undefined) spec.behavior = withDefaults(spec.behavior as never);
    },
    validate(obj) {
      const spec = obj.spec ?? {};
      const out: StatusCause[] = [];
      if (!isObject(spec.scaleTargetRef))
        out.push({ reason: "FieldValueRequired", field: "spec.scaleTargetRef", message: "Required value" });
      if (!Number.isInteger(spec.maxReplicas) || (spec.maxReplicas as number) < 1)
        out.push({
          reason: "FieldValueInvalid",
          field: "spec.maxReplicas",
          message: `Invalid value: ${JSON.stringify(spec.maxReplicas)}: must be greater than 0`,
        });
      if (Number.isInteger(spec.minReplicas) && (spec.minReplicas as number) > (spec.maxReplicas as number))
        out.push({
          reason: "FieldValueInvalid",
          field: "spec.minReplicas",
          message: `Invalid value: ${String(spec.minReplicas)}: must be less than or equal to maxReplicas`,
        });
      return out;
    },
  },
  "/services": {
    defaults(obj) {
      const spec = (obj.spec ??= {});
      spec.type ??= "ClusterIP";
      for (const p of (spec.ports as Array<Record<string, unknown>>) ?? []) {
        p.protocol ??= "TCP";
        p.targetPort ??= p.port;
      }
    },
  },
  "/namespaces": {
    defaults(obj) {
      obj.spec = { finalizers: ["kubernetes"], ...(obj.spec ?? {}) };
      obj.status = { phase: "Active", ...(obj.status ?? {}) };
      const labels = ((obj.metadata ??= {}).labels ??= {});
      labels["kubernetes.io/metadata.name"] = obj.metadata.name ?? "";
    },
  },
  "coordination.k8s.io/leases": {
    defaults(obj) {
      obj.spec ??= {};
    },
  },
};
