import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { dashboardPort } from "../../src/cli/commands/playground.js";
import { reportPage } from "../../src/cli/commands/report.js";
import { UsageError } from "../../src/cli/usage-error.js";
import { startDashboard } from "../../src/views/dashboard.js";
import { renderReportPage } from "../../src/views/page.js";
import { ReportFormatError, simulationView } from "../../src/views/simulation.js";
import { sampleReport, sampleSimulation } from "./fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "wva-views-unit-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function wva(...args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", "src/cli/wva.ts", ...args], { encoding: "utf8" });
}

describe("simulation report reader", () => {
  it("reads the policies and their timelines, tolerating missing and alternative fields", () => {
    const v = simulationView(sampleSimulation());
    assert.equal(v.scenario, "burst");
    assert.deepEqual(
      v.policies.map((p) => [p.policy, p.cost, p.sloAttainment, p.timeline.length]),
      [
        ["wva", 120, 0.97, 5],
        ["static-max", 200, 1, 5],
        ["oracle", 100, 0.99, 3],
      ],
    );
    assert.deepEqual(v.policies[0].timeline[1].variants[0], {
      key: "ns/a100",
      model: "m",
      current: 1,
      ready: 1,
      desired: 2,
    });
    // tMs in ms, `name` and `replicas`, ready and desired default to the current count
    assert.deepEqual(v.policies[2].timeline[1], {
      t: 60,
      variants: [{ key: "a100", current: 3, ready: 3, desired: 3 }],
      load: [],
    });
    assert.deepEqual(v.policies[0].timeline[2].load, [{ key: "ns/m", rate: 20, ttftP95: 402 }]);
    assert.equal(v.policies[1].ttftMs, null);
    assert.equal(v.policies[2].requests, null);
  });

  it("names the field when the report cannot be drawn", () => {
    assert.throws(() => simulationView([]), /must be a JSON object/);
    assert.throws(() => simulationView({ policies: {} }), {
      name: "ReportFormatError",
      message: /^policies: /,
    });
    assert.throws(() => simulationView({ policies: [{ cost: 1 }] }), {
      message: /^policies\[0\]\.policy: must be a string/,
    });
  });
});

describe("report pages", () => {
  it("is one self-contained HTML document: uPlot, script and data inline, nothing fetched", () => {
    const html = renderReportPage(sampleReport());
    assert.match(html, /^<!doctype html>/);
    assert.ok(html.includes("uPlot"), "uPlot inlined");
    assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href="(?!data:)/);
    const data = /<script type="application\/json" id="wva-data">(.*?)<\/script>/s.exec(html)![1];
    assert.equal(JSON.parse(data).report.cycles.length, 5);
  });

  it("keeps the data inside its script element whatever the names contain", () => {
    const r = sampleReport();
    r.scenario = "</script><script>alert(1)</script>";
    const html = renderReportPage(r);
    assert.equal(html.match(/<\/script>/g)!.length, 3);
    assert.ok(html.includes("&lt;/script&gt;"), "title escaped");
  });

  it("tells playground and simulation reports apart and refuses others", () => {
    assert.match(reportPage(sampleReport()), /"mode":"report"/);
    assert.match(reportPage(sampleSimulation()), /"mode":"simulation"/);
    assert.throws(() => reportPage({ scenario: "x" }), ReportFormatError);
    assert.throws(() => reportPage({ cycles: [] }), /models: must be an array/);
  });

  it("wva report view writes the page next to the report; bad input exits 2 naming the field", () => {
    const report = join(dir, "trial.json");
    writeFileSync(report, JSON.stringify(sampleReport()));
    let r = wva("report", "view", report);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `wrote ${join(dir, "trial.html")}\n`);
    assert.match(readFileSync(join(dir, "trial.html"), "utf8"), /WVA playground: sample/);
    writeFileSync(join(dir, "bad.json"), '{"cycles": 1}');
    r = wva("report", "view", join(dir, "bad.json"));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^wva: .*bad\.json: cycles: must be an array/);
  });
});

describe("live dashboard server", () => {
  it("replays the trial so far to a new client, then streams cycles and the end", async () => {
    const d = await startDashboard();
    try {
      assert.match(d.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const r = sampleReport();
      const { cycles, models: _m, duration: _d, ...header } = r;
      d.start(header);
      d.cycle(cycles[0]);
      const page = await fetch(d.url);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /"mode":"live"/);
      const res = await fetch(new URL("events", d.url));
      assert.equal(res.headers.get("content-type"), "text/event-stream");
      d.cycle(cycles[1]);
      d.end(r);
      const reader = res.body!.getReader();
      let text = "";
      while (!text.includes("event: end")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
      }
      await reader.cancel();
      const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
      assert.deepEqual(events, ["header", "cycle", "cycle", "end"]);
      assert.equal((await fetch(new URL("nope", d.url))).status, 404);
    } finally {
      await d.close();
    }
  });

  it("--dashboard takes an optional port and refuses anything else with exit status 2", () => {
    assert.equal(dashboardPort(true), 0);
    assert.equal(dashboardPort("8099"), 8099);
    for (const bad of ["abc", "-1", "70000", "1.5"])
      assert.throws(
        () => dashboardPort(bad),
        (e: Error) => e instanceof UsageError && /^--dashboard: /.test(e.message),
      );
    const r = wva("playground", "--dashboard", "abc");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--dashboard: must be a TCP port/);
  });
});
