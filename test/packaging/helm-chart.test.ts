import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { startCluster } from "../../src/playground/cluster/index.js";
import { parse } from "yaml";
import { rbacRequirements } from "../../src/controller/rbac-requirements.js";
import {
  chartDir,
  find,
  helmBin,
  helmTemplate,
  kubectlBin,
  NAMESPACE,
  one,
  packageVersion,
  readYaml,
  run,
  type Any,
} from "./helpers.js";
import { checkRbac, grantsFor, validateAll, type K8sObject } from "./k8s-schema.js";

const SA = "workload-variant-autoscaler-controller-manager";
const DEPLOYMENT = "workload-variant-autoscaler-controller-manager";

function container(objs: K8sObject[]): Any {
  return (one(objs, "Deployment", DEPLOYMENT) as Any).spec.template.spec.containers[0];
}

function env(objs: K8sObject[]): Record<string, Any> {
  return Object.fromEntries(container(objs).env.map((e: Any) => [e.name, e.value ?? e.valueFrom]));
}

/** Renders, validates every object against the Kubernetes schemas and checks RBAC against the call list. */
async function renderChecked(
  helm: string,
  args: string[],
  where: { watchNamespace?: string } = {},
): Promise<K8sObject[]> {
  const objs = helmTemplate(helm, args);
  assert.ok(objs.length > 0, "helm template rendered nothing");
  await validateAll(objs);
  const report = checkRbac(grantsFor(objs, NAMESPACE, SA), rbacRequirements, {
    controllerNamespace: NAMESPACE,
    watchNamespace: where.watchNamespace,
  });
  assert.deepEqual(report.missing, [], "controller API calls not covered by the chart's RBAC");
  assert.deepEqual(report.excess, [], "chart grants more than the controller calls");
  return objs;
}

