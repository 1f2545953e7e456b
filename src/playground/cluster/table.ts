import { evalJsonPath } from "./jsonpath.js";
import type { PrinterColumn, ResourceType } from "./resources.js";
import { formatSelector, fromLabelSelectorObject } from "./selectors.js";
import { age, getPath, isObject, type KObject } from "./util.js";

interface Column {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  cell: (o: KObject) => unknown;
}

const nameCol: Column = {
  name: "Name",
  type: "string",
  format: "name",
  description: "Name of the object",
  cell: (o) => o.metadata?.name,
};
const ageCol: Column = {
  name: "Age",
  type: "string",
  description: "Time since creation",
  cell: (o) => age(o.metadata?.creationTimestamp),
};

const num = (v: unknown) => (typeof v === "number" ? v : 0);

function podReady(o: KObject): string {
  const statuses = (o.status?.containerStatuses as Array<Record<string, unknown>>) ?? [];
  const total = ((o.spec?.containers as unknown[]) ?? []).length;
  return `${statuses.filter((s) => s.ready).length}/${total}`;
}

function podStatus(o: KObject): string {
  if (o.metadata?.deletionTimestamp) return "Terminating";
  const reason = o.status?.reason;
  if (typeof reason === "string") return reason;
  const phase = String(o.status?.phase ?? "Pending");
  if (phase === "Running") {
    const ready = ((o.status?.conditions as Array<Record<string, unknown>>) ?? []).some(
      (c) => c.type === "Ready" && c.status === "True",
    );
    return ready ? "Running" : "Running";
  }
  return phase;
}

function hpaTargets(o: KObject): string {
  const metrics = (o.spec?.metrics as Array<Record<string, unknown>>) ?? [];
  const current = (o.status?.currentMetrics as Array<Record<string, unknown>>) ?? [];
  return (
    metrics
      .map((m, i) => {
        const ext = isObject(m.external) ? m.external : {};
        const target = isObject(ext.target) ? ext.target : {};
        const cur =
          current[i] && isObject(current[i].external) ? (current[i].external as Record<string, unknown>) : {};
        const cv = isObject(cur.current) ? (cur.current.averageValue ?? cur.current.value) : undefined;
        const tv = target.averageValue ?? target.value ?? target.averageUtilization;
        return `${cv === undefined ? "<unknown>" : String(cv)}/${String(tv)}${target.type === "AverageValue" ? " (avg)" : ""}`;
      })
      .join(", ") || "<none>"
  );
}

/** `kind/name` of an Event's object, as kubectl prints it (`pod/llama-7d9c-x2x`). */
function eventObject(o: KObject): string {
  const io = isObject(o.involvedObject) ? o.involvedObject : isObject(o.regarding) ? o.regarding : {};
  return `${String(io.kind ?? "").toLowerCase()}/${String(io.name ?? "")}`;
}

function eventLastSeen(o: KObject): string {
  const last = (o.lastTimestamp ?? o.eventTime ?? o.metadata?.creationTimestamp) as string | undefined;
  const count = num(o.count);
  const first = o.firstTimestamp as string | undefined;
  return count > 1 && first ? `${age(last)} (x${count} over ${age(first)})` : age(last);
}

const containersCol: Column = {
  name: "Containers",
  type: "string",
  priority: 1,
  cell: (o) =>
    ((getPath(o, "spec.template.spec.containers") as Array<{ name?: string }>) ?? [])
      .map((c) => c.name)
      .join(","),
};
const imagesCol: Column = {
  name: "Images",
  type: "string",
  priority: 1,
  cell: (o) =>
    ((getPath(o, "spec.template.spec.containers") as Array<{ image?: string }>) ?? [])
      .map((c) => c.image)
      .join(","),
};
const selectorCol: Column = {
  name: "Selector",
  type: "string",
  priority: 1,
  cell: (o) => {
    const sel = getPath(o, "spec.selector");
    return isObject(sel) ? formatSelector(fromLabelSelectorObject(sel)) || "<none>" : "<none>";
  },
};

