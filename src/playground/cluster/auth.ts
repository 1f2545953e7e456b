import { isObject, type KObject } from "./util.js";

/** A bearer token and the user it authenticates as. */
export interface Identity {
  token: string;
  username: string;
  uid?: string;
  groups?: string[];
}

/** Allows `subjects` (user names, or `group:NAME`) the listed verbs; `*` matches anything. */
export interface AccessRule {
  subjects: string[];
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  namespaces?: string[];
  nonResourceURLs?: string[];
}

export interface IdentityTable {
  identities: Identity[];
  rules: AccessRule[];
}

/** The default table: one admin token in `system:masters`, which may do everything. */
export function defaultIdentities(adminToken: string): IdentityTable {
  return {
    identities: [
      {
        token: adminToken,
        username: "admin",
        uid: "admin",
        groups: ["system:masters", "system:authenticated"],
      },
    ],
    rules: [
      {
        subjects: ["group:system:masters"],
        verbs: ["*"],
        apiGroups: ["*"],
        resources: ["*"],
        nonResourceURLs: ["*"],
      },
    ],
  };
}

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
}

export interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

const anyOf = (list: string[] | undefined, value: string | undefined) =>
  !list || list.length === 0 || list.includes("*") || (value !== undefined && list.includes(value));

/** In-memory authentication and authorization (TokenReview / SubjectAccessReview). */
export class Authz {
  constructor(private table: IdentityTable) {}

  setTable(table: IdentityTable): void {
    this.table = table;
  }

  authenticate(token: string | undefined): UserInfo | undefined {
    if (!token) return undefined;
    const id = this.table.identities.find((i) => i.token === token);
    return id
      ? {
          username: id.username,
          uid: id.uid,
          // own property only: a polluted prototype must never grant groups
          groups:
            Object.hasOwn(id, "groups") && Array.isArray(id.groups)
              ? [...id.groups]
              : ["system:authenticated"],
        }
      : undefined;
  }

  allowed(
    user: UserInfo,
    attrs: ResourceAttributes | undefined,
    nonResource?: { path?: string; verb?: string },
  ): boolean {
    const subjects = new Set([user.username, ...user.groups.map((g) => `group:${g}`)]);
    return this.table.rules.some((r) => {
      if (!r.subjects.some((s) => subjects.has(s))) return false;
      if (nonResource) {
        return (
          anyOf(r.verbs, nonResource.verb) &&
          !!r.nonResourceURLs &&
          r.nonResourceURLs.some(
            (u) =>
              u === "*" ||
              u === nonResource.path ||
              (u.endsWith("*") && (nonResource.path ?? "").startsWith(u.slice(0, -1))),
          )
        );
      }
      const a = attrs ?? {};
      const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
      return (
        !!r.resources &&
        anyOf(r.verbs, a.verb) &&
        anyOf(r.apiGroups, a.group ?? "") &&
        (anyOf(r.resources, resource) || anyOf(r.resources, a.resource)) &&
        (r.namespaces === undefined || anyOf(r.namespaces, a.namespace))
      );
    });
  }

  tokenReview(body: KObject): KObject {
    const token = isObject(body.spec) ? (body.spec.token as string | undefined) : undefined;
    const user = this.authenticate(token);
    return {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      metadata: { creationTimestamp: null as unknown as string },
      spec: body.spec ?? {},
      status: user
        ? {
            authenticated: true,
            user: { username: user.username, uid: user.uid, groups: user.groups },
            audiences: [],
          }
        : { authenticated: false, error: "invalid bearer token" },
    };
  }

  subjectAccessReview(body: KObject, kind: string, requester?: UserInfo): KObject {
    const spec = (isObject(body.spec) ? body.spec : {}) as Record<string, unknown>;
    const user: UserInfo =
      kind === "SelfSubjectAccessReview" && requester
        ? requester
        : {
            username: String(spec.user ?? ""),
            uid: spec.uid as string | undefined,
            groups: Array.isArray(spec.groups)
              ? spec.groups.filter((g): g is string => typeof g === "string")
              : [],
          };
    const ra = isObject(spec.resourceAttributes)
      ? (spec.resourceAttributes as ResourceAttributes)
      : undefined;
    const nra = isObject(spec.nonResourceAttributes)
      ? (spec.nonResourceAttributes as { path?: string; verb?: string })
      : undefined;
    const ok = this.allowed(user, ra, nra);
    return {
      apiVersion: "authorization.k8s.io/v1",
      kind,
      metadata: { creationTimestamp: null as unknown as string },
      spec,
      status: ok
        ? { allowed: true, reason: "allowed by the emulator's identity table" }
        : { allowed: false, reason: "no rule in the identity table allows it" },
    };
  }
}