describe("Helm chart (real helm)", () => {
  test("Chart.yaml: version without and appVersion with the v prefix, both equal to package.json", () => {
    const chart = readYaml<{ version: string; appVersion: string; name: string }>(
      "charts/workload-variant-autoscaler/Chart.yaml",
    );
    const version = packageVersion();
    assert.equal(chart.name, "workload-variant-autoscaler");
    assert.equal(chart.version, version);
    assert.equal(chart.appVersion, `v${version}`);
    const values = readYaml<Any>("charts/workload-variant-autoscaler/values.yaml");
    assert.equal(values.image.tag, `v${version}`);
    const kustomization = readYaml<Any>("config/manager/kustomization.yaml");
    assert.equal(kustomization.images[0].newTag, `v${version}`);
  });

  test("values.yaml documents every key with a comment", () => {
    const lines = readFileSync(join(chartDir, "values.yaml"), "utf8").split("\n");
    const undocumented: string[] = [];
    lines.forEach((line, i) => {
      const m = /^(\s*)([A-Za-z][\w-]*):/.exec(line);
      if (!m) return;
      // A key is documented by a comment right above it, or it sits in a block whose parent is documented
      // (nested keys of a documented map such as resources.limits.cpu).
      let j = i - 1;
      while (j >= 0 && lines[j].trim() === "") j--;
      const above = lines[j] ?? "";
      const documented = above.trim().startsWith("#") || /^\s+/.test(line);
      if (!documented) undocumented.push(m[2]);
    });
    assert.deepEqual(undocumented, []);
    const top = lines.filter((l) => /^[A-Za-z]/.test(l)).map((l) => l.split(":")[0]);
    assert.ok(top.length >= 20, `expected the full set of top-level keys, found ${top.length}`);
  });

  test("helm lint passes (default values and the namespace-scoped set)", (t) => {
    const helm = helmBin(t);
    if (!helm) return;
    for (const args of [[], ["--set", "namespaceScoped=true,hpa.enabled=true"]]) {
      const r = run(helm, ["lint", "--strict", chartDir, ...args, ...(args.length ? hpaArgs() : [])]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  test("default values render schema-valid objects with least-privilege RBAC covering every call", async (t) => {
    const helm = helmBin(t);
    if (!helm) return;
    const objs = await renderChecked(helm, []);
    const kinds = objs.map((o) => o.kind).sort();
    for (const k of ["ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "Role", "RoleBinding"]) {
      assert.ok(kinds.includes(k), `missing ${k}`);
    }
    assert.equal(find(objs, "ServiceMonitor").length, 0);
    assert.equal(find(objs, "HorizontalPodAutoscaler").length, 0);
    const dep = one(objs, "Deployment", DEPLOYMENT) as Any;
    const pod = dep.spec.template.spec;
    assert.equal(dep.spec.replicas, 2);
    assert.equal(pod.serviceAccountName, SA);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
    const c = container(objs);
    assert.equal(c.image, `ghcr.io/llm-d-incubation/workload-variant-autoscaler:v${packageVersion()}`);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"]);
    assert.equal(c.livenessProbe.httpGet.path, "/healthz");
    assert.equal(c.readinessProbe.httpGet.path, "/readyz");
    assert.ok(c.args.includes("--leader-elect=true"));
    assert.ok(c.args.includes("--metrics-bind-address=:8443"));
    assert.ok(c.args.includes("--metrics-secure=true"));
    assert.ok(c.args.includes("--actuator=hpa"));
    assert.ok(!c.args.some((a: string) => a.startsWith("--watch-namespace")));
    const e = env(objs);
    assert.equal(e.CONFIG_MAP_NAME, "workload-variant-autoscaler-variantautoscaling-config");
    assert.equal(e.SATURATION_CONFIG_MAP_NAME, "workload-variant-autoscaler-saturation-scaling-config");
    assert.equal(e.CONTROLLER_INSTANCE, undefined);
    const cm = one(objs, "ConfigMap", "workload-variant-autoscaler-variantautoscaling-config") as Any;
    assert.match(cm.data.PROMETHEUS_BASE_URL, /^https:\/\//);
    assert.equal(cm.data.PROMETHEUS_TLS_INSECURE_SKIP_VERIFY, "false");
    assert.equal(cm.data.GLOBAL_OPT_INTERVAL, "60s");
    const sat = one(objs, "ConfigMap", "workload-variant-autoscaler-saturation-scaling-config") as Any;
    assert.deepEqual(parse(sat.data.default), {
      kvCacheThreshold: 0.8,
      queueLengthThreshold: 5,
      kvSpareTrigger: 0.1,
      queueSpareTrigger: 3,
      enableLimiter: false,
    });
    assert.equal(find(objs, "ConfigMap", "wva-model-scale-to-zero-config").length, 0);
    // imagePullSecrets are not rendered empty.
    assert.equal(pod.imagePullSecrets, undefined);
  });

  test("user-facing admin/editor/viewer roles use the CRD's API group llmd.ai", async (t) => {
    const helm = helmBin(t);
    if (!helm) return;
    const objs = helmTemplate(helm);
    for (const role of ["admin", "editor", "viewer"]) {
      const r = one(
        objs,
        "ClusterRole",
        `workload-variant-autoscaler-${NAMESPACE}-variantautoscaling-${role}-role`,
      ) as Any;
      for (const rule of r.rules) assert.deepEqual(rule.apiGroups, ["llmd.ai"]);
      const agg = { admin: "admin", editor: "edit", viewer: "view" }[role];
      assert.equal(r.metadata.labels[`rbac.authorization.k8s.io/aggregate-to-${agg}`], "true");
    }
    const crd = parse(readFileSync(join(chartDir, "crds", "llmd.ai_variantautoscalings.yaml"), "utf8"));
    assert.equal(crd.spec.group, "llmd.ai");
  });

  test("namespace-scoped: namespaced permissions only in the watched namespace", async (t) => {
    const helm = helmBin(t);
    if (!helm) return;
    const objs = await renderChecked(helm, ["--set", "namespaceScoped=true,watchNamespace=llm-inference"], {
      watchNamespace: "llm-inference",
    });
    assert.ok(container(objs).args.includes("--watch-namespace=llm-inference"));
    const role = one(objs, "Role", "workload-variant-autoscaler-manager-role");
    assert.equal(role.metadata.namespace, "llm-inference");
    // Nothing namespaced is granted cluster-wide.
    const report = checkRbac(grantsFor(objs, NAMESPACE, SA), rbacRequirements, {
      controllerNamespace: NAMESPACE,
      watchNamespace: "other-namespace",
    });
    assert.ok(report.missing.some((m) => m.includes("apps/deployments")));
    assert.ok(!report.missing.some((m) => m.includes("nodes")));
    // Default watch namespace = release namespace.
    const objs2 = await renderChecked(helm, ["--set", "namespaceScoped=true"], { watchNamespace: NAMESPACE });
    assert.ok(container(objs2).args.includes(`--watch-namespace=${NAMESPACE}`));
  });

  test("controller instance: env, HPA metric selector", async (t) => {
    const helm = helmBin(t);
    if (!helm) return;
    const objs = await renderChecked(helm, ["--set", "controllerInstance=team-a", ...hpaArgs()]);
    assert.equal(env(objs).CONTROLLER_INSTANCE, "team-a");
    for (const hpa of find(objs, "HorizontalPodAutoscaler") as Any[]) {
      assert.equal(hpa.spec.metrics[0].external.metric.selector.matchLabels.controller_instance, "team-a");
    }
  });

  test("scale from zero: POOL_GROUP, concurrency and the EPP token Secret", async (t) => {
    const helm = helmBin(t);
    if (!helm) return;
    let e = env(await renderChecked(helm, []));
    assert.equal(e.POOL_GROUP, "inference.networking.x-k8s.io");
    assert.equal(e.SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY, "10");
    assert.equal(e.EPP_METRIC_READER_BEARER_TOKEN, undefined);
    e = env(
      await renderChecked(helm, [
        "--set",
        "scaleFromZero.poolGroup=inference.networking.k8s.io,scaleFromZero.maxConcurrency=3",
        "--set",
        "scaleFromZero.eppMetricReaderSecret.name=epp-reader",
      ]),
    );
    assert.equal(e.POOL_GROUP, "inference.networking.k8s.io");
    assert.equal(e.SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY, "3");
    assert.deepEqual(e.EPP_METRIC_READER_BEARER_TOKEN, {
      secretKeyRef: { name: "epp-reader", key: "token" },
    });
  });

  test("HPA on: one autoscaling/v2 HPA per variant on wva_desired_replicas", async (t) => {
    const helm = helmBin(t);
    if (!helm) return;
    const objs = await renderChecked(helm, hpaArgs());
    const hpas = find(objs, "HorizontalPodAutoscaler") as Any[];
    assert.equal(hpas.length, 2);
    const a = hpas.find((h) => h.metadata.name === "llama-8b-h100-hpa");
    assert.equal(a.metadata.namespace, "llm-inference");
    assert.deepEqual(a.spec.scaleTargetRef, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "llama-8b-h100-decode",
    });
    assert.equal(a.spec.minReplicas, 1);
    assert.equal(a.spec.maxReplicas, 10);
    const m = a.spec.metrics[0].external;
    assert.equal(m.metric.name, "wva_desired_replicas");
    assert.deepEqual(m.metric.selector.matchLabels, {
      variant_name: "llama-8b-h100",
      exported_namespace: "llm-inference",
    });
    assert.deepEqual(m.target, { type: "AverageValue", averageValue: "1" });
    const b = hpas.find((h) => h.metadata.name === "llama-8b-a100-hpa");
    assert.equal(b.spec.minReplicas, 0);
    assert.equal(b.spec.maxReplicas, 4);
  });

  test("ServiceMonitor on: scraper token, metrics-reader binding, HTTPS endpoint", async (t) => {
    const helm = helmBin(t);
    if (!helm) return;
    const objs = await renderChecked(helm, [
      "--set",
      "serviceMonitor.enabled=true,serviceMonitor.labels.release=kps",
    ]);
    const sm = one(objs, "ServiceMonitor") as Any;
    assert.equal(sm.metadata.labels.release, "kps");
    const ep = sm.spec.endpoints[0];
    assert.equal(ep.scheme, "https");
    assert.equal(ep.port, "https");
    assert.equal(ep.authorization.credentials.name, "workload-variant-autoscaler-metrics-scraper-token");
    const svc = one(objs, "Service") as Any;
    assert.equal(svc.spec.ports[0].name, "https");
    assert.deepEqual(sm.spec.selector.matchLabels, svc.spec.selector);
    const binding = one(
      objs,
      "ClusterRoleBinding",
      `workload-variant-autoscaler-${NAMESPACE}-metrics-scraper`,
    ) as Any;
    assert.equal(binding.roleRef.name, `workload-variant-autoscaler-${NAMESPACE}-metrics-reader`);
    const reader = one(objs, "ClusterRole", binding.roleRef.name) as Any;
    assert.deepEqual(reader.rules, [{ nonResourceURLs: ["/metrics"], verbs: ["get"] }]);
    // Plain HTTP metrics: no token machinery.
    const plain = await renderChecked(helm, ["--set", "serviceMonitor.enabled=true,metrics.secure=false"]);
    assert.equal((one(plain, "ServiceMonitor") as Any).spec.endpoints[0].scheme, "http");
    assert.equal(find(plain, "Secret").length, 0);
  });

  test("custom Prometheus CA: ConfigMap, mount and PROMETHEUS_CA_CERT_PATH", async (t) => {
    const helm = helmBin(t);
    if (!helm) return;
    const dir = mkdtempSync(join(tmpdir(), "wva-ca-"));
    try {
      const pem = "-----BEGIN CERTIFICATE-----\nMIIBfakeCAforTests\n-----END CERTIFICATE-----\n";
      writeFileSync(join(dir, "ca.crt"), pem);
      const objs = await renderChecked(helm, [
        "--set-file",
        `prometheus.tls.caCert=${join(dir, "ca.crt")}`,
        "--set",
        "prometheus.baseURL=https://thanos-querier.openshift-monitoring.svc:9091,prometheus.token.fromServiceAccount=true",
      ]);
      const ca = one(objs, "ConfigMap", "workload-variant-autoscaler-prometheus-ca") as Any;
      assert.equal(ca.data["ca.crt"].trim(), pem.trim());
      const e = env(objs);
      assert.equal(e.PROMETHEUS_CA_CERT_PATH, "/etc/wva/prometheus-ca/ca.crt");
      assert.equal(e.PROMETHEUS_TOKEN_PATH, "/var/run/secrets/kubernetes.io/serviceaccount/token");
      const c = container(objs);
      assert.ok(
        c.volumeMounts.some(
          (m: Any) => m.name === "prometheus-ca" && m.mountPath === "/etc/wva/prometheus-ca",
        ),
      );
      const cm = one(objs, "ConfigMap", "workload-variant-autoscaler-variantautoscaling-config") as Any;
      assert.equal(cm.data.PROMETHEUS_BASE_URL, "https://thanos-querier.openshift-monitoring.svc:9091");
      assert.equal(cm.data.PROMETHEUS_CA_CERT_PATH, "/etc/wva/prometheus-ca/ca.crt");
      // An existing ConfigMap instead of inline PEM.
      const objs2 = await renderChecked(helm, ["--set", "prometheus.tls.existingCAConfigMap=my-ca"]);
      assert.equal(find(objs2, "ConfigMap", "workload-variant-autoscaler-prometheus-ca").length, 0);
      const vol = (one(objs2, "Deployment") as Any).spec.template.spec.volumes.find(
        (v: Any) => v.name === "prometheus-ca",
      );
      assert.equal(vol.configMap.name, "my-ca");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("scale-to-zero, saturation overrides, direct actuator, bearer token secret, pull secrets", async (t) => {
    const helm = helmBin(t);
    if (!helm) return;
    const objs = await renderChecked(helm, [
      "--set",
      [
        "scaleToZero.enabled=true",
        "scaleToZero.retentionPeriod=15m",
        "scaleToZero.models.llama.modelID=meta/llama-3.1-8b",
        "scaleToZero.models.llama.enabled=false",
        "saturation.overrides.granite.modelID=ibm/granite-13b",
        "saturation.overrides.granite.kvCacheThreshold=0.75",
        "actuator=direct",
        "prometheus.token.existingSecret.name=prom-token",
        "imagePullSecrets[0].name=regcred",
        "configMap.immutable=true",
      ].join(","),
    ]);
    const stz = one(objs, "ConfigMap", "wva-model-scale-to-zero-config") as Any;
    assert.deepEqual(parse(stz.data.default), { enable_scale_to_zero: true, retention_period: "15m" });
    assert.deepEqual(parse(stz.data.llama), { model_id: "meta/llama-3.1-8b", enable_scale_to_zero: false });
    const sat = one(objs, "ConfigMap", "workload-variant-autoscaler-saturation-scaling-config") as Any;
    assert.deepEqual(parse(sat.data.granite), { model_id: "ibm/granite-13b", kvCacheThreshold: 0.75 });
    assert.ok(container(objs).args.includes("--actuator=direct"));
    const e = env(objs);
    assert.equal(e.WVA_SCALE_TO_ZERO, "true");
    assert.deepEqual(e.PROMETHEUS_BEARER_TOKEN, { secretKeyRef: { name: "prom-token", key: "token" } });
    assert.deepEqual((one(objs, "Deployment") as Any).spec.template.spec.imagePullSecrets, [
      { name: "regcred" },
    ]);
    assert.equal(
      (one(objs, "ConfigMap", "workload-variant-autoscaler-variantautoscaling-config") as Any).immutable,
      true,
    );
  });

  test("bad values are refused with a message naming the value", (t) => {
    const helm = helmBin(t);
    if (!helm) return;
    const cases: [string[], RegExp][] = [
      [["--set", "actuator=scale"], /actuator must be "hpa" or "direct"/],
      [
        ["--set", "prometheus.baseURL=http://prometheus:9090"],
        /prometheus.baseURL must start with https:\/\//,
      ],
      [["--set", "hpa.enabled=true"], /hpa.enabled needs at least one entry in hpa.variants/],
      [["--set", "hpa.enabled=true,hpa.variants[0].name=x"], /hpa.variants\[0\] needs name/],
      [
        ["--set", "saturation.overrides.x.kvCacheThreshold=0.5"],
        /saturation.overrides.x.modelID is required/,
      ],
      [["--set", "serviceAccount.create=false"], /serviceAccount.name is required/],
    ];
    for (const [args, message] of cases) {
      const r = run(helm, ["template", "wva", chartDir, ...args]);
      assert.notEqual(r.status, 0, `expected failure for ${args.join(" ")}`);
      assert.match(r.stderr, message);
    }
  });

  test("NOTES.txt renders the controller's names, scope, actuator and the CRDs-first upgrade note", (t) => {
    const helm = helmBin(t);
    if (!helm) return;
    const r = run(helm, [
      "install",
      "wva",
      chartDir,
      "--namespace",
      "wva-system",
      "--dry-run=client",
      "--set",
      "namespaceScoped=true,controllerInstance=team-a,actuator=direct,prometheus.tls.insecureSkipVerify=true",
    ]);
    assert.equal(r.status, 0, r.stderr);
    const notes = r.stdout.slice(r.stdout.indexOf("NOTES:"));
    assert.match(notes, /deployment\/wva-workload-variant-autoscaler-controller-manager/);
    assert.match(
      notes,
      /VariantAutoscalings in namespace "wva-system" only, labelled wva\.llmd\.ai\/controller-instance=team-a/,
    );
    assert.match(notes, /Actuator: direct \(the controller writes deployments\/scale\)/);
    assert.match(notes, /certificate NOT verified/);
    assert.match(notes, /kubectl apply -f charts\/workload-variant-autoscaler\/crds\//);
  });

  test("helm package produces workload-variant-autoscaler-X.Y.Z.tgz with the right versions and the CRD", (t) => {
    const helm = helmBin(t);
    if (!helm) return;
    const dir = mkdtempSync(join(tmpdir(), "wva-pkg-"));
    try {
      const r = run(helm, ["package", chartDir, "--destination", dir]);
      assert.equal(r.status, 0, r.stderr);
      const version = packageVersion();
      const tgz = join(dir, `workload-variant-autoscaler-${version}.tgz`);
      assert.ok(existsSync(tgz), `missing ${tgz}; helm said: ${r.stdout}`);
      const show = run(helm, ["show", "chart", tgz]);
      assert.equal(show.status, 0, show.stderr);
      const meta = parse(show.stdout);
      assert.equal(meta.version, version);
      assert.equal(meta.appVersion, `v${version}`);
      const crds = run(helm, ["show", "crds", tgz]);
      assert.match(crds.stdout, /name: variantautoscalings\.llmd\.ai/);
      // The packaged chart renders the same as the folder.
      const t2 = run(helm, ["template", "x", tgz]);
      assert.equal(t2.status, 0, t2.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the rendered chart (CRDs, then templates) is accepted by the API emulator through the real kubectl", async (t) => {
    const helm = helmBin(t);
    const kubectl = kubectlBin(t);
    if (!helm || !kubectl) return;
    // The rendered objects, with HPA values, go through `kubectl apply`: the emulator's API validation,
    // defaulting and RBAC kinds all see them (`helm install` itself: test/playground/cluster-helm.test.ts).
    const cluster = await startCluster({ namespaces: [NAMESPACE, "llm-inference"] });
    const exec = promisify(execFile);
    const env = { ...process.env, KUBECONFIG: cluster.kubeconfigPath };
    const dir = mkdtempSync(join(tmpdir(), "wva-apply-"));
    try {
      const rendered = join(dir, "chart.yaml");
      const r = run(helm, [
        "template",
        "workload-variant-autoscaler",
        chartDir,
        "-n",
        NAMESPACE,
        ...hpaArgs(),
      ]);
      assert.equal(r.status, 0, r.stderr);
      writeFileSync(rendered, r.stdout);
      const crd = await exec(kubectl, ["apply", "-f", join(chartDir, "crds")], { env });
      assert.match(crd.stdout, /variantautoscalings\.llmd\.ai created/);
      const out = await exec(kubectl, ["apply", "-f", rendered], { env });
      assert.match(out.stdout, /deployment\.apps\/workload-variant-autoscaler-controller-manager created/);
      assert.match(out.stdout, /horizontalpodautoscaler\.autoscaling\/llama-8b-h100-hpa created/);
      const again = await exec(kubectl, ["apply", "-f", rendered], { env });
      assert.doesNotMatch(again.stdout, /created|configured/);
      const del = await exec(kubectl, ["delete", "-f", rendered], { env });
      assert.match(del.stdout, /deployment\.apps "workload-variant-autoscaler-controller-manager" deleted/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await cluster.stop();
    }
  });
});

function hpaArgs(): string[] {
  return [
    "--set",
    [
      "hpa.enabled=true",
      "hpa.variants[0].name=llama-8b-h100",
      "hpa.variants[0].namespace=llm-inference",
      "hpa.variants[0].deployment=llama-8b-h100-decode",
      "hpa.variants[1].name=llama-8b-a100",
      "hpa.variants[1].namespace=llm-inference",
      "hpa.variants[1].deployment=llama-8b-a100-decode",
      "hpa.variants[1].minReplicas=0",
      "hpa.variants[1].maxReplicas=4",
    ].join(","),
  ];
}
