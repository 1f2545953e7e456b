import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { promisify } from "node:util";
import { requireKubectl } from "../support/tools.js";
import { firstScaleUp, type Report } from "../../src/playground/runner/report.js";

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function wva(
  args: string[],
  onStdout?: (text: string, child: ReturnType<typeof spawn>) => void,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/wva.ts", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => {
      stdout += c.toString();
      onStdout?.(stdout, child);
    });
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

function checkShape(r: Report, scenario: string, variants: string[]): void {
  assert.equal(r.scenario, scenario);
  assert.ok(r.cycles.length >= 5, `only ${r.cycles.length} cycles`);
  let lastT = 0;
  for (const c of r.cycles) {
    assert.equal(typeof c.t, "number");
    assert.ok(c.t >= lastT, "cycles are in time order");
    lastT = c.t;
    assert.deepEqual(
      c.variants.map((v) => v.variant),
      variants,
    );
    for (const v of c.variants) {
      for (const k of ["current", "ready", "desired", "queue"] as const)
        assert.ok(Number.isInteger(v[k]) && v[k] >= 0, `${k}=${v[k]}`);
      assert.ok(v.kvUsage >= 0 && v.kvUsage <= 1, `kvUsage=${v.kvUsage}`);
      assert.ok(["scale-up", "scale-down", "no-change"].includes(v.action));
      assert.equal(typeof v.reason, "string");
    }
  }
  assert.equal(r.models.length, 1);
  const m = r.models[0];
  assert.ok(m.requests.sent > 0);
  assert.ok(m.requests.completed > 0);
  assert.ok(m.requests.completed + m.requests.failed <= m.requests.sent);
  assert.ok(m.ttftMs.p50 > 0, JSON.stringify(m.ttftMs));
  // tokens read in one network chunk share a timestamp, so the ITL median may be 0
  for (const p of [m.ttftMs, m.itlMs])
    assert.ok(p.p50 >= 0 && p.p50 <= p.p95 && p.p95 <= p.p99, JSON.stringify(p));
}

/**
 * Real trials on the emulated cluster (about half a minute each): API emulator, vLLM emulators per
 * pod, load generator and the WVA manager in-process.
 */
describe("wva playground: scripted trials", () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "wva-playground-e2e-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const actuation of ["direct", "hpa"] as const) {
    it(`quick.yaml with ${actuation} actuation: report shape, and the cheaper variant scales up first`, async () => {
      const out = join(dir, `quick-${actuation}.json`);
      const r = await wva([
        "playground",
        "--scenario",
        "examples/scenarios/quick.yaml",
        "--actuation",
        actuation,
        "--report",
        out,
        "--no-table",
      ]);
      assert.equal(r.status, 0, r.stderr);
      const report = JSON.parse(readFileSync(out, "utf8")) as Report;
      assert.equal(report.actuation, actuation);
      checkShape(report, "quick", ["tiny-a100", "tiny-h100"]);
      const first = firstScaleUp(report);
      const a100 = first.get("quick/tiny-a100");
      const h100 = first.get("quick/tiny-h100");
      assert.ok(a100 !== undefined, `the A100 variant never scaled up: ${r.stdout.slice(-2000)}`);
      assert.ok(h100 === undefined || h100 >= a100, `H100 scaled up at ${h100}s, before A100 at ${a100}s`);
      // the scale-up was carried out: the A100 Deployment grew
      assert.ok(
        report.cycles.some((c) => c.variants.some((v) => v.variant === "tiny-a100" && v.current >= 2)),
        "the A100 Deployment never reached 2 replicas",
      );
      // never more than one change of desired replicas per model per cycle
      for (let i = 1; i < report.cycles.length; i++) {
        const changes = report.cycles[i].variants.filter(
          (v, j) => v.desired !== report.cycles[i - 1].variants[j].desired,
        );
        assert.ok(changes.length <= 1, `cycle at ${report.cycles[i].t}s changed ${changes.length} variants`);
      }
      assert.match(r.stdout, /first scale-up: quick\/tiny-a100/);
    });
  }

  it("Ctrl-C stops everything cleanly and still writes the report; kubectl sees the VAs meanwhile", async (t: TestContext) => {
    const kubectl = requireKubectl(t);
    const out = join(dir, "interrupted.json");
    const kubeconfig = join(dir, "kubeconfig");
    let sent = false;
    let vas: Promise<string> | undefined;
    const r = await wva(
      [
        "playground",
        "--duration",
        "2m",
        "--interval",
        "1s",
        "--startup-delay",
        "1s",
        "--report",
        out,
        "--kubeconfig",
        kubeconfig,
        "--no-table",
      ],
      (text, child) => {
        if (!sent && /t=\d+(\.\d+)?s /.test(text)) {
          sent = true;
          const stop = () => child.kill("SIGINT");
          if (!kubectl) return stop();
          vas = promisify(execFile)(kubectl, ["--kubeconfig", kubeconfig, "get", "va", "-A"]).then(
            (x) => x.stdout,
          );
          vas.then(stop, stop);
        }
      },
    );
    assert.ok(sent, `no cycle line seen: ${r.stdout}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /stopped early/);
    assert.ok(existsSync(out));
    const report = JSON.parse(readFileSync(out, "utf8")) as Report;
    assert.equal(report.scenario, "playground");
    assert.ok(report.cycles.length >= 1);
    assert.ok(report.duration < 120);
    if (vas) {
      const table = await vas;
      assert.match(table, /NAMESPACE\s+NAME\s+TARGET\s+MODEL\s+OPTIMIZED/);
      assert.match(table, /playground\s+llama-3-8b-a100\s+llama-3-8b-a100\s+llama-3-8b/);
      assert.match(table, /playground\s+llama-3-8b-h100/);
    }
  });
});
