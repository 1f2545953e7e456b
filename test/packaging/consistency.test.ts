// Cross-checks between the packaging pieces: manager flags, generated files, make targets, the files the
// release guide names, and the HPA / KEDA samples and docs.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { parseManagerArgs } from "../../src/config/manager-flags.js";
import { SETTING_DEFS } from "../../src/config/settings.js";
import { generatedFiles } from "../../scripts/generated-files.js";
import { find, helmBin, helmTemplate, kubectlBin, one, root, run, type Any } from "./helpers.js";
import { parseManifests, validateAll, type K8sObject } from "./k8s-schema.js";

function managerArgs(objs: K8sObject[]): string[] {
  return (one(objs, "Deployment") as Any).spec.template.spec.containers[0].args as string[];
}

describe("packaging consistency", () => {
  test("the chart's manager args are valid manager flags for every value set", (t) => {
    const helm = helmBin(t);
    if (!helm) return;
    const sets = [
      [],
      ["--set", "namespaceScoped=true,actuator=direct,logVerbosity=4"],
      ["--set", "metrics.enabled=false,leaderElection.enabled=false"],
      ["--set", "metrics.secure=false,metrics.certSecret=metrics-tls"],
    ];
    for (const args of sets) {
      const argv = managerArgs(helmTemplate(helm, args));
      const parsed = parseManagerArgs(argv);
      assert.equal(parsed.flags.actuator, args.join(" ").includes("direct") ? "direct" : "hpa");
    }
    const off = parseManagerArgs(managerArgs(helmTemplate(helm, ["--set", "metrics.enabled=false"])));
    assert.equal(off.flags.metricsBindAddress, "0");
  });

  test("the kustomize manager args are valid manager flags", (t) => {
    const kubectl = kubectlBin(t);
    if (!kubectl) return;
    const r = run(kubectl, ["kustomize", "config/default"]);
    assert.equal(r.status, 0, r.stderr);
    const parsed = parseManagerArgs(managerArgs(parseManifests(r.stdout)));
    assert.equal(parsed.flags.leaderElect, true);
    assert.equal(parsed.flags.metricsBindAddress, ":8443");
  });

  test("every key the chart and kustomize set for the manager is a row of the settings table", (t) => {
    const rows = new Map(SETTING_DEFS.filter((d) => d.key !== undefined).map((d) => [d.key, d]));
    const stray = (where: string, objs: K8sObject[]): string[] => {
      const env = ((one(objs, "Deployment") as Any).spec.template.spec.containers[0].env ?? []) as Array<{
        name: string;
        value?: string;
      }>;
      const mainName = env.find((e) => e.name === "CONFIG_MAP_NAME")?.value;
      const main = find(objs, "ConfigMap").find((c) => c.metadata.name === mainName) as Any;
      assert.ok(main, `${where}: no ConfigMap named by CONFIG_MAP_NAME (${mainName})`);
      const keys = Object.keys(main.data ?? {});
      assert.ok(keys.includes("GLOBAL_OPT_INTERVAL"), `${where}: ${keys.join(",")}`);
      return [
        ...keys
          .filter((k) => rows.get(k) === undefined || rows.get(k)?.envOnly)
          .map((k) => `${where} ConfigMap ${k}`),
        ...env.filter((e) => !rows.has(e.name)).map((e) => `${where} env ${e.name}`),
      ];
    };
    const kubectl = kubectlBin(t);
    const helm = helmBin(t);
    if (!kubectl || !helm) return;
    const r = run(kubectl, ["kustomize", "config/default"]);
    assert.equal(r.status, 0, r.stderr);
    const everything = [
      "gpuNodeSelector=gpu=true,controllerInstance=a",
      "prometheus.tls.caCert=pem,prometheus.tls.serverName=prom,prometheus.token.fromServiceAccount=true",
    ].join(",");
    assert.deepEqual(
      [
        ...stray("kustomize", parseManifests(r.stdout)),
        ...stray("chart", helmTemplate(helm, ["--set", everything])),
        ...stray("chart", helmTemplate(helm, ["--set", "prometheus.token.existingSecret.name=token"])),
      ],
      [],
    );
  });

  test("generated files (CRDs, RBAC, CRD reference) are current: make manifests changes nothing", () => {
    const stale = Object.entries(generatedFiles())
      .filter(
        ([path, text]) => !existsSync(join(root, path)) || readFileSync(join(root, path), "utf8") !== text,
      )
      .map(([path]) => path);
    assert.deepEqual(stale, []);
    const doc = readFileSync(join(root, "docs/user-guide/crd-reference.md"), "utf8");
    for (const field of [
      "spec.modelID",
      "spec.scaleTargetRef.name",
      "spec.variantCost",
      "status.desiredOptimizedAlloc.numReplicas",
    ]) {
      assert.ok(doc.includes(`\`${field}\``), field);
    }
  });

  test("make help lists every target the release guide and the docs use", () => {
    const r = run("make", ["--no-print-directory", "help"]);
    assert.equal(r.status, 0, r.stderr);
    const targets = r.stdout.split("\n").map((l) => l.trim().split(/\s+/)[0]);
    for (const t of [
      "build",
      "test",
      "test-e2e",
      "lint",
      "manifests",
      "deploy",
      "undeploy",
      "install",
      "uninstall",
      "docker-build",
      "docker-push",
      "docker-buildx",
      "helm-lint",
      "helm-package",
      "release",
      "release-verify",
    ]) {
      assert.ok(targets.includes(t), `make help does not list ${t}`);
    }
    const noVersion = run("make", ["--no-print-directory", "release"]);
    assert.equal(noVersion.status, 2);
    assert.match(noVersion.stdout + noVersion.stderr, /RELEASE_VERSION is required/);
  });

  test("every file the release guide names exists", () => {
    for (const f of [
      "Makefile",
      "Dockerfile",
      ".dockerignore",
      "CHANGELOG.md",
      "charts/workload-variant-autoscaler/Chart.yaml",
      "charts/workload-variant-autoscaler/crds/llmd.ai_variantautoscalings.yaml",
      "config/crd/bases/llmd.ai_variantautoscalings.yaml",
      "config/samples/variantautoscaling-with-cost.yaml",
      ".github/workflows/ci-pr-checks.yaml",
      ".github/workflows/ci-release.yaml",
      ".github/workflows/helm-release.yaml",
      "docs/developer-guide/releasing.md",
      "docs/developer-guide/testing.md",
      "docs/developer-guide/development.md",
      "docs/user-guide/installation.md",
      "docs/user-guide/hpa-keda.md",
      "docs/user-guide/crd-reference.md",
    ]) {
      assert.ok(existsSync(join(root, f)), f);
    }
  });
});

