import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { defaultScenario } from "../../src/playground/runner/defaults.js";
import { inProcessManager } from "../../src/playground/runner/controller.js";
import type { Report } from "../../src/playground/runner/report.js";
import { runPlayground } from "../../src/playground/runner/run.js";
import { loadScenarioFile } from "../../src/playground/runner/scenario.js";
import { simulate } from "../../src/simulate/simulate.js";
import { startDashboard } from "../../src/views/dashboard.js";
import { renderReportPage, renderSimulationPage } from "../../src/views/page.js";
import {
  chartsOf,
  collectErrors,
  findChromium,
  launchChromium,
  needBrowser,
  type Browser,
} from "./browser.js";
import { sampleReport, sampleSimulation } from "./fixtures.js";
import { Writable } from "node:stream";

/** Screenshots go here; UPDATE_SCREENSHOTS=1 writes the ones used in the docs to docs/images. */
const dir = mkdtempSync(join(tmpdir(), "wva-views-"));
const shots = process.env.UPDATE_SCREENSHOTS === "1" ? "docs/images" : dir;

async function open(browser: Browser, html: string, name: string, width = 1280) {
  const file = join(dir, `${name}.html`);
  writeFileSync(file, html);
  const page = await browser.context.newPage();
  await page.setViewportSize({ width, height: 800 });
  const errors = collectErrors(page);
  // no network: a page that fetched anything would fail here
  await page.route(/^https?:/, (route) => route.abort());
  await page.goto(`file://${file}`);
  await page.waitForSelector("body[data-ready=true]");
  return { page, errors };
}

/** True when the page is wider than its window (something does not fit a narrow window). */
const overflows = (page: Page) =>
  page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth + 1");

