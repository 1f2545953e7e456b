// The chart's Grafana dashboard and PrometheusRule, read back for tests.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { chartDir, find, helmTemplate } from "../packaging/helpers.js";

export const DASHBOARD_FILE = join(chartDir, "dashboards", "wva-overview.json");

interface Panel {
  title?: string;
  type?: string;
  targets?: Array<{ expr?: string; refId?: string }>;
  panels?: Panel[];
}

/** Every PromQL expression of a dashboard (panels in rows included), with the panel title and refId. */
export function dashboardQueries(dashboard: { panels?: Panel[] }): Array<{ panel: string; expr: string }> {
  const out: Array<{ panel: string; expr: string }> = [];
  const walk = (panels: Panel[] = []) => {
    for (const p of panels) {
      for (const t of p.targets ?? [])
        if (t.expr) out.push({ panel: `${p.title ?? "?"} [${t.refId ?? "?"}]`, expr: t.expr });
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

export function readDashboard(): { panels?: Panel[]; templating?: { list: Array<Record<string, unknown>> } } {
  return JSON.parse(readFileSync(DASHBOARD_FILE, "utf8")) as ReturnType<typeof readDashboard>;
}

/**
 * Replaces Grafana's variables as Grafana would: `$namespace` by its "All" value, `$lease` by the
 * textbox default, `$__rate_interval` by `rateInterval`.
 */
export function expandVariables(expr: string, rateInterval: string): string {
  const dashboard = readDashboard();
  let out = expr.replaceAll("$__rate_interval", rateInterval);
  for (const v of dashboard.templating?.list ?? []) {
    const name = v.name as string;
    const value =
      v.type === "textbox" ? (v.query as string) : v.includeAll ? (v.allValue as string) : undefined;
    if (value !== undefined) out = out.replaceAll(`$${name}`, value);
  }
  return out;
}

/** The rule groups of the chart's PrometheusRule, as a Prometheus rule file (YAML). */
export function renderedRuleFile(helm: string, sets: string[] = []): string {
  const objs = helmTemplate(helm, [
    "--set",
    "prometheusRule.enabled=true",
    ...sets.flatMap((s) => ["--set", s]),
  ]);
  const rules = find(objs, "PrometheusRule");
  if (rules.length !== 1) throw new Error(`expected one PrometheusRule, found ${rules.length}`);
  return stringify({ groups: (rules[0].spec as { groups: unknown[] }).groups });
}