const builtinColumns: Record<string, Column[]> = {
  "/events": [
    { name: "Last Seen", type: "string", cell: eventLastSeen },
    { name: "Type", type: "string", cell: (o) => o.type ?? "" },
    { name: "Reason", type: "string", cell: (o) => o.reason ?? "" },
    { name: "Object", type: "string", cell: eventObject },
    {
      name: "Subobject",
      type: "string",
      priority: 1,
      cell: (o) => getPath(o, "involvedObject.fieldPath") ?? "",
    },
    {
      name: "Source",
      type: "string",
      priority: 1,
      cell: (o) => getPath(o, "source.component") ?? o.reportingComponent ?? "",
    },
    { name: "Message", type: "string", cell: (o) => o.message ?? "" },
    {
      name: "First Seen",
      type: "string",
      priority: 1,
      cell: (o) => age(o.firstTimestamp as string | undefined),
    },
    { name: "Count", type: "string", priority: 1, cell: (o) => String(num(o.count) || 1) },
    { ...nameCol, priority: 1 },
  ],
  "/pods": [
    nameCol,
    { name: "Ready", type: "string", cell: podReady },
    { name: "Status", type: "string", cell: podStatus },
    {
      name: "Restarts",
      type: "string",
      cell: (o) =>
        String(
          ((o.status?.containerStatuses as Array<Record<string, unknown>>) ?? []).reduce(
            (a, s) => a + num(s.restartCount),
            0,
          ),
        ),
    },
    ageCol,
    { name: "IP", type: "string", priority: 1, cell: (o) => o.status?.podIP ?? "<none>" },
    { name: "Node", type: "string", priority: 1, cell: (o) => o.spec?.nodeName ?? "<none>" },
  ],
  "apps/deployments": [
    nameCol,
    {
      name: "Ready",
      type: "string",
      cell: (o) => `${num(o.status?.readyReplicas)}/${num(o.spec?.replicas)}`,
    },
    { name: "Up-to-date", type: "integer", cell: (o) => num(o.status?.updatedReplicas) },
    { name: "Available", type: "integer", cell: (o) => num(o.status?.availableReplicas) },
    ageCol,
    containersCol,
    imagesCol,
    selectorCol,
  ],
  "apps/replicasets": [
    nameCol,
    { name: "Desired", type: "integer", cell: (o) => num(o.spec?.replicas) },
    { name: "Current", type: "integer", cell: (o) => num(o.status?.replicas) },
    { name: "Ready", type: "integer", cell: (o) => num(o.status?.readyReplicas) },
    ageCol,
    containersCol,
    imagesCol,
    selectorCol,
  ],
  "/nodes": [
    nameCol,
    {
      name: "Status",
      type: "string",
      cell: (o) =>
        ((o.status?.conditions as Array<Record<string, unknown>>) ?? []).some(
          (c) => c.type === "Ready" && c.status === "True",
        )
          ? "Ready"
          : "NotReady",
    },
    { name: "Roles", type: "string", cell: () => "<none>" },
    ageCol,
    { name: "Version", type: "string", cell: (o) => getPath(o, "status.nodeInfo.kubeletVersion") ?? "" },
    {
      name: "Internal-IP",
      type: "string",
      priority: 1,
      cell: (o) =>
        ((o.status?.addresses as Array<{ type?: string; address?: string }>) ?? []).find(
          (a) => a.type === "InternalIP",
        )?.address ?? "<none>",
    },
    { name: "External-IP", type: "string", priority: 1, cell: () => "<none>" },
    {
      name: "OS-Image",
      type: "string",
      priority: 1,
      cell: (o) => getPath(o, "status.nodeInfo.osImage") ?? "",
    },
    {
      name: "GPU",
      type: "string",
      priority: 1,
      cell: (o) => o.metadata?.labels?.["nvidia.com/gpu.product"] ?? "<none>",
    },
  ],
  "autoscaling/horizontalpodautoscalers": [
    nameCol,
    {
      name: "Reference",
      type: "string",
      cell: (o) =>
        `${String(getPath(o, "spec.scaleTargetRef.kind"))}/${String(getPath(o, "spec.scaleTargetRef.name"))}`,
    },
    { name: "Targets", type: "string", cell: hpaTargets },
    { name: "MinPods", type: "string", cell: (o) => String(o.spec?.minReplicas ?? 1) },
    { name: "MaxPods", type: "string", cell: (o) => String(o.spec?.maxReplicas ?? "") },
    { name: "Replicas", type: "string", cell: (o) => String(o.status?.currentReplicas ?? 0) },
    ageCol,
  ],
  "/services": [
    nameCol,
    { name: "Type", type: "string", cell: (o) => o.spec?.type ?? "ClusterIP" },
    { name: "Cluster-IP", type: "string", cell: (o) => o.spec?.clusterIP ?? "<none>" },
    { name: "External-IP", type: "string", cell: () => "<none>" },
    {
      name: "Port(s)",
      type: "string",
      cell: (o) =>
        ((o.spec?.ports as Array<Record<string, unknown>>) ?? [])
          .map((p) => `${String(p.port)}/${String(p.protocol ?? "TCP")}`)
          .join(",") || "<none>",
    },
    ageCol,
  ],
  "coordination.k8s.io/leases": [
    nameCol,
    { name: "Holder", type: "string", cell: (o) => o.spec?.holderIdentity ?? "<unknown>" },
    ageCol,
  ],
  "apiextensions.k8s.io/customresourcedefinitions": [
    nameCol,
    { name: "Created At", type: "date", cell: (o) => o.metadata?.creationTimestamp },
  ],
  "/namespaces": [
    nameCol,
    { name: "Status", type: "string", cell: (o) => o.status?.phase ?? "Active" },
    ageCol,
  ],
  "/configmaps": [
    nameCol,
    { name: "Data", type: "integer", cell: (o) => Object.keys(isObject(o.data) ? o.data : {}).length },
    ageCol,
  ],
};

