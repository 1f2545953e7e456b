// The chart's Grafana dashboard and alert rules against live data: a real Prometheus (Debian package)
// scrapes the manager (running on the API emulator, pod-scraping metrics) and one vLLM emulator per pod,
// like a ServiceMonitor and a PodMonitor would (target labels namespace and pod). Every PromQL expression
// of the dashboard must return data, and every alert rule must evaluate without error. `wva snapshot`
// reads the same Prometheus.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ManagerHandle } from "../../src/controller/manager.js";
import type { DecideOutput } from "../../src/cli/decide/decide.js";
import type { KObject } from "../../src/playground/cluster/index.js";
import { VllmEmulator } from "../../src/playground/vllm/server.js";
import { helmBin } from "../packaging/helpers.js";
import { runWva } from "../support/cli.js";
import {
  deploymentManifest,
  startEnv,
  SYSTEM_NS,
  vaManifest,
  waitFor,
  type TestEnv,
} from "../support/controller.js";
import { dashboardQueries, expandVariables, readDashboard, renderedRuleFile } from "../support/monitoring.js";
import { promQuery, startPrometheus, type RunningPrometheus } from "../support/prometheus.js";
import { findPrometheus, requireTool } from "../support/tools.js";

const NS = "llm";
const MODEL = "meta/llama-3.1-8b";
const ENGINE = { maxBatch: 16, kvBlocks: 200, blockSize: 16, alpha: 4, beta: 0.02, gamma: 0.0002 };

