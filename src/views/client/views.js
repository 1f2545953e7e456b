// Browser side of the WVA views: draws the playground dashboard (live over Server-Sent Events, or from a
// report) and the simulation comparison with uPlot. The page embeds its data as JSON in #wva-data:
// { mode: "live" | "report" | "simulation", header?, cycles?, report?, simulation? }.
// Every chart is listed in window.wvaCharts with the raw (unstacked) values it draws.
(function () {
  "use strict";

  // Okabe-Ito: distinguishable with the common colour-vision deficiencies.
  const COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999933", "#000000"];
  const LIMIT_COLOR = "#b00020";
  const boot = JSON.parse(document.getElementById("wva-data").textContent);
  const charts = [];
  window.wvaCharts = charts;
  const statusEl = document.getElementById("status");
  const main = document.getElementById("main");

  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const c of children || []) e.appendChild(c);
    return e;
  }
  const color = (i) => COLORS[i % COLORS.length];
  const fmt = (v, digits) => (v === null || v === undefined || Number.isNaN(v) ? "–" : v.toFixed(digits));
  function setStatus(text, kind) {
    statusEl.textContent = text;
    statusEl.className = `status ${kind}`;
  }

  // ---- charts -------------------------------------------------------------------------------------

  /**
   * A line chart in `parent`. series: [{label, color, dash?, stack?, area?, step?, width?}];
   * raw: [x[], y1[], ...]. Series with the same `stack` name are drawn stacked (running sums, in order);
   * with `area` each fills down to the one below it.
   * marks: [{t, color}] draws a vertical line at each t (decisions).
   */
  function chart(parent, spec) {
    const box = el("figure", { class: "chart", "data-chart": spec.id }, [
      el("figcaption", { text: spec.title }),
    ]);
    parent.appendChild(box);
    const entry = {
      id: spec.id,
      title: spec.title,
      labels: spec.series.map((s) => s.label),
      raw: [],
      marks: [],
    };
    charts.push(entry);
    // the legend shows the raw values under the pointer, or the latest ones without it
    const legendValue = (u, v, si, idx) => {
      const col = entry.raw[si];
      const i = idx === null || idx === undefined ? (col ? col.length - 1 : -1) : idx;
      const r = col ? col[i] : v;
      return r === null || r === undefined ? "–" : String(Math.round(r * 100) / 100);
    };
    const opts = {
      width: Math.max(280, box.clientWidth - 8),
      height: 220,
      scales: {
        x: { time: false },
        y: { range: (u, min, max) => [Math.min(0, min), Math.max(1, max * 1.1)] },
      },
      axes: [
        { label: spec.xLabel || "time since start (s)", stroke: "#222", grid: { stroke: "#e6e6e6" } },
        { label: spec.yLabel, stroke: "#222", grid: { stroke: "#e6e6e6" }, size: 56 },
      ],
      legend: { live: true },
      // each stacked area fills down to the one below it, not to zero
      bands: spec.series.flatMap((s, i) => {
        if (!s.area) return [];
        const below = spec.series.slice(0, i).findLastIndex((b) => b.area && b.stack === s.stack);
        return below < 0 ? [] : [{ series: [i + 1, below + 1] }];
      }),
      cursor: { drag: { x: false, y: false } },
      series: [{ label: "t (s)", value: legendValue }].concat(
        spec.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.width || 2,
          dash: s.dash,
          fill: s.area ? `${s.color}66` : undefined,
          paths: s.step ? uPlot.paths.stepped({ align: 1 }) : undefined,
          points: { show: false },
          value: legendValue,
          spanGaps: false,
        })),
      ),
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            ctx.save();
            ctx.lineWidth = 2 * devicePixelRatio;
            ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
            for (const m of entry.marks) {
              const x = Math.round(u.valToPos(m.t, "x", true));
              ctx.strokeStyle = m.color;
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
            }
            ctx.restore();
          },
        ],
      },
    };
    const u = new uPlot(opts, [[], ...spec.series.map(() => [])], box);
    entry.u = u;
    entry.set = (raw, marks, xRange) => {
      entry.raw = raw;
      entry.marks = marks || [];
      box.setAttribute("data-points", String(raw[0].length));
      // stacked series are drawn as running sums per stack
      const drawn = raw.map((col) => col.slice());
      const acc = new Map();
      spec.series.forEach((s, i) => {
        if (!s.stack) return;
        const col = raw[i + 1];
        const below = acc.get(s.stack);
        const sum = below ? below.map((a, j) => a + (col[j] || 0)) : col.map((v) => v || 0);
        acc.set(s.stack, sum);
        drawn[i + 1] = sum;
      });
      u.setData(drawn);
      if (xRange) u.setScale("x", { min: xRange[0], max: xRange[1] });
    };
    new ResizeObserver(() => {
      const w = Math.max(280, box.clientWidth - 8);
      if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height: 220 });
    }).observe(box);
    return entry;
  }

  // ---- playground trial -----------------------------------------------------------------------------

  function modelsOf(header, cycles) {
    const models = new Map();
    const add = (namespace, model, variant, cost) => {
      const key = `${namespace}/${model}`;
      if (!models.has(key)) models.set(key, { key, namespace, model, variants: [], slo: undefined });
      const m = models.get(key);
      if (!m.variants.some((v) => v.variant === variant)) m.variants.push({ variant, cost });
    };
    const setup = header && header.setup;
    if (setup) for (const v of setup.variants) add(v.namespace, v.model, v.variant, v.cost);
    for (const c of cycles) for (const v of c.variants) add(v.namespace, v.model, v.variant, undefined);
    if (setup)
      for (const s of setup.slo || []) {
        const m = models.get(`${s.namespace}/${s.model}`);
        if (m) m.slo = s;
      }
    return [...models.values()];
  }

  /** A decision is a change of a variant's desired count (the first cycle: desired differs from current). */
  function decisionsOf(m, cycles) {
    const out = [];
    const last = new Map();
    for (const c of cycles)
      for (const v of c.variants) {
        if (v.namespace !== m.namespace || v.model !== m.model) continue;
        const before = last.has(v.variant) ? last.get(v.variant) : v.current;
        if (v.desired !== before)
          out.push({ t: c.t, variant: v.variant, from: before, to: v.desired, reason: v.reason });
        last.set(v.variant, v.desired);
      }
    return out;
  }

  function clear() {
    for (const c of charts.splice(0)) c.u.destroy();
    main.replaceChildren();
  }

  function trialView(header) {
    const view = { sections: [] };
    clear();
    const sat = header && header.setup ? header.setup.saturation : undefined;
    view.render = (cycles) => {
      const models = modelsOf(header, cycles);
      if (view.sections.length !== models.length) {
        clear();
        view.sections = models.map((m) => trialSection(m, sat));
      }
      models.forEach((m, i) => view.sections[i].update(m, cycles));
    };
    return view;
  }

  function trialSection(m, sat) {
    const section = el("section", { class: "model", "data-model": m.key }, [el("h2", { text: m.key })]);
    main.appendChild(section);
    const grid = el("div", { class: "grid" });
    section.appendChild(grid);
    const vs = m.variants;
    const replicas = chart(grid, {
      id: `${m.key}:replicas`,
      title:
        "Replicas per variant, stacked: current (areas), desired (dashed), ready (total); dashed marks: decisions",
      yLabel: "replicas",
      series: vs
        .map((v, i) => ({
          label: `${v.variant} current`,
          color: color(i),
          stack: "current",
          area: true,
          step: true,
        }))
        .concat(
          vs.map((v, i) => ({
            label: `${v.variant} desired`,
            color: color(i),
            stack: "desired",
            dash: [6, 4],
            step: true,
          })),
        )
        .concat([{ label: "ready (total)", color: "#222", width: 1.5, step: true }]),
    });
    const cost = chart(grid, {
      id: `${m.key}:cost`,
      title: "Cost of the running replicas",
      yLabel: "cost units / h",
      series: [{ label: "cost / h", color: color(0), step: true }],
    });
    const kv = chart(grid, {
      id: `${m.key}:kv`,
      title: "KV-cache use per variant (mean over its pods)",
      yLabel: "KV cache used (%)",
      series: vs
        .map((v, i) => ({ label: v.variant, color: color(i) }))
        .concat(sat ? [{ label: "saturation threshold", color: LIMIT_COLOR, dash: [6, 4] }] : []),
    });
    const queue = chart(grid, {
      id: `${m.key}:queue`,
      title: "Queue per variant (waiting requests, summed over its pods)",
      yLabel: "waiting requests",
      series: vs
        .map((v, i) => ({ label: v.variant, color: color(i) }))
        .concat(sat ? [{ label: "queue threshold", color: LIMIT_COLOR, dash: [6, 4] }] : []),
    });
    const rate = chart(grid, {
      id: `${m.key}:rate`,
      title: "Request rate",
      yLabel: "requests / s",
      series: [{ label: "sent", color: color(0) }],
    });
    const latency = (name, sloValue) =>
      chart(grid, {
        id: `${m.key}:${name.toLowerCase()}`,
        title: `${name} percentiles per cycle${sloValue ? " against the SLO" : ""}`,
        yLabel: `${name} (ms)`,
        series: [
          { label: "p50", color: color(0) },
          { label: "p95", color: color(1) },
          { label: "p99", color: color(5) },
        ].concat(sloValue ? [{ label: "SLO", color: LIMIT_COLOR, dash: [6, 4] }] : []),
      });
    const ttft = latency("TTFT", m.slo && m.slo.ttftMs);
    const itl = latency("ITL", m.slo && m.slo.itlMs);
    const logBody = el("tbody");
    section.appendChild(
      el("details", { class: "log", open: "" }, [
        el("summary", { text: "Decision log" }),
        el("table", { "data-log": m.key }, [
          el("thead", {}, [
            el("tr", {}, [
              el("th", { text: "time (s)" }),
              el("th", { text: "variant" }),
              el("th", { text: "from → to" }),
              el("th", { text: "reason" }),
            ]),
          ]),
          logBody,
        ]),
      ]),
    );

    return {
      update(mm, cycles) {
        const rows = cycles.map((c) => ({
          t: c.t,
          byVariant: new Map(
            c.variants
              .filter((v) => v.namespace === mm.namespace && v.model === mm.model)
              .map((v) => [v.variant, v]),
          ),
          load: (c.models || []).find((x) => x.namespace === mm.namespace && x.model === mm.model),
        }));
        const t = rows.map((r) => r.t);
        const col = (f) => rows.map(f);
        const field = (name, v, scale) =>
          col((r) => (r.byVariant.has(v.variant) ? r.byVariant.get(v.variant)[name] * (scale || 1) : null));
        const sum = (name) =>
          col((r) => {
            let s = 0;
            for (const x of r.byVariant.values()) s += x[name];
            return s;
          });
        const decisions = decisionsOf(mm, cycles);
        const marks = decisions.map((d) => ({
          t: d.t,
          color: color(vs.findIndex((v) => v.variant === d.variant)),
        }));
        replicas.set(
          [t, ...vs.map((v) => field("current", v)), ...vs.map((v) => field("desired", v)), sum("ready")],
          marks,
        );
        cost.set(
          [
            t,
            col((r) => {
              let s = 0;
              for (const v of vs)
                if (r.byVariant.has(v.variant)) s += r.byVariant.get(v.variant).current * (v.cost || 0);
              return s;
            }),
          ],
          marks,
        );
        const constant = (x) => t.map(() => x);
        kv.set(
          [t, ...vs.map((v) => field("kvUsage", v, 100))].concat(
            sat ? [constant(sat.kvCacheThreshold * 100)] : [],
          ),
          marks,
        );
        queue.set(
          [t, ...vs.map((v) => field("queue", v))].concat(sat ? [constant(sat.queueLengthThreshold)] : []),
          marks,
        );
        rate.set([t, col((r) => (r.load ? r.load.rate : null))], marks);
        const pct = (name, p) => col((r) => (r.load && r.load[name] ? r.load[name][p] : null));
        const lat = (c, name, sloValue) =>
          c.set(
            [t, pct(name, "p50"), pct(name, "p95"), pct(name, "p99")].concat(
              sloValue ? [constant(sloValue)] : [],
            ),
            marks,
          );
        lat(ttft, "ttftMs", mm.slo && mm.slo.ttftMs);
        lat(itl, "itlMs", mm.slo && mm.slo.itlMs);
        logBody.replaceChildren(
          ...decisions
            .slice()
            .reverse()
            .map((d) =>
              el("tr", {}, [
                el("td", { text: fmt(d.t, 1) }),
                el("td", { text: d.variant }),
                el("td", { text: `${d.from} → ${d.to}` }),
                el("td", { text: d.reason }),
              ]),
            ),
        );
        if (decisions.length === 0)
          logBody.appendChild(el("tr", {}, [el("td", { colspan: "4", text: "no scaling decision yet" })]));
      },
    };
  }

  function summaryOf(report) {
    const lines = report.models.map(
      (m) =>
        `${m.namespace}/${m.modelID}: ${m.requests.sent} requests sent, ${m.requests.completed} completed, ` +
        `${m.requests.failed} failed; TTFT p95 ${fmt(m.ttftMs.p95, 0)} ms; ITL p95 ${fmt(m.itlMs.p95, 0)} ms`,
    );
    return el(
      "ul",
      { class: "summary" },
      lines.map((l) => el("li", { text: l })),
    );
  }

  function describe(header) {
    document.getElementById("subtitle").textContent =
      `${header.actuation} actuation, engine every ${header.engineInterval} s, started ${header.startedAt}`;
  }

  function showReport(report) {
    document.getElementById("title").textContent = `WVA playground: ${report.scenario}`;
    describe(report);
    const view = trialView(report);
    view.render(report.cycles);
    main.prepend(summaryOf(report));
    setStatus(`Report of a ${report.duration} s trial, ${report.cycles.length} engine cycles.`, "done");
  }

  function live() {
    let view;
    let cycles = [];
    let finished = false;
    setStatus("Connecting to the playground…", "live");
    const es = new EventSource("events");
    es.addEventListener("header", (e) => {
      const header = JSON.parse(e.data);
      document.getElementById("title").textContent = `WVA playground: ${header.scenario} (live)`;
      describe(header);
      cycles = [];
      view = trialView(header);
      view.render(cycles);
      setStatus("Live: the playground is starting; waiting for the first engine cycle of the trial…", "live");
    });
    es.addEventListener("cycle", (e) => {
      const c = JSON.parse(e.data);
      cycles.push(c);
      if (view) view.render(cycles);
      setStatus(`Live: engine cycle ${cycles.length} at ${fmt(c.t, 1)} s.`, "live");
      document.body.setAttribute("data-cycles", String(cycles.length));
    });
    es.addEventListener("end", (e) => {
      finished = true;
      es.close();
      const report = JSON.parse(e.data);
      document.getElementById("title").textContent = `WVA playground: ${report.scenario}`;
      if (view) view.render(report.cycles);
      main.prepend(summaryOf(report));
      setStatus(
        `The trial ended after ${report.duration} s (${report.cycles.length} engine cycles) and the playground ` +
          "has stopped. This is its final state.",
        "done",
      );
      document.body.setAttribute("data-ended", "true");
    });
    es.onerror = () => {
      if (finished) return;
      es.close();
      setStatus(
        "The playground has stopped (connection lost). The charts show the last state received.",
        "stopped",
      );
      document.body.setAttribute("data-ended", "true");
    };
  }

  // ---- simulation comparison ------------------------------------------------------------------------

  function bars(title, unit, items, max) {
    return el("figure", { class: "bars", "data-bars": title }, [
      el("figcaption", { text: title }),
      ...items.map((it) => {
        const pct = it.value === null || !max ? 0 : Math.max(0, Math.min(100, (100 * it.value) / max));
        return el("div", { class: "bar-row" }, [
          el("span", { class: "bar-label", text: it.label }),
          el("span", { class: "bar-track" }, [el("span", { class: "bar", style: `width:${pct}%` })]),
          el("span", { class: "bar-value", text: it.value === null ? "–" : `${it.text}${unit}` }),
        ]);
      }),
    ]);
  }

  function showSimulation(sim) {
    document.getElementById("title").textContent = `WVA simulation: ${sim.scenario}`;
    document.getElementById("subtitle").textContent =
      `${sim.policies.length} policies compared on the same arrivals`;
    const table = el("table", { class: "policies" }, [
      el("thead", {}, [
        el(
          "tr",
          {},
          [
            "policy",
            "cost",
            "cost / oracle",
            "SLO attainment",
            "requests sent / completed / failed",
            "TTFT p95 (ms)",
            "ITL p95 (ms)",
            "scaling actions",
            "reversals",
          ].map((h) => el("th", { text: h })),
        ),
      ]),
      el(
        "tbody",
        {},
        sim.policies.map((p) =>
          el(
            "tr",
            {},
            [
              p.policy,
              fmt(p.cost, 2),
              fmt(p.costRatioToOracle, 2),
              p.sloAttainment === null ? "–" : `${fmt(p.sloAttainment * 100, 1)} %`,
              p.requests ? `${p.requests.sent} / ${p.requests.completed} / ${p.requests.failed}` : "–",
              fmt(p.ttftMs && p.ttftMs.p95, 0),
              fmt(p.itlMs && p.itlMs.p95, 0),
              fmt(p.scalingActions, 0),
              fmt(p.reversals, 0),
            ].map((x) => el("td", { text: String(x) })),
          ),
        ),
      ),
    ]);
    const maxCost = Math.max(0, ...sim.policies.map((p) => p.cost || 0));
    main.replaceChildren(
      table,
      el("div", { class: "side-by-side" }, [
        bars(
          "Cost (lower is better)",
          "",
          sim.policies.map((p) => ({ label: p.policy, value: p.cost, text: fmt(p.cost, 2) })),
          maxCost,
        ),
        bars(
          "SLO attainment (higher is better)",
          " %",
          sim.policies.map((p) => ({
            label: p.policy,
            value: p.sloAttainment,
            text: fmt(p.sloAttainment === null ? null : p.sloAttainment * 100, 1),
          })),
          1,
        ),
      ]),
    );
    const variants = [];
    for (const p of sim.policies)
      for (const s of p.timeline)
        for (const v of s.variants) if (!variants.includes(v.key)) variants.push(v.key);
    const ts = sim.policies.flatMap((p) => p.timeline.map((s) => s.t));
    const xRange = ts.length > 0 ? [Math.min(...ts), Math.max(...ts)] : undefined;
    const grid = el("div", { class: "grid policies-grid" });
    main.appendChild(grid);
    // load and latency of every policy on one chart each: the arrivals are the same for all policies
    const loadKeys = [];
    for (const p of sim.policies)
      for (const s of p.timeline) for (const l of s.load) if (!loadKeys.includes(l.key)) loadKeys.push(l.key);
    const withLoad = sim.policies.filter((p) => p.timeline.some((s) => s.load.length > 0));
    const loadOf = (s, k, f) => {
      const l = s.load.find((x) => x.key === k);
      return l ? l[f] : null;
    };
    if (withLoad.length > 0) {
      const first = withLoad[0];
      chart(grid, {
        id: "load:rate",
        title: "Arrival rate (the same for every policy)",
        yLabel: "requests / s",
        series: loadKeys.map((k, i) => ({ label: k, color: color(i) })),
      }).set(
        [
          first.timeline.map((s) => s.t),
          ...loadKeys.map((k) => first.timeline.map((s) => loadOf(s, k, "rate"))),
        ],
        [],
        xRange,
      );
      // one line per policy and model; the policies share a time axis but not necessarily their cycle times
      const times = [...new Set(withLoad.flatMap((p) => p.timeline.map((s) => s.t)))].sort((a, b) => a - b);
      const series = [];
      const cols = [];
      for (const p of withLoad)
        for (const k of loadKeys) {
          const at = new Map(p.timeline.map((s) => [s.t, loadOf(s, k, "ttftP95")]));
          series.push({
            label: loadKeys.length > 1 ? `${p.policy} ${k}` : p.policy,
            color: color(series.length),
          });
          cols.push(times.map((t) => (at.has(t) ? at.get(t) : null)));
        }
      chart(grid, {
        id: "load:ttft",
        title: "TTFT p95 per policy (requests completed in each cycle)",
        yLabel: "TTFT p95 (ms)",
        series,
      }).set([times, ...cols], [], xRange);
    }
    for (const p of sim.policies) {
      const c = chart(grid, {
        id: `policy:${p.policy}`,
        title: `${p.policy}: replicas per variant (stacked current; total desired)`,
        yLabel: "replicas",
        series: variants
          .map((k, i) => ({ label: k, color: color(i), stack: "current", area: true, step: true }))
          .concat([{ label: "desired (total)", color: LIMIT_COLOR, dash: [6, 4], step: true }]),
      });
      const pick = (s, k, f) => {
        const v = s.variants.find((x) => x.key === k);
        return v ? v[f] : null;
      };
      c.set(
        [
          p.timeline.map((s) => s.t),
          ...variants.map((k) => p.timeline.map((s) => pick(s, k, "current"))),
          p.timeline.map((s) => s.variants.reduce((a, v) => a + v.desired, 0)),
        ],
        [],
        xRange,
      );
    }
    setStatus(`Simulation report: ${sim.policies.length} policies.`, "done");
  }

  if (boot.mode === "live") live();
  else if (boot.mode === "simulation") showSimulation(boot.simulation);
  else showReport(boot.report);
  document.body.setAttribute("data-ready", "true");
})();