function customColumns(cols: PrinterColumn[]): Column[] {
  return [
    nameCol,
    ...cols.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format,
      description: c.description,
      priority: c.priority ?? 0,
      cell: (o: KObject) => {
        const v = evalJsonPath(o, c.jsonPath);
        if (v.length === 0) return null;
        const first =
          v.length === 1
            ? v[0]
            : v.map((x) => (typeof x === "object" ? JSON.stringify(x) : String(x))).join(",");
        if (c.type === "date") return typeof first === "string" ? age(first) : first;
        if (typeof first === "object" && first !== null) return JSON.stringify(first);
        return first;
      },
    })),
  ];
}

function columnsFor(t: ResourceType): Column[] {
  if (t.custom)
    return t.printerColumns && t.printerColumns.length > 0
      ? customColumns(t.printerColumns)
      : [nameCol, ageCol];
  return builtinColumns[`${t.group}/${t.resource}`] ?? [nameCol, ageCol];
}

/** Converts objects to a `meta.k8s.io/v1` Table as `kubectl get` requests it. */
export function toTable(
  t: ResourceType,
  items: KObject[],
  listMeta: Record<string, unknown>,
  withHeaders = true,
): Record<string, unknown> {
  const cols = columnsFor(t);
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: listMeta,
    ...(withHeaders
      ? {
          columnDefinitions: cols.map((c) => ({
            name: c.name,
            type: c.type === "date" ? "string" : c.type,
            format: c.format ?? "",
            description: c.description ?? "",
            priority: c.priority ?? 0,
          })),
        }
      : { columnDefinitions: null }),
    rows: items.map((o) => ({
      cells: cols.map((c) => c.cell(o) ?? null),
      object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
    })),
  };
}