describe("views in Chromium", { timeout: 90_000 }, () => {
  let browser: Browser | undefined;
  before(async () => {
    const exe = findChromium();
    if (exe) browser = await launchChromium(exe);
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("draws a playground report with its data points, thresholds, SLO and decisions", async (t) => {
    const b = needBrowser(t, browser);
    if (!b) return;
    const report = sampleReport();
    const { page, errors } = await open(b, renderReportPage(report), "report");
    const charts = await chartsOf(page);
    const byId = new Map(charts.map((c) => [c.id, c]));
    const times = report.cycles.map((c) => c.t);
    const replicas = byId.get("ns/m:replicas")!;
    assert.deepEqual(replicas.raw[0], times);
    assert.equal(replicas.points, String(times.length));
    assert.deepEqual(
      replicas.raw[1],
      report.cycles.map((c) => c.variants.find((v) => v.variant === "a100")!.current),
    );
    assert.deepEqual(replicas.labels, [
      "a100 current",
      "h100 current",
      "a100 desired",
      "h100 desired",
      "ready (total)",
    ]);
    assert.deepEqual(replicas.raw[3], [1, 1, 2, 2, 2]); // a100 desired
    assert.deepEqual(replicas.raw[5], [2, 2, 2, 3, 3]); // ready total
    assert.deepEqual(
      replicas.marks.map((m) => m.t),
      [6],
    );
    assert.deepEqual(byId.get("ns/m:cost")!.raw[1], [60, 60, 60, 80, 80]);
    const kv = byId.get("ns/m:kv")!;
    assert.deepEqual(kv.labels, ["a100", "h100", "saturation threshold"]);
    assert.deepEqual(kv.raw[3], [80, 80, 80, 80, 80]);
    assert.deepEqual(byId.get("ns/m:queue")!.raw[1], [0, 1, 7, 2, 0]);
    assert.deepEqual(byId.get("ns/m:rate")!.raw[1], [2, 3, 4, 5, 6]);
    const ttft = byId.get("ns/m:ttft")!;
    assert.deepEqual(ttft.labels, ["p50", "p95", "p99", "SLO"]);
    assert.deepEqual(ttft.raw[2], [300, 301, 302, 303, 304]);
    assert.deepEqual(ttft.raw[4], [500, 500, 500, 500, 500]);
    assert.deepEqual(byId.get("ns/m:itl")!.raw[4], [50, 50, 50, 50, 50]);
    const log = await page.locator('table[data-log="ns/m"] tbody tr').allInnerTexts();
    assert.equal(log.length, 1);
    assert.match(log[0], /6\.0\s+a100\s+1 → 2\s+KV cache saturated/);
    assert.match(await page.locator("#status").innerText(), /10 s trial, 5 engine cycles/);
    // the canvas is drawn: some pixels differ from the background
    const inked = await page.evaluate(`(() => {
      const c = document.querySelector('figure[data-chart="ns/m:replicas"] canvas');
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n;
    })()`);
    assert.ok((inked as number) > 1000, `only ${inked} pixels drawn`);
    assert.deepEqual(errors, []);
    await page.setViewportSize({ width: 390, height: 800 });
    await page.waitForTimeout(100);
    assert.equal(await overflows(page), false, "the report page fits a narrow window");
    await page.close();
  });

  it("draws a simulation report: cost and SLO side by side, one panel per policy on one time axis", async (t) => {
    const b = needBrowser(t, browser);
    if (!b) return;
    const { page, errors } = await open(b, renderSimulationPage(sampleSimulation()), "simulation");
    const rows = await page.locator("table.policies tbody tr").allInnerTexts();
    assert.equal(rows.length, 3);
    assert.match(rows[0], /wva\s+120\.00\s+1\.20\s+97\.0 %/);
    assert.equal(await page.locator(".side-by-side figure").count(), 2);
    const all = await chartsOf(page);
    assert.deepEqual(
      all.map((c) => c.id),
      ["load:rate", "load:ttft", "policy:wva", "policy:static-max", "policy:oracle"],
    );
    assert.deepEqual(all[0].raw, [
      [0, 30, 60, 90, 120],
      [0, 10, 20, 30, 40],
    ]);
    assert.deepEqual(all[1].labels, ["wva", "static-max"]);
    assert.deepEqual(all[1].raw.slice(1), [
      [400, 401, 402, 403, 404],
      [100, 101, 102, 103, 104],
    ]);
    const charts = all.slice(2);
    assert.deepEqual(charts[0].raw[0], [0, 30, 60, 90, 120]);
    assert.deepEqual(charts[0].raw[1], [1, 1, 2, 3, 2]);
    assert.deepEqual(charts[2].raw[0], [0, 60, 120]);
    // the oracle names its variant without a namespace: its own series
    assert.deepEqual(charts[2].labels, ["ns/a100", "ns/h100", "a100", "desired (total)"]);
    assert.deepEqual(charts[2].raw[3], [1, 3, 2]);
    const ranges = await page.evaluate("window.wvaCharts.map((c) => [c.u.scales.x.min, c.u.scales.x.max])");
    assert.deepEqual(ranges, Array(5).fill([0, 120]));
    assert.deepEqual(errors, []);
    await page.close();
  });

  it("draws a report of wva simulate as the simulator writes it", async (t) => {
    const b = needBrowser(t, browser);
    if (!b) return;
    const report = simulate(loadScenarioFile("examples/scenarios/spike.yaml"), { seed: 1 });
    const { page, errors } = await open(b, renderSimulationPage(report), "simulate");
    const charts = await chartsOf(page);
    assert.deepEqual(
      charts.map((c) => c.id),
      ["load:rate", "load:ttft", ...report.policies.map((p) => `policy:${p.policy}`)],
    );
    for (const [i, p] of report.policies.entries()) {
      const c = charts[i + 2];
      assert.deepEqual(
        c.raw[0],
        p.timeline.map((e) => e.t),
      );
      const first = p.timeline[0].variants[0];
      assert.equal(c.labels[0], `${first.namespace}/${first.variant}`);
      assert.deepEqual(
        c.raw[1],
        p.timeline.map((e) => e.variants.find((v) => v.variant === first.variant)!.current),
      );
    }
    const rows = await page.locator("table.policies tbody tr").allInnerTexts();
    assert.deepEqual(
      rows.map((r) => r.split("\t")[0]),
      report.policies.map((p) => p.policy),
    );
    assert.deepEqual(errors, []);
    await page.screenshot({ path: join(shots, "simulation-report.png"), fullPage: true });
    await page.close();
  });

  it("follows a live playground trial and keeps its final state when the playground stops", async (t) => {
    const b = needBrowser(t, browser);
    if (!b) return;
    const dashboard = await startDashboard();
    const page = await b.context.newPage();
    const errors = collectErrors(page);
    await page.goto(dashboard.url);
    await page.waitForSelector("body[data-ready=true]");
    const scenario = defaultScenario({
      durationMs: 9000,
      engineIntervalMs: 1000,
      actuation: "direct",
      lowRate: 4,
      highRate: 40,
      stepAtMs: 2000,
      highForMs: 5000,
      startupDelayMs: 500,
      nodes: ["1xH100:8", "1xA100:8"],
    });
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const run = runPlayground(scenario, {
      table: false,
      out: sink,
      handleSignals: false,
      controller: inProcessManager,
      observer: dashboard,
    });
    // live updates: the page counts cycles as they arrive, before the trial ends
    await page.waitForFunction("Number(document.body.dataset.cycles) >= 2", undefined, { timeout: 30_000 });
    const midway = Number(await page.evaluate("document.body.dataset.cycles"));
    let report: Report;
    try {
      report = await run;
      dashboard.end(report);
    } finally {
      await dashboard.close();
    }
    await page.waitForSelector("body[data-ended=true]");
    assert.ok(report.cycles.length > midway, `${report.cycles.length} cycles, ${midway} seen midway`);
    assert.match(await page.locator("#status").innerText(), /has stopped\. This is its final state/);
    const charts = await chartsOf(page);
    const replicas = charts.find((c) => c.id === "playground/llama-3-8b:replicas")!;
    assert.deepEqual(
      replicas.raw[0],
      report.cycles.map((c) => c.t),
    );
    assert.deepEqual(
      replicas.raw[1],
      report.cycles.map((c) => c.variants.find((v) => v.variant === "llama-3-8b-a100")!.current),
    );
    const rate = charts.find((c) => c.id === "playground/llama-3-8b:rate")!;
    assert.deepEqual(
      rate.raw[1],
      report.cycles.map((c) => c.models![0].rate),
    );
    assert.ok(
      report.cycles.some((c) => c.models![0].rate > 0),
      "some requests were sent",
    );
    const ttft = charts.find((c) => c.id === "playground/llama-3-8b:ttft")!;
    assert.deepEqual(
      ttft.raw[2],
      report.cycles.map((c) => c.models![0].ttftMs?.p95 ?? null),
    );
    assert.ok(
      ttft.raw[2].some((v) => v !== null && v > 0),
      "TTFT measured in some cycle",
    );
    assert.deepEqual(errors, []);
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, "playground-dashboard.png") });
    assert.ok(readFileSync(join(shots, "playground-dashboard.png")).length > 10_000);
    await page.close();
  });
});