describe("HPA and KEDA samples", () => {
  const vas = parseAllDocuments(
    readFileSync(join(root, "config/samples/variantautoscaling-with-cost.yaml"), "utf8"),
  )
    .map((d) => d.toJS() as Any)
    .concat(
      parseAllDocuments(
        readFileSync(join(root, "config/samples/variantautoscaling-with-accelerator.yaml"), "utf8"),
      ).map((d) => d.toJS() as Any),
    );

  test("the samples' namespaces, HPA and ScaledObject validate against the Kubernetes and KEDA schemas", async (t) => {
    const kubectl = kubectlBin(t);
    if (!kubectl) return;
    const r = run(kubectl, ["kustomize", "config/samples"]);
    assert.equal(r.status, 0, r.stderr);
    const objs = parseManifests(r.stdout)
      .filter((o) => o.apiVersion !== "llmd.ai/v1alpha1")
      .concat(
        parseManifests(
          readFileSync(join(root, "config/samples/integrations/keda-scaledobject.yaml"), "utf8"),
        ),
      );
    assert.deepEqual(objs.map((o) => o.kind).sort(), [
      "HorizontalPodAutoscaler",
      "Namespace",
      "Namespace",
      "Namespace",
      "ScaledObject",
    ]);
    await validateAll(objs);
  });

  test("the ScaledObject follows wva_desired_replicas of a sample VA and scales that VA's Deployment", () => {
    const so = parse(readFileSync(join(root, "config/samples/integrations/keda-scaledobject.yaml"), "utf8"));
    const trigger = so.spec.triggers[0];
    assert.equal(trigger.type, "prometheus");
    const m = /^max\(wva_desired_replicas\{variant_name="([^"]+)",exported_namespace="([^"]+)"\}\)$/.exec(
      trigger.metadata.query,
    );
    assert.ok(m, trigger.metadata.query);
    const va = vas.find((v) => v.metadata.name === m[1] && v.metadata.namespace === m[2]);
    assert.ok(va, `no sample VA ${m[2]}/${m[1]}`);
    assert.equal(so.metadata.namespace, va.metadata.namespace);
    assert.equal(so.spec.scaleTargetRef.name, va.spec.scaleTargetRef.name);
    assert.equal(trigger.metadata.metricType, "AverageValue");
    assert.equal(trigger.metadata.threshold, "1");
    assert.match(trigger.metadata.serverAddress, /^https:\/\//);
  });

  test("the prometheus-adapter rule exposes wva_desired_replicas with the labels the HPAs select on", () => {
    const values = parse(
      readFileSync(join(root, "config/samples/integrations/prometheus-adapter-values.yaml"), "utf8"),
    );
    const [rule] = values.rules.external;
    assert.match(rule.seriesQuery, /^wva_desired_replicas\{/);
    assert.equal(rule.name.as, "wva_desired_replicas");
    assert.deepEqual(Object.keys(rule.resources.overrides).sort(), ["exported_namespace", "variant_name"]);
    const hpa = parse(readFileSync(join(root, "config/samples/hpa-integration.yaml"), "utf8"));
    const metric = hpa.spec.metrics[0].external.metric;
    assert.equal(metric.name, rule.name.as);
    for (const label of Object.keys(metric.selector.matchLabels))
      assert.ok(rule.seriesQuery.includes(`${label}!=""`), label);
  });

  test("every YAML example in docs/user-guide/hpa-keda.md validates; the chart's HPA matches the sample", async (t) => {
    const doc = readFileSync(join(root, "docs/user-guide/hpa-keda.md"), "utf8");
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
    assert.ok(blocks.length >= 3, "expected YAML examples in the guide");
    const objs: K8sObject[] = [];
    for (const b of blocks) {
      for (const d of parseAllDocuments(b)) {
        const o = d.toJS() as Any;
        if (o?.apiVersion && o?.kind) objs.push(o);
      }
    }
    const kinds = objs.map((o) => o.kind);
    assert.ok(kinds.includes("HorizontalPodAutoscaler") && kinds.includes("ScaledObject"), kinds.join(","));
    await validateAll(objs.filter((o) => o.apiVersion !== "llmd.ai/v1alpha1"));
    const helm = helmBin(t);
    if (!helm) return;
    const rendered = find(
      helmTemplate(helm, [
        "--set",
        "hpa.enabled=true,hpa.variants[0].name=llama-8b-h100,hpa.variants[0].namespace=llm-inference,hpa.variants[0].deployment=llama-8b-h100-decode",
      ]),
      "HorizontalPodAutoscaler",
    )[0] as Any;
    const sample = parse(readFileSync(join(root, "config/samples/hpa-integration.yaml"), "utf8"));
    assert.deepEqual(rendered.spec.metrics, sample.spec.metrics);
    assert.deepEqual(rendered.spec.scaleTargetRef, sample.spec.scaleTargetRef);
  });
});
