// `wva snapshot` against a running playground: the file it writes is accepted by `wva decide -f`, and the
// decisions printed are those the controller made in the same state.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, describe, it } from "node:test";
import { parse } from "yaml";
import { inProcessManager } from "../../src/playground/runner/controller.js";
import { DEFAULT_KNOBS, defaultScenario } from "../../src/playground/runner/defaults.js";
import { runPlayground, type ControllerStarter, type CycleVariant } from "../../src/playground/runner/run.js";
import type { DecideOutput } from "../../src/cli/decide/decide.js";
import { waitFor } from "../support/controller.js";
import { runWva } from "../support/cli.js";

/** The decisions of a cycle as `wva decide` prints them: per variant target, action and reason. */
function cycleDecisions(variants: CycleVariant[]): string[] {
  return variants.map((v) => `${v.namespace}/${v.variant}: ${v.desired} ${v.action} ${v.reason}`);
}

function decideDecisions(out: DecideOutput): string[] {
  return out.models.flatMap((m) =>
    m.decisions.map((d) => `${m.namespace}/${d.variant}: ${d.targetReplicas} ${d.action} ${d.reason}`),
  );
}

describe("wva snapshot", () => {
  const dir = mkdtempSync(join(tmpdir(), "wva-snapshot-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("bad input exits 2 with one line naming the option", async () => {
    const rs = await Promise.all([
      runWva("snapshot", "--timeout", "soon"),
      runWva("snapshot", "--timeout", "999h"),
      runWva("snapshot", "--prometheus", "ftp://x"),
    ]);
    for (const [r, field] of [
      [rs[0], "--timeout"],
      [rs[1], "--timeout"],
      [rs[2], "--prometheus"],
    ] as const) {
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^wva: ${field}: `));
      assert.equal(r.stderr.trim().split("\n").length, 1);
    }
  });

  it("captures a running playground; wva decide -f on the file gives the controller's decisions of that state", async () => {
    // an idle model; the H100 variant starts with two replicas and its HPA waits long before scaling
    // down, so the controller's target (1) stays different from the current replicas (2): the model
    // is in transition and every cycle makes the same decisions
    const scenario = defaultScenario({
      ...DEFAULT_KNOBS,
      durationMs: 60_000,
      engineIntervalMs: 500,
      lowRate: 0,
      highRate: 0,
      highForMs: 0,
      startupDelayMs: 0,
      nodes: ["1xH100:8", "1xA100:8"],
    });
    scenario.models[0].variants[1].initialReplicas = 2;
    scenario.hpa.stabilizationWindowMs = 600_000;
    const kubeconfig = join(dir, "kubeconfig.yaml");
    const cycles: CycleVariant[][] = [];
    // the playground's own controller, recording what it decided every cycle
    const controller: ControllerStarter = (o) =>
      inProcessManager({
        ...o,
        onCycle: (variants) => {
          cycles.push(variants);
          o.onCycle(variants);
        },
      });
    const stop = new AbortController();
    let printed = "";
    const sink = new Writable({
      write: (c: Buffer, _e, cb) => {
        printed += c.toString();
        cb();
      },
    });
    const run = runPlayground(scenario, {
      kubeconfigPath: kubeconfig,
      table: false,
      out: sink,
      signal: stop.signal,
      handleSignals: false,
      controller,
    });
    try {
      const steady = () => {
        if (cycles.length < 2) return false;
        const [a, b] = cycles.slice(-2);
        return (
          JSON.stringify(cycleDecisions(a)) === JSON.stringify(cycleDecisions(b)) &&
          b.some((v) => v.reason.includes("model in transition"))
        );
      };
      await waitFor(steady, "the controller in a steady state (the same decisions twice)", 30_000);
      const before = cycles.length;
      const file = join(dir, "snapshot.yaml");
      const snap = await runWva(
        "snapshot",
        "--kubeconfig",
        kubeconfig,
        "--namespace",
        "wva-system",
        "-o",
        file,
      );
      assert.equal(snap.code, 0, snap.stderr);
      assert.match(snap.stderr, /2 variant\(s\) of 1 model\(s\), metrics from pod-scraping/);
      await waitFor(() => cycles.length > before + 1, "a controller cycle after the capture");
      const controllerSaw = cycleDecisions(cycles[cycles.length - 1]);
      assert.ok(steady(), "the controller's decisions changed during the capture");

      const doc = parse(readFileSync(file, "utf8")) as {
        variants: Array<{
          name: string;
          currentReplicas: number;
          desiredReplicas: number;
          replicas: unknown[];
          bounds?: unknown[];
        }>;
      };
      const h100 = doc.variants.find((v) => v.name === "llama-3-8b-h100")!;
      assert.equal(h100.currentReplicas, 2);
      assert.equal(h100.desiredReplicas, 1);
      assert.equal(h100.replicas.length, 2, "both H100 pods' metrics are in the snapshot");
      assert.equal(scenario.actuation, "hpa");
      // the playground sets the VA's max-replicas annotation and the HPA's maxReplicas alike
      const max = scenario.models[0].variants[1].maxReplicas;
      assert.deepEqual(
        h100.bounds,
        [
          { source: "annotation", maxReplicas: max },
          { source: "hpa", maxReplicas: max },
        ],
        "the VA's annotation and the HPA on the variant's Deployment are the snapshot's bounds",
      );

      const decided = await runWva("decide", "-f", file);
      assert.equal(decided.code, 0, decided.stderr);
      const out = JSON.parse(decided.stdout) as DecideOutput;
      assert.equal(out.models[0].analysis.inTransition, true);
      assert.deepEqual(decideDecisions(out), controllerSaw);

      // the playground's start-up progress and the manager's metrics URL
      assert.match(printed, /^playground: waiting for 3 pods, 0 ready$/m);
      assert.match(printed, /^playground: 3 pods ready$/m);
      const url = /^playground: the manager's metrics \(wva_\*\) are at (\S+) /m.exec(printed)?.[1];
      assert.ok(url, printed);
      assert.match(await (await fetch(url)).text(), /^wva_desired_replicas\{/m);
    } finally {
      stop.abort();
      await run.catch(() => undefined);
    }
  });
});
