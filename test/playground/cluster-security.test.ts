import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { Authz } from "../../src/playground/cluster/auth.js";
import { startCluster, type RunningCluster } from "../../src/playground/cluster/index.js";
import { widgetCrd } from "./cluster-fixtures.js";

let cluster: RunningCluster;

/** Sends a request with the path exactly as written (fetch would normalize `%2e%2e`). */
function raw(
  method: string,
  path: string,
  body?: string,
  contentType = "application/json",
): Promise<{ status: number; body: Record<string, unknown> }> {
  const u = new URL(cluster.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method,
        path,
        headers: body === undefined ? {} : { "Content-Type": contentType },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          let json: Record<string, unknown>;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = { text };
          }
          resolve({ status: res.statusCode ?? 0, body: json });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const configMap = (name: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, ...extra }, data: { a: "b" } });

describe("playground cluster: hostile and malformed requests", () => {
  before(async () => {
    cluster = await startCluster({ namespaces: ["team-a", "team-b"] });
    const api = cluster.store;
    api.create(api.typeFor("apiextensions.k8s.io/v1", "CustomResourceDefinition"), widgetCrd);
    api.create(api.typeFor("v1", "ConfigMap"), { metadata: { name: "target", namespace: "default" } });
    api.create(api.typeFor("example.com/v1", "Widget"), {
      metadata: { name: "w", namespace: "team-a" },
      spec: { size: 1 },
    });
  });
  after(async () => {
    await cluster.stop();
  });

  it("refuses prototype keys in every patch type and body, then still creates objects", async () => {
    const cm = "/api/v1/namespaces/default/configmaps/target";
    const attempts: Array<[string, string, string, string]> = [
      [
        "PATCH",
        cm,
        JSON.stringify([{ op: "add", path: "/__proto__/deletionTimestamp", value: "2020-01-01T00:00:00Z" }]),
        "application/json-patch+json",
      ],
      [
        "PATCH",
        cm,
        JSON.stringify([{ op: "add", path: "/metadata/constructor/prototype/x", value: 1 }]),
        "application/json-patch+json",
      ],
      [
        "PATCH",
        cm,
        '{"metadata":{"__proto__":{"deletionTimestamp":"2020-01-01T00:00:00Z"}}}',
        "application/merge-patch+json",
      ],
      ["PATCH", cm, '{"__proto__":{"polluted":"yes"}}', "application/strategic-merge-patch+json"],
      [
        "PATCH",
        `${cm}?fieldManager=t`,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: target\n  __proto__:\n    polluted: yes\n",
        "application/apply-patch+yaml",
      ],
      [
        "POST",
        "/api/v1/namespaces/default/configmaps",
        '{"metadata":{"name":"p","__proto__":{"a":1}}}',
        "application/json",
      ],
      [
        "POST",
        "/api/v1/namespaces/default/configmaps",
        '{"metadata":{"name":"q"},"data":{"constructor":"x"}}',
        "application/json",
      ],
      [
        "POST",
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        '{"spec":{"user":"u","__proto__":{"groups":["system:masters"]}}}',
        "application/json",
      ],
    ];
    for (const [method, path, body, type] of attempts) {
      const res = await raw(method, path, body, type);
      assert.equal(res.status, 400, `${method} ${path} ${body}: ${JSON.stringify(res.body)}`);
      assert.match(String(res.body.message), /not allowed/);
    }
    assert.equal(({} as Record<string, unknown>).deletionTimestamp, undefined);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const created = await raw("POST", "/api/v1/namespaces/default/configmaps", configMap("after"));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const sel = await raw(
      "GET",
      "/api/v1/configmaps?fieldSelector=metadata.deletionTimestamp%3D2020-01-01T00:00:00Z",
    );
    assert.equal(sel.status, 200);
    assert.deepEqual(sel.body.items, []);
  });

  it("answers 400 to malformed JSON, deep nesting, bad encodings, limits and selectors", async () => {
    const deep = `${'{"a":'.repeat(200)}1${"}".repeat(200)}`;
    const cases: Array<[string, string, string?]> = [
      ["POST", "/api/v1/namespaces/default/configmaps", '{"metadata":'],
      ["POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"deep"},"data":${deep}}`],
      ["GET", "/api/v1/namespaces/%zz/configmaps"],
      ["GET", "/api/v1/namespaces/default/configmaps?limit=abc"],
      ["GET", "/api/v1/namespaces/default/configmaps?limit=-1"],
      ["GET", "/api/v1/configmaps?fieldSelector=metadata.name"],
      ["GET", "/api/v1/configmaps?labelSelector=a%20in%20(b"],
      ["GET", "/apis/example.com/v1/namespaces/%2e%2e/widgets"],
      ["GET", "/apis/example.com/v1/namespaces/team-b/../widgets"],
    ];
    for (const [method, path, body] of cases) {
      const res = await raw(method, path, body);
      assert.equal(res.status, 400, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(res.body.kind, "Status");
    }
    const ok = await raw("GET", "/apis/example.com/v1/namespaces/team-b/widgets");
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.items, []);
  });

  it("applies Kubernetes' limits to names, label keys and values, and annotation size", async () => {
    const post = (body: string) => raw("POST", "/api/v1/namespaces/default/configmaps", body);
    const invalid: Array<[string, RegExp]> = [
      [configMap("x".repeat(254)), /metadata\.name.*253/],
      [configMap("l", { labels: { ["k".repeat(64)]: "v" } }), /metadata\.labels.*63/],
      [configMap("l", { labels: { k: "v".repeat(64) } }), /metadata\.labels.*63/],
      [configMap("l", { labels: { "bad_prefix/k": "v" } }), /metadata\.labels.*prefix/],
      [
        configMap("a", { annotations: { big: "x".repeat(256 * 1024) } }),
        /metadata\.annotations.*262144 bytes/,
      ],
    ];
    for (const [body, message] of invalid) {
      const res = await post(body);
      assert.equal(res.status, 422, JSON.stringify(res.body).slice(0, 300));
      assert.match(String(res.body.message), message);
    }
    const ns = await raw(
      "POST",
      "/api/v1/namespaces",
      JSON.stringify({ metadata: { name: "n".repeat(64) } }),
    );
    assert.equal(ns.status, 422);
    const fine = await post(
      configMap("y".repeat(253), {
        labels: { "example.com/k": "v".repeat(63) },
        annotations: { note: "x".repeat(200 * 1024) },
      }),
    );
    assert.equal(fine.status, 201, JSON.stringify(fine.body).slice(0, 300));
  });

  it("an identity's groups never come from a prototype", () => {
    const authz = new Authz({ identities: [{ token: "t", username: "alice" }], rules: [] });
    Object.defineProperty(Object.prototype, "groups", { value: ["system:masters"], configurable: true });
    try {
      assert.deepEqual(authz.authenticate("t")?.groups, ["system:authenticated"]);
    } finally {
      delete (Object.prototype as Record<string, unknown>).groups;
    }
  });
});
