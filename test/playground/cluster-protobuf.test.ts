import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { ApiError } from "../../src/playground/cluster/errors.js";
import { startCluster, type RunningCluster } from "../../src/playground/cluster/index.js";
import { openapiV2Protobuf } from "../../src/playground/cluster/openapi.js";
import {
  decodeProtobuf,
  encodeEnvelope,
  encodeMessage,
  protobufMediaType,
} from "../../src/playground/cluster/protobuf/codec.js";
import { kinds } from "../../src/playground/cluster/protobuf/schema.js";
import { generateCertificates } from "../../src/playground/cluster/tls.js";
import { runCli, subsetMismatches } from "../support/cli.js";
import { requireKubectl } from "../support/tools.js";

/** A protobuf field with a number no schema uses, appended to a message to check it is skipped. */
const unknownField = Buffer.from([0xf8, 0x3e, 0x07]); // field 999, varint 7

function envelope(apiVersion: string, kind: string, message: string, value: Record<string, unknown>) {
  return encodeEnvelope(apiVersion, kind, Buffer.concat([encodeMessage(message, value), unknownField]));
}

describe("protobuf codec", () => {
  it("decodes a Deployment into the JSON the API stores, keeping optional zeros and skipping unknown fields", () => {
    const body = envelope("apps/v1", "Deployment", "Deployment", {
      metadata: {
        name: "web",
        namespace: "",
        generation: 0,
        creationTimestamp: { seconds: 1767225600 },
        labels: { app: "web" },
      },
      spec: {
        replicas: 0,
        paused: false,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            containers: [
              {
                name: "vllm",
                image: "vllm/vllm-openai",
                ports: [{ containerPort: 8000, hostPort: 0 }],
                resources: { limits: { "nvidia.com/gpu": { string: "1" } } },
                env: [
                  {
                    name: "CM",
                    valueFrom: { configMapKeyRef: { localObjectReference: { name: "c" }, key: "k" } },
                  },
                ],
                readinessProbe: {
                  handler: { httpGet: { path: "/health", port: { type: 1, strVal: "http" } } },
                },
              },
            ],
            volumes: [{ name: "cfg", source: { configMap: { localObjectReference: { name: "c" } } } }],
          },
        },
        strategy: { rollingUpdate: { maxSurge: { type: 0, intVal: 1 } } },
      },
    });
    assert.deepEqual(decodeProtobuf(body), {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", creationTimestamp: "2026-01-01T00:00:00Z", labels: { app: "web" } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            containers: [
              {
                name: "vllm",
                image: "vllm/vllm-openai",
                ports: [{ containerPort: 8000 }],
                resources: { limits: { "nvidia.com/gpu": "1" } },
                env: [{ name: "CM", valueFrom: { configMapKeyRef: { name: "c", key: "k" } } }],
                readinessProbe: { httpGet: { path: "/health", port: "http" } },
              },
            ],
            volumes: [{ name: "cfg", configMap: { name: "c" } }],
          },
        },
        strategy: { rollingUpdate: { maxSurge: 1 } },
      },
    });
  });

  it("decodes Secret bytes as base64, Lease micro-times and review extras", () => {
    const secret = decodeProtobuf(
      envelope("v1", "Secret", "Secret", {
        metadata: { name: "s" },
        data: { k: Buffer.from("v") },
        type: "Opaque",
      }),
    );
    assert.deepEqual(secret, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s" },
      data: { k: "dg==" },
      type: "Opaque",
    });
    const lease = decodeProtobuf(
      envelope("coordination.k8s.io/v1", "Lease", "Lease", {
        metadata: { name: "l" },
        spec: {
          holderIdentity: "a",
          renewTime: { seconds: 1767225600, nanos: 123456789 },
          leaseTransitions: 0,
        },
      }),
    );
    assert.deepEqual(lease?.spec, {
      holderIdentity: "a",
      renewTime: "2026-01-01T00:00:00.123456Z",
      leaseTransitions: 0,
    });
    const sar = decodeProtobuf(
      envelope("authorization.k8s.io/v1", "SubjectAccessReview", "SubjectAccessReview", {
        spec: {
          user: "bob",
          groups: ["g"],
          extra: { scopes: { items: ["a", "b"] } },
          resourceAttributes: { verb: "get" },
        },
      }),
    );
    assert.deepEqual(sar?.spec, {
      user: "bob",
      groups: ["g"],
      extra: { scopes: ["a", "b"] },
      resourceAttributes: { verb: "get" },
    });
  });

  it("decodes every supported kind's metadata", () => {
    for (const [key, message] of Object.entries(kinds)) {
      const [kind] = key.split("/").slice(-1);
      const apiVersion = key.slice(0, -kind.length - 1);
      const meta = message === "DeleteOptions" ? {} : { metadata: { name: "x", labels: { a: "b" } } };
      const obj = decodeProtobuf(envelope(apiVersion, kind, message, meta));
      assert.deepEqual(obj, { apiVersion, kind, ...meta }, key);
    }
  });

  it("refuses bodies it cannot read: 400 for bad data, 415 for kinds without a schema", () => {
    const status = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        assert.ok(err instanceof ApiError);
        return [err.code, err.message] as const;
      }
      assert.fail("no error");
    };
    const [noPrefix, m1] = status(() => decodeProtobuf(Buffer.from('{"kind":"ConfigMap"}')));
    assert.equal(noPrefix, 400);
    assert.match(m1, /prefix k8s\\0/);
    const good = envelope("v1", "ConfigMap", "ConfigMap", { metadata: { name: "c" }, data: { a: "b" } });
    assert.equal(status(() => decodeProtobuf(good.subarray(0, good.length - 6)))[0], 400);
    const [unknownKind, m2] = status(() =>
      decodeProtobuf(encodeEnvelope("batch/v1", "Job", Buffer.alloc(0))),
    );
    assert.equal(unknownKind, 415);
    assert.match(m2, /batch\/v1\/Job .*JSON or YAML/);
    const [badTime, m3] = status(() =>
      decodeProtobuf(
        envelope("v1", "ConfigMap", "ConfigMap", { metadata: { creationTimestamp: { seconds: 1e15 } } }),
      ),
    );
    assert.equal(badTime, 400);
    assert.match(m3, /ConfigMap\.metadata\.creationTimestamp is not a valid time/);
    assert.equal(status(() => decodeProtobuf(Buffer.from("k8s\0")))[0], 400);
    const [pollution, m4] = status(() =>
      decodeProtobuf(
        envelope("v1", "ConfigMap", "ConfigMap", { metadata: { name: "c" }, data: { constructor: "x" } }),
      ),
    );
    assert.equal(pollution, 400);
    assert.match(m4, /the key "constructor" at data is not allowed/);
    assert.equal(decodeProtobuf(Buffer.alloc(0)), undefined);
  });

  it("encodes the OpenAPI v2 head kubectl reads", () => {
    const doc = openapiV2Protobuf();
    // field 1 (swagger) = "2.0"
    assert.deepEqual([...doc.subarray(0, 5)], [0x0a, 3, 0x32, 0x2e, 0x30]);
  });
});

