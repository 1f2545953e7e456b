import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { rbacRequirements } from "../../src/controller/rbac-requirements.js";
import { startCluster } from "../../src/playground/cluster/index.js";
// @ts-expect-error plain ESM script without type declarations
import { splitImage } from "../../scripts/kustomize-render.mjs";
import {
  find,
  helmBin,
  helmTemplate,
  kubectlBin,
  NAMESPACE,
  one,
  packageVersion,
  root,
  run,
  type Any,
} from "./helpers.js";
import { checkRbac, grantsFor, parseManifests, validateAll, type K8sObject } from "./k8s-schema.js";

const SA = "workload-variant-autoscaler-controller-manager";

function kustomize(kubectl: string, dir: string): K8sObject[] {
  const r = run(kubectl, ["kustomize", dir]);
  assert.equal(r.status, 0, r.stderr);
  return parseManifests(r.stdout);
}

/** Rules with their verbs sorted, for comparing two sources. */
function rules(o: K8sObject): Any[] {
  return (o.rules as Any[]).map((r) => ({ ...r, verbs: [...r.verbs].sort() }));
}

describe("kustomize manifests (real kubectl kustomize)", () => {
  test("config/default renders schema-valid objects; RBAC covers every controller call, nothing more", async (t) => {
    const kubectl = kubectlBin(t);
    if (!kubectl) return;
    const objs = kustomize(kubectl, "config/default");
    await validateAll(objs);
    const kinds = objs.map((o) => o.kind);
    for (const k of [
      "Namespace",
      "CustomResourceDefinition",
      "Deployment",
      "ServiceAccount",
      "Service",
      "ConfigMap",
    ]) {
      assert.ok(kinds.includes(k), `missing ${k}`);
    }
    for (const o of objs) {
      if (o.metadata.namespace !== undefined)
        assert.equal(o.metadata.namespace, NAMESPACE, `${o.kind} namespace`);
    }
    const report = checkRbac(grantsFor(objs, NAMESPACE, SA), rbacRequirements, {
      controllerNamespace: NAMESPACE,
    });
    assert.deepEqual(report.missing, []);
    assert.deepEqual(report.excess, []);
    const dep = one(objs, "Deployment", "workload-variant-autoscaler-controller-manager") as Any;
    const c = dep.spec.template.spec.containers[0];
    assert.equal(c.image, `ghcr.io/llm-d-incubation/workload-variant-autoscaler:v${packageVersion()}`);
    assert.ok(c.args.includes("--metrics-bind-address=:8443"));
    assert.ok(c.args.includes("--metrics-secure=true"));
    assert.ok(c.args.includes("--leader-elect=true"));
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    const env = Object.fromEntries(c.env.map((e: Any) => [e.name, e.value ?? e.valueFrom]));
    // The ConfigMap names the controller is told about exist after the name prefix.
    one(objs, "ConfigMap", env.CONFIG_MAP_NAME);
    one(objs, "ConfigMap", env.SATURATION_CONFIG_MAP_NAME);
    one(objs, "ConfigMap", env.WVA_SCALE_TO_ZERO.configMapKeyRef.name);
    // The metrics Service selects the controller pods and targets the named port.
    const svc = one(objs, "Service") as Any;
    for (const [k, v] of Object.entries(svc.spec.selector))
      assert.equal(dep.spec.template.metadata.labels[k], v);
    assert.ok(c.ports.some((p: Any) => p.name === svc.spec.ports[0].targetPort));
  });

  test("the kustomize RBAC equals the Helm chart's RBAC rule for rule", (t) => {
    const kubectl = kubectlBin(t);
    const helm = helmBin(t);
    if (!kubectl || !helm) return;
    const k = kustomize(kubectl, "config/default");
    const h = helmTemplate(helm);
    const clusterPrefix = `workload-variant-autoscaler-${NAMESPACE}-`;
    const pairs: [string, string, string][] = [
      ["ClusterRole", "workload-variant-autoscaler-manager-role", `${clusterPrefix}manager-role`],
      ["ClusterRole", "workload-variant-autoscaler-metrics-reader", `${clusterPrefix}metrics-reader`],
      [
        "Role",
        "workload-variant-autoscaler-leader-election-role",
        "workload-variant-autoscaler-leader-election-role",
      ],
    ];
    for (const role of ["admin", "editor", "viewer"]) {
      const name = `variantautoscaling-${role}-role`;
      pairs.push(["ClusterRole", `workload-variant-autoscaler-${name}`, `${clusterPrefix}${name}`]);
    }
    for (const [kind, kName, hName] of pairs) {
      assert.deepEqual(rules(one(k, kind, kName)), rules(one(h, kind, hName)), `${kind} ${kName} differs`);
    }
    assert.equal(find(k, "ClusterRole").length, find(h, "ClusterRole").length);
  });

  test("config/prometheus, config/network-policy and config/crd render and validate", async (t) => {
    const kubectl = kubectlBin(t);
    if (!kubectl) return;
    const prom = kustomize(kubectl, "config/prometheus");
    await validateAll(prom);
    const sm = one(prom, "ServiceMonitor") as Any;
    assert.equal(sm.metadata.namespace, NAMESPACE);
    const binding = one(prom, "ClusterRoleBinding") as Any;
    assert.equal(binding.roleRef.name, "workload-variant-autoscaler-metrics-reader");
    const np = kustomize(kubectl, "config/network-policy");
    await validateAll(np);
    assert.equal((one(np, "NetworkPolicy") as Any).spec.ingress[0].ports[0].port, 8443);
    const crd = kustomize(kubectl, "config/crd");
    await validateAll(crd);
    assert.equal(one(crd, "CustomResourceDefinition").metadata.name, "variantautoscalings.llmd.ai");
  });

  test("config/samples renders with kubectl kustomize", (t) => {
    const kubectl = kubectlBin(t);
    if (!kubectl) return;
    assert.ok(existsSync(join(root, "config/samples/variantautoscaling-with-cost.yaml")));
    const objs = kustomize(kubectl, "config/samples");
    assert.ok(find(objs, "VariantAutoscaling").length > 0);
  });

  test("IMG parsing keeps registry ports and digests", () => {
    assert.deepEqual(splitImage("localhost:5000/wva:dev"), { name: "localhost:5000/wva", tag: "dev" });
    assert.deepEqual(splitImage("localhost:5000/wva"), { name: "localhost:5000/wva", tag: "latest" });
    assert.deepEqual(splitImage("ghcr.io/x/wva@sha256:ab"), { name: "ghcr.io/x/wva", digest: "sha256:ab" });
    assert.deepEqual(splitImage("wva:v1"), { name: "wva", tag: "v1" });
  });

  test("make deploy / make undeploy pipe the rendered config/default (image IMG) to kubectl apply / delete", (t) => {
    const kubectl = kubectlBin(t);
    if (!kubectl) return;
    const dir = mkdtempSync(join(tmpdir(), "wva-deploy-"));
    const before = run("git", ["status", "--porcelain", "config/"]).stdout;
    try {
      // A kubectl stand-in: `kustomize` goes to the real kubectl, apply/delete record their input
      // (no cluster here).
      const fake = join(dir, "kubectl");
      writeFileSync(
        fake,
        `#!/bin/sh\nif [ "$1" = kustomize ]; then exec "${kubectl}" "$@"; fi\n` +
          `echo "$@" > "${dir}/args"\ncat > "${dir}/stdin"\n`,
      );
      chmodSync(fake, 0o755);
      const deploy = run("make", [
        "--no-print-directory",
        "deploy",
        `KUBECTL=${fake}`,
        "IMG=localhost:5000/wva:dev",
      ]);
      assert.equal(deploy.status, 0, deploy.stderr);
      assert.equal(readFileSync(join(dir, "args"), "utf8").trim(), "apply -f -");
      const applied = parseManifests(readFileSync(join(dir, "stdin"), "utf8"));
      const dep = one(applied, "Deployment") as Any;
      assert.equal(dep.spec.template.spec.containers[0].image, "localhost:5000/wva:dev");
      assert.ok(find(applied, "CustomResourceDefinition").length === 1);
      const undeploy = run("make", [
        "--no-print-directory",
        "undeploy",
        `KUBECTL=${fake}`,
        "ignore-not-found=true",
      ]);
      assert.equal(undeploy.status, 0, undeploy.stderr);
      assert.equal(readFileSync(join(dir, "args"), "utf8").trim(), "delete --ignore-not-found=true -f -");
      const deleted = parseManifests(readFileSync(join(dir, "stdin"), "utf8"));
      assert.equal(deleted.length, applied.length);
      // Nothing committed was edited to change the image.
      assert.equal(run("git", ["status", "--porcelain", "config/"]).stdout, before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("make deploy / make undeploy with the real kubectl against the playground API emulator", async (t) => {
    const kubectl = kubectlBin(t);
    if (!kubectl) return;
    // The emulator (src/playground/cluster) serves the Kubernetes API on 127.0.0.1; it is not a real
    // cluster, but kubectl talks to it as to one: discovery, OpenAPI validation, create and delete.
    const cluster = await startCluster({ namespaces: ["llm-inference"] });
    const exec = promisify(execFile);
    const env = { ...process.env, KUBECONFIG: cluster.kubeconfigPath };
    try {
      const deploy = await exec(
        "make",
        ["--no-print-directory", "deploy", `KUBECTL=${kubectl}`, "IMG=localhost:5000/wva:e2e"],
        {
          cwd: root,
          env,
        },
      );
      assert.match(deploy.stdout, /deployment\.apps\/workload-variant-autoscaler-controller-manager created/);
      assert.match(
        deploy.stdout,
        /customresourcedefinition\.apiextensions\.k8s\.io\/variantautoscalings\.llmd\.ai created/,
      );
      const image = await exec(
        kubectl,
        [
          "get",
          "deployment",
          "-n",
          NAMESPACE,
          "workload-variant-autoscaler-controller-manager",
          "-o",
          "jsonpath={.spec.template.spec.containers[0].image}",
        ],
        { env },
      );
      assert.equal(image.stdout, "localhost:5000/wva:e2e");
      const roles = await exec(kubectl, ["get", "clusterroles", "-o", "name"], { env });
      assert.match(
        roles.stdout,
        /clusterrole\.rbac\.authorization\.k8s\.io\/workload-variant-autoscaler-manager-role/,
      );
      // A VariantAutoscaling sample is accepted by the installed CRD.
      const va = await exec(
        kubectl,
        ["apply", "-f", join(root, "config/samples/variantautoscaling-with-accelerator.yaml")],
        { env },
      );
      assert.match(va.stdout, /variantautoscaling\.llmd\.ai\/llama-8b-h100 created/);
      await exec(
        "make",
        ["--no-print-directory", "undeploy", `KUBECTL=${kubectl}`, "ignore-not-found=true"],
        { cwd: root, env },
      );
      const ns = await exec(kubectl, ["get", "namespaces", "-o", "name"], { env });
      assert.doesNotMatch(ns.stdout, /workload-variant-autoscaler-system/);
      const crds = await exec(kubectl, ["get", "crd", "-o", "name"], { env });
      assert.doesNotMatch(crds.stdout, /variantautoscalings/);
    } finally {
      await cluster.stop();
    }
  });
});
