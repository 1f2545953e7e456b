// The chart's Grafana dashboard ConfigMap and PrometheusRule: rendered by the real helm, rules checked and
// unit-tested by the real promtool (Debian's prometheus package).
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { DASHBOARD_FILE, dashboardQueries, readDashboard, renderedRuleFile } from "../support/monitoring.js";
import { findPromtool, requireTool } from "../support/tools.js";
import { find, helmBin, helmTemplate, NAMESPACE, one, root, run, type Any } from "./helpers.js";
import { validateAll } from "./k8s-schema.js";

const ALERTS = [
  "WVAMetricsUnavailable",
  "WVASaturatedAtMaxReplicas",
  "WVAEngineCyclesFailing",
  "WVANoLeader",
  "WVADesiredReplicasNotReached",
];

describe("Grafana dashboard and alerts in the chart (real helm, promtool)", () => {
  test("default values render neither the dashboard ConfigMap nor the PrometheusRule", (t) => {
    const helm = helmBin(t);
    if (!helm) return;
    const objs = helmTemplate(helm);
    assert.equal(find(objs, "PrometheusRule").length, 0);
    assert.equal(
      objs.filter((o) => o.kind === "ConfigMap" && o.metadata.labels?.grafana_dashboard !== undefined).length,
      0,
    );
  });

  test("grafana.dashboards.enabled renders the dashboard JSON in a ConfigMap labelled for the Grafana sidecar", async (t) => {
    const helm = helmBin(t);
    if (!helm) return;
    const objs = helmTemplate(helm, [
      "--set",
      "grafana.dashboards.enabled=true",
      "--set",
      "grafana.dashboards.annotations.grafana_folder=WVA",
    ]);
    await validateAll(objs);
    const cm = one(objs, "ConfigMap", "workload-variant-autoscaler-grafana-dashboards") as Any;
    assert.equal(cm.metadata.namespace, NAMESPACE);
    assert.equal(cm.metadata.labels.grafana_dashboard, "1");
    assert.equal(cm.metadata.annotations.grafana_folder, "WVA");
    assert.equal(cm.data["wva-overview.json"], readFileSync(DASHBOARD_FILE, "utf8"));
    const dashboard = JSON.parse(cm.data["wva-overview.json"]);
    assert.equal(dashboard.uid, "wva-overview");
    const exprs = dashboardQueries(dashboard)
      .map((q) => q.expr)
      .join("\n");
    for (const metric of [
      "wva_desired_replicas",
      "wva_current_replicas",
      "wva_desired_ratio",
      "wva_replica_scaling_total",
      "wva_engine_cycle_duration_seconds_bucket",
      "wva_engine_cycle_failures_total",
      "wva_metrics_missing_cycles",
      "vllm:kv_cache_usage_perc",
      "vllm:num_requests_waiting",
      "leader_election_master_status",
    ])
      assert.ok(exprs.includes(metric), `the dashboard has no panel on ${metric}`);
    const other = helmTemplate(helm, [
      "--set",
      "grafana.dashboards.enabled=true",
      "--set",
      "grafana.dashboards.namespace=monitoring",
    ]);
    assert.equal(
      (one(other, "ConfigMap", "workload-variant-autoscaler-grafana-dashboards") as Any).metadata.namespace,
      "monitoring",
    );
  });

  test("every dashboard panel has a title, a description and axes with units", () => {
    for (const p of readDashboard().panels as Any[]) {
      if (p.type === "row") continue;
      assert.ok(p.title && p.description, `panel ${p.title ?? p.id} lacks a title or description`);
      assert.ok(p.fieldConfig.defaults.unit, `panel ${p.title} has no unit`);
      assert.ok(p.fieldConfig.defaults.custom.axisLabel, `panel ${p.title} has no axis label`);
    }
  });

  test("prometheusRule.enabled renders a schema-valid PrometheusRule that promtool accepts, with the five alerts", async (t) => {
    const helm = helmBin(t);
    const promtool = requireTool(t, "promtool", findPromtool(), "bash scripts/install-test-deps.sh");
    if (!helm || !promtool) return;
    const objs = helmTemplate(helm, [
      "--set",
      "prometheusRule.enabled=true",
      "--set",
      "prometheusRule.labels.release=kps",
    ]);
    await validateAll(objs);
    const rule = one(objs, "PrometheusRule") as Any;
    assert.equal(rule.metadata.labels.release, "kps");
    assert.deepEqual(
      rule.spec.groups[0].rules.map((r: Any) => r.alert),
      ALERTS,
    );
    const dir = mkdtempSync(join(tmpdir(), "wva-rules-"));
    try {
      for (const [name, sets] of [
        ["default", []],
        ["instance", ["controllerInstance=Team_A", "prometheusRule.metricsUnavailableCycles=5"]],
      ] as const) {
        const text = renderedRuleFile(helm, [...sets]);
        const file = join(dir, `${name}.yaml`);
        writeFileSync(file, text);
        const r = run(promtool, ["check", "rules", file]);
        assert.equal(r.status, 0, `promtool check rules (${name}):\n${r.stdout}${r.stderr}`);
        assert.match(r.stdout, /SUCCESS: 5 rules found/);
        if (name === "instance") {
          assert.match(text, /wva_metrics_missing_cycles\{controller_instance="Team_A"\}\) >= 5/);
          assert.match(text, /leader_election_master_status\{name="team-a\.72dd1cf1\.llm-d\.ai"\}/);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("promtool test rules: each alert fires on its input series and stays quiet otherwise", (t) => {
    const helm = helmBin(t);
    const promtool = requireTool(t, "promtool", findPromtool(), "bash scripts/install-test-deps.sh");
    if (!helm || !promtool) return;
    const dir = mkdtempSync(join(tmpdir(), "wva-rules-"));
    try {
      writeFileSync(join(dir, "rules.yaml"), renderedRuleFile(helm));
      copyFileSync(
        join(root, "test/fixtures/alerts/wva-alerts.test.yaml"),
        join(dir, "wva-alerts.test.yaml"),
      );
      const unit = readFileSync(join(dir, "wva-alerts.test.yaml"), "utf8");
      for (const alert of ALERTS)
        assert.ok(unit.includes(`alertname: ${alert}`), `no unit test for ${alert}`);
      const r = run(promtool, ["test", "rules", "wva-alerts.test.yaml"], { cwd: dir });
      assert.equal(r.status, 0, `promtool test rules:\n${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /SUCCESS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