let cluster: RunningCluster;
let dir: string;
let kubectlPath: string | undefined;

function kubectl(...args: string[]) {
  return runCli(kubectlPath!, [
    "--kubeconfig",
    cluster.kubeconfigPath,
    "--cache-dir",
    join(dir, "cache"),
    ...args,
  ]);
}

async function ok(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  assert.equal(r.code, 0, `kubectl ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

function needKubectl(t: TestContext): boolean {
  kubectlPath = requireKubectl(t);
  return kubectlPath === undefined;
}

describe("emulator with protobuf clients", () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "wva-protobuf-"));
    cluster = await startCluster({ podStartupDelayMs: 100 });
  });
  after(async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores a protobuf POST, answers JSON, and refuses clients that accept protobuf only", async () => {
    const body = encodeEnvelope(
      "v1",
      "ConfigMap",
      encodeMessage("ConfigMap", { metadata: { name: "from-proto" }, data: { a: "b" } }),
    );
    const post = (accept: string) =>
      fetch(`${cluster.url}/api/v1/namespaces/default/configmaps`, {
        method: "POST",
        headers: { "Content-Type": protobufMediaType, Accept: accept },
        body,
      });
    const refused = await post(protobufMediaType);
    assert.equal(refused.status, 406);
    assert.equal(((await refused.json()) as { reason: string }).reason, "NotAcceptable");
    const created = await post(`${protobufMediaType}, application/json`);
    assert.equal(created.status, 201);
    assert.match(created.headers.get("content-type") ?? "", /application\/json/);
    assert.deepEqual(((await created.json()) as { data: unknown }).data, { a: "b" });
    const bad = await fetch(`${cluster.url}/api/v1/namespaces/default/configmaps`, {
      method: "POST",
      headers: { "Content-Type": protobufMediaType },
      body: "not protobuf",
    });
    assert.equal(bad.status, 400);
  });

  it("serves /openapi/v2 in protobuf to kubectl and in JSON otherwise", async () => {
    const proto = await fetch(`${cluster.url}/openapi/v2`, {
      headers: { Accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf" },
    });
    assert.equal(
      proto.headers.get("content-type"),
      "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
    );
    assert.deepEqual(Buffer.from(await proto.arrayBuffer()), openapiV2Protobuf());
    const json = await fetch(`${cluster.url}/openapi/v2`);
    assert.equal(((await json.json()) as { swagger: string }).swagger, "2.0");
  });

  it("kubectl create of each built-in form and kubectl autoscale store what kubectl means to send", async (t) => {
    if (needKubectl(t)) return;
    const certs = generateCertificates(1);
    const cert = join(dir, "tls.crt");
    const key = join(dir, "tls.key");
    writeFileSync(cert, certs.certPem);
    writeFileSync(key, certs.keyPem);
    const ns = ["-n", "proto"];
    const forms: string[][] = [
      ["create", "namespace", "proto"],
      ["create", "deployment", "web", "--image=nginx", "--replicas=2", "--port=80", ...ns],
      ["create", "deployment", "idle", "--image=nginx", "--replicas=0", ...ns],
      ["create", "configmap", "cm", "--from-literal=a=b", "--from-literal=c=d", ...ns],
      ["create", "secret", "generic", "s1", "--from-literal=x=y", ...ns],
      [
        "create",
        "secret",
        "docker-registry",
        "d1",
        "--docker-server=r",
        "--docker-username=u",
        "--docker-password=p",
        ...ns,
      ],
      ["create", "secret", "tls", "t1", `--cert=${cert}`, `--key=${key}`, ...ns],
      ["create", "serviceaccount", "sa1", ...ns],
      ["create", "service", "clusterip", "svc1", "--tcp=80:8080", ...ns],
      ["create", "service", "nodeport", "np1", "--tcp=80:8080", "--node-port=30080", ...ns],
      ["create", "service", "loadbalancer", "lb1", "--tcp=443:8443", ...ns],
      ["create", "service", "externalname", "en1", "--external-name=example.com", ...ns],
      ["create", "role", "r1", "--verb=get,list", "--resource=pods", ...ns],
      ["create", "rolebinding", "rb1", "--role=r1", "--user=bob", "--serviceaccount=proto:sa1", ...ns],
      ["create", "clusterrole", "cr1", "--verb=get", "--resource=deployments.apps"],
      ["create", "clusterrolebinding", "crb1", "--clusterrole=cr1", "--group=devs"],
      ["autoscale", "deployment", "web", "--min=2", "--max=5", "--cpu-percent=60", ...ns],
    ];
    for (const form of forms) {
      const intended = JSON.parse(await ok(...form, "--dry-run=client", "-o", "json")) as {
        apiVersion: string;
        kind: string;
        metadata: { name: string };
        status?: unknown;
      };
      assert.match(await ok(...form), / (created|autoscaled)$/m);
      const type = cluster.store.typeFor(intended.apiVersion, intended.kind);
      // the API server resets the status of kinds with a status subresource on create
      if (type.status) delete intended.status;
      const stored = cluster.store.get(type, type.namespaced ? "proto" : undefined, intended.metadata.name);
      assert.deepEqual(subsetMismatches(stored, intended), [], `kubectl ${form.join(" ")}`);
    }
    const idle = cluster.store.get(cluster.store.typeFor("apps/v1", "Deployment"), "proto", "idle");
    assert.equal((idle.spec as { replicas: number }).replicas, 0);
  });

  it("kubectl auth can-i answers from the emulator", async (t) => {
    if (needKubectl(t)) return;
    assert.equal((await ok("auth", "can-i", "create", "pods", "-n", "default")).trim(), "yes");
  });

  it("kubectl apply -f config/samples/ leaves only kubectl's own error for kinds not served", async (t) => {
    if (needKubectl(t)) return;
    await ok("apply", "-f", "config/crd/bases/llmd.ai_variantautoscalings.yaml");
    for (const n of ["llm-inference", "tenant-gold", "tenant-silver"]) await ok("create", "namespace", n);
    const r = await kubectl("apply", "-f", "config/samples/");
    assert.match(r.stdout, /variantautoscaling.llmd.ai\/llama-8b-h100 created/);
    assert.match(r.stdout, /horizontalpodautoscaler.autoscaling\/llama-8b-h100-hpa created/);
    assert.doesNotMatch(r.stderr, /proto:|wire-format/);
    const errors = r.stderr.split("\n").filter((l) => /no matches for kind/.test(l));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(
      errors[0],
      /no matches for kind "Kustomization" in version "kustomize.config.k8s.io\/v1beta1"/,
    );
    const keda = await kubectl("apply", "-f", "config/samples/integrations/keda-scaledobject.yaml");
    assert.notEqual(keda.code, 0);
    assert.match(keda.stderr, /no matches for kind "ScaledObject" in version "keda.sh\/v1alpha1"/);
    assert.doesNotMatch(keda.stderr, /proto:|wire-format/);
  });
});
