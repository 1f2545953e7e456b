import { createHash } from "node:crypto";
import { groupVersion, type ResourceType } from "./resources.js";

export const serverVersion = {
  major: "1",
  minor: "35",
  gitVersion: "v1.35.0-wva-emulator",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "n/a",
  compiler: "n/a",
  platform: "linux/amd64",
};

const allVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function verbsOf(t: ResourceType): string[] {
  if (t.metrics) return ["get", "list"];
  return t.virtual ? ["create"] : allVerbs;
}

/** `/api`: the legacy core group's versions. */
export function apiVersions(address: string): Record<string, unknown> {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: address }],
  };
}

interface GroupEntry {
  name: string;
  versions: string[];
}

function groups(types: ResourceType[]): GroupEntry[] {
  const m = new Map<string, Set<string>>();
  for (const t of types) {
    if (!t.group) continue;
    if (!m.has(t.group)) m.set(t.group, new Set());
    m.get(t.group)!.add(t.version);
  }
  return [...m.entries()].map(([name, v]) => ({ name, versions: [...v].sort(compareVersions) }));
}

/** Kubernetes version priority: GA > beta > alpha, higher numbers first. */
export function compareVersions(a: string, b: string): number {
  const rank = (v: string) => {
    const m = v.match(/^v(\d+)(?:(alpha|beta)(\d+))?$/);
    if (!m) return [0, 0, 0];
    return [m[2] === undefined ? 3 : m[2] === "beta" ? 2 : 1, Number(m[1]), Number(m[3] ?? 0)];
  };
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return rb[i] - ra[i];
  return a.localeCompare(b);
}

function groupObject(g: GroupEntry): Record<string, unknown> {
  return {
    name: g.name,
    versions: g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${g.name}/${g.versions[0]}`, version: g.versions[0] },
  };
}

/** `/apis`: every named group. */
export function apiGroupList(types: ResourceType[]): Record<string, unknown> {
  return { kind: "APIGroupList", apiVersion: "v1", groups: groups(types).map(groupObject) };
}

/** `/apis/{group}`. */
export function apiGroup(types: ResourceType[], name: string): Record<string, unknown> | undefined {
  const g = groups(types).find((x) => x.name === name);
  return g ? { kind: "APIGroup", apiVersion: "v1", ...groupObject(g) } : undefined;
}

function resourceEntries(t: ResourceType): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [
    {
      name: t.resource,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: verbsOf(t),
      ...(t.shortNames && t.shortNames.length > 0 ? { shortNames: t.shortNames } : {}),
      ...(t.categories && t.categories.length > 0 ? { categories: t.categories } : {}),
      storageVersionHash: createHash("sha256")
        .update(`${groupVersion(t)}/${t.kind}`)
        .digest("base64")
        .slice(0, 11),
    },
  ];
  if (t.status)
    out.push({
      name: `${t.resource}/status`,
      singularName: "",
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: ["get", "patch", "update"],
    });
  if (t.scale)
    out.push({
      name: `${t.resource}/scale`,
      singularName: "",
      namespaced: t.namespaced,
      group: "autoscaling",
      version: "v1",
      kind: "Scale",
      verbs: ["get", "patch", "update"],
    });
  return out;
}

/** `/api/v1` or `/apis/{group}/{version}`. */
export function apiResourceList(
  types: ResourceType[],
  group: string,
  version: string,
): Record<string, unknown> | undefined {
  const ts = types.filter((t) => t.group === group && t.version === version);
  if (ts.length === 0) return undefined;
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: group ? `${group}/${version}` : version,
    resources: ts.flatMap(resourceEntries),
  };
}
