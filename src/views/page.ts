import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Report, ReportHeader } from "../playground/runner/report.js";
import { simulationView, type SimulationView } from "./simulation.js";

/**
 * The HTML pages of the views: one self-contained file each, with uPlot, the page's script and its
 * data inlined (no network needed). The browser script is `client/views.js`; the design of the pages
 * is in docs/design/views.md.
 */

const require = createRequire(import.meta.url);
let assets: { uplotJs: string; uplotCss: string; client: string } | undefined;

function loadAssets() {
  assets ??= {
    uplotJs: readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js"), "utf8"),
    uplotCss: readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8"),
    client: readFileSync(new URL("./client/views.js", import.meta.url), "utf8"),
  };
  return assets;
}

/** What the page's script draws. */
export type PageData =
  | { mode: "live"; header?: ReportHeader }
  | { mode: "report"; report: Report }
  | { mode: "simulation"; simulation: SimulationView };

const CSS = `
:root { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111; background: #fff; }
body { margin: 0 auto; padding: 12px 16px 32px; max-width: 1600px; }
h1 { font-size: 1.4rem; margin: 0.2rem 0; }
h2 { font-size: 1.15rem; margin: 1.2rem 0 0.4rem; }
#subtitle { color: #444; margin: 0 0 0.6rem; }
.status { padding: 6px 10px; border-radius: 4px; border-left: 6px solid; margin-bottom: 8px; }
.status.live { background: #e8f1fb; border-color: #0072b2; }
.status.done { background: #eef7f1; border-color: #009e73; }
.status.stopped { background: #fdf0e6; border-color: #d55e00; font-weight: 600; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 400px), 1fr)); gap: 10px; }
.chart { margin: 0; border: 1px solid #ddd; border-radius: 4px; padding: 4px; min-width: 0; }
.chart figcaption, .bars figcaption { font-weight: 600; font-size: 0.9rem; margin: 2px 4px 4px; }
.uplot .u-legend { font-size: 0.8rem; }
.uplot .u-legend th { font-weight: 500; }
.uplot .u-legend .u-series > * { padding: 1px 3px; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 6px 0; width: 100%; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.log { margin-top: 8px; }
.log table { display: block; max-height: 260px; overflow: auto; }
.summary { margin: 4px 0 8px; padding-left: 1.2rem; }
.side-by-side { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 360px), 1fr)); gap: 10px; margin: 10px 0; }
.bars { margin: 0; border: 1px solid #ddd; border-radius: 4px; padding: 6px; }
.bar-row { display: grid; grid-template-columns: 9rem 1fr 6rem; align-items: center; gap: 6px; margin: 3px 0; }
.bar-track { background: #eee; height: 14px; border-radius: 2px; }
.bar { display: block; height: 100%; background: #0072b2; border-radius: 2px; }
.bar-value { font-variant-numeric: tabular-nums; }
.policies-grid { margin-top: 10px; }
`;

/** JSON safe to put inside a script element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

/** The page for `data`, as one HTML document. */
export function renderPage(title: string, data: PageData): string {
  const a = loadAssets();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${a.uplotCss}</style>
<style>${CSS}</style>
</head>
<body>
<header>
<h1 id="title">${escapeHtml(title)}</h1>
<p id="subtitle"></p>
<div id="status" class="status live" role="status" aria-live="polite">Loading…</div>
</header>
<main id="main"></main>
<script type="application/json" id="wva-data">${scriptJson(data)}</script>
<script>${a.uplotJs}</script>
<script>${a.client}</script>
</body>
</html>
`;
}

/** The offline page of a playground report. */
export function renderReportPage(report: Report): string {
  return renderPage(`WVA playground: ${report.scenario}`, { mode: "report", report });
}

/**
 * The offline page of a `wva simulate` report (its parsed JSON): the policies' cost and SLO attainment
 * side by side and one replica panel per policy on the same time axis. Throws ReportFormatError when
 * the report has no `policies`.
 */
export function renderSimulationPage(report: unknown): string {
  const simulation = simulationView(report);
  return renderPage(`WVA simulation: ${simulation.scenario}`, { mode: "simulation", simulation });
}