describe("e2e: Grafana dashboard queries and alert rules on a real Prometheus", () => {
  let env: TestEnv | undefined;
  let manager: ManagerHandle | undefined;
  let prom: RunningPrometheus | undefined;
  const emulators = new Map<string, { emu: VllmEmulator; address: string }>();
  const dir = mkdtempSync(join(tmpdir(), "wva-dash-"));

  before(async () => {
    env = await startEnv({
      namespaces: [NS],
      nodes: "1xA100:8,1xH100:8",
      podIPPrefix: `127.${100 + Math.floor(Math.random() * 100)}`,
      onPodStarted: async (pod: KObject) => {
        const ip = (pod.status as { podIP?: string } | undefined)?.podIP ?? "127.0.0.1";
        const emu = new VllmEmulator({ model: MODEL, engine: ENGINE });
        await emu.start({ host: ip, port: 8000 });
        emulators.set(pod.metadata!.name!, { emu, address: `${ip}:8000` });
      },
      onPodStopped: async (pod: KObject) => {
        const e = emulators.get(pod.metadata!.name!);
        emulators.delete(pod.metadata!.name!);
        await e?.emu.stop();
      },
    });
    // an idle model: the more expensive variant (two replicas) is reduced, which counts a scaling event;
    // no HPA follows, so desired and current stay different
    for (const v of [
      { name: "m-a100", product: "NVIDIA-A100-SXM4-80GB", cost: "10.0", replicas: 1 },
      { name: "m-h100", product: "NVIDIA-H100-80GB-HBM3", cost: "40.0", replicas: 2 },
    ]) {
      await env.client.create(
        `/apis/apps/v1/namespaces/${NS}/deployments`,
        deploymentManifest(NS, v.name, v.replicas, {
          nodeSelector: { "nvidia.com/gpu.product": v.product },
          gpus: 1,
        }),
      );
      await env.client.create(
        `/apis/llmd.ai/v1alpha1/namespaces/${NS}/variantautoscalings`,
        vaManifest(NS, v.name, v.name, MODEL, { cost: v.cost }),
      );
    }
    await waitFor(() => emulators.size === 3, "three serving pods", 30_000);
  });

  after(async () => {
    await prom?.stop();
    await manager?.stop();
    for (const e of emulators.values()) await e.emu.stop();
    await env?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("every dashboard expression returns data and every alert rule evaluates; the target-not-reached alert fires", async (t) => {
    const bin = requireTool(t, "prometheus", findPrometheus(), "bash scripts/install-test-deps.sh");
    const helm = helmBin(t);
    if (!bin || !helm || !env) return;
    manager = await env.start({ metricsSource: "pods", env: { GLOBAL_OPT_INTERVAL: "500ms" } });
    await manager.nextCycle();
    const rules = join(dir, "rules.yaml");
    // short `for` durations so that the alert fires within the test
    writeFileSync(rules, renderedRuleFile(helm, ["prometheusRule.desiredMismatchFor=1s"]));
    prom = await startPrometheus(
      bin,
      [
        {
          target: new URL(manager.metricsUrl!).host,
          labels: { job: "wva-controller", namespace: SYSTEM_NS, pod: "wva-controller-manager-0" },
        },
        ...[...emulators].map(([pod, e]) => ({ target: e.address, labels: { namespace: NS, pod } })),
      ],
      { scrapeIntervalSec: 1, ruleFiles: [rules] },
    );
    const queries = dashboardQueries(readDashboard()).map((q) => ({
      ...q,
      expr: expandVariables(q.expr, "30s"),
    }));
    assert.ok(queries.length >= 10, `only ${queries.length} dashboard queries`);
    const empty = async () => {
      const out: string[] = [];
      for (const q of queries) if ((await promQuery(prom!.url, q.expr)).length === 0) out.push(q.panel);
      return out;
    };
    let missing: string[] = [];
    await waitFor(
      async () => (missing = await empty()).length === 0,
      "every dashboard query returns data",
      40_000,
    ).catch(() => assert.fail(`dashboard queries without data: ${missing.join("; ")}`));

    // the values behind the panels are the manager's
    const desired = await promQuery(
      prom.url,
      'max by (exported_namespace, variant_name) (wva_desired_replicas{exported_namespace="llm"})',
    );
    assert.deepEqual(desired.map((r) => [r.metric.variant_name, r.value[1]]).sort(), [
      ["m-a100", "1"],
      ["m-h100", "1"],
    ]);
    const leaders = await promQuery(prom.url, "sum(leader_election_master_status)");
    assert.equal(leaders[0]?.value[1], "1");

    // alert rules: evaluated by Prometheus without error; only the target-not-reached alert fires
    type Rule = { name: string; health: string; lastError?: string; state: string };
    let ruleList: Rule[] = [];
    await waitFor(
      async () => {
        const r = (await (await fetch(`${prom!.url}/api/v1/rules`)).json()) as {
          data: { groups: Array<{ rules: Rule[] }> };
        };
        ruleList = r.data.groups.flatMap((g) => g.rules);
        return ruleList.length === 5 && ruleList.every((x) => x.health === "ok");
      },
      "alert rules evaluated",
      20_000,
    ).catch(() => assert.fail(`rules: ${JSON.stringify(ruleList)}`));
    await waitFor(
      async () =>
        (await promQuery(prom!.url, 'ALERTS{alertname="WVADesiredReplicasNotReached",alertstate="firing"}'))
          .length === 1,
      "WVADesiredReplicasNotReached firing for m-h100",
      20_000,
    );
    const firing = await promQuery(prom.url, 'ALERTS{alertstate="firing"}');
    assert.deepEqual(
      firing.map((a) => `${a.metric.alertname} ${a.metric.variant_name}`),
      ["WVADesiredReplicasNotReached m-h100"],
    );
  });

  it("wva snapshot --prometheus reads the pods' metrics through the controller's queries; wva decide agrees with the manager", async (t) => {
    if (!prom || !manager || !env) return t.skip("needs the Prometheus of the previous test");
    const file = join(dir, "snapshot.json");
    const snap = await runWva(
      "snapshot",
      "--kubeconfig",
      env.cluster.kubeconfigPath,
      "--namespace",
      SYSTEM_NS,
      "--prometheus",
      prom.url,
      "-o",
      file,
    );
    assert.equal(snap.code, 0, snap.stderr);
    assert.match(snap.stderr, /2 variant\(s\) of 1 model\(s\), metrics from prometheus/);
    const doc = JSON.parse(readFileSync(file, "utf8")) as {
      variants: Array<{ name: string; replicas: Array<{ pod: string }> }>;
    };
    assert.deepEqual(
      doc.variants.map((v) => [v.name, v.replicas.map((r) => r.pod).sort()]),
      [
        ["m-a100", [...emulators.keys()].filter((p) => p.startsWith("m-a100-")).sort()],
        ["m-h100", [...emulators.keys()].filter((p) => p.startsWith("m-h100-")).sort()],
      ],
    );
    const decided = await runWva("decide", "-f", file);
    assert.equal(decided.code, 0, decided.stderr);
    const out = JSON.parse(decided.stdout) as DecideOutput;
    const cycle = await manager.nextCycle();
    assert.deepEqual(
      out.models[0].decisions.map((d) => [d.variant, d.targetReplicas, d.reason]),
      cycle.variants.map((v) => [v.variant, v.desired, v.reason]),
    );
  });
});
