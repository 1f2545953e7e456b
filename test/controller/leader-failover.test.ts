import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { after, before, describe, it } from "node:test";
import type { WatchHandle } from "../../src/playground/cluster/api.js";
import { SYSTEM_NS, startEnv, waitFor, type TestEnv } from "../support/controller.js";

/**
 * Leader failover between two real manager processes on the API emulator, with the lease settings the
 * controller guide documents for fast failover: lease 4 s, renew deadline 3 s, retry period 1 s. The
 * leader is killed with SIGKILL (no release); the follower must take the Lease within lease duration +
 * retry period, and the Lease's write history must show one holder at a time.
 */
const LEASE_MS = 4000;
const RENEW_MS = 3000;
const RETRY_MS = 1000;
/** Allowance for observing the takeover through a watch and for process scheduling on a loaded machine. */
const OBSERVATION_SLACK_MS = 500;
const LEASE_NAME = "72dd1cf1.llm-d.ai";

interface LeaseWrite {
  at: number;
  holder: string;
  renewTime: string;
}

interface Proc {
  child: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
}

function startManager(kubeconfig: string): Proc {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "src/cli/manager.ts",
      "--leader-elect",
      `--leader-election-lease-duration=${LEASE_MS / 1000}s`,
      `--leader-election-renew-deadline=${RENEW_MS / 1000}s`,
      `--leader-election-retry-period=${RETRY_MS / 1000}s`,
      "--metrics-bind-address=127.0.0.1:0",
      "--health-probe-bind-address=127.0.0.1:0",
      "--metrics-secure=false",
    ],
    {
      env: {
        ...process.env,
        KUBECONFIG: kubeconfig,
        POD_NAMESPACE: SYSTEM_NS,
        WVA_METRICS_SOURCE: "pods",
        GLOBAL_OPT_INTERVAL: "1s",
        WVA_LOG_LEVEL: "info",
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let log = "";
  child.stderr?.on("data", (c: Buffer) => (log += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, log: () => log, exited };
}

describe("leader failover between manager processes", () => {
  let env: TestEnv;
  const procs: Proc[] = [];
  let watch: WatchHandle | undefined;
  before(async () => {
    env = await startEnv();
  });
  after(async () => {
    watch?.stop();
    for (const p of procs) p.child.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.exited));
    await env.close();
  });

  it("after SIGKILL of the leader the follower takes over within lease duration + retry period; one writer at a time", async () => {
    const writes: LeaseWrite[] = [];
    watch = env.cluster.store.watch(
      env.cluster.store.typeFor("coordination.k8s.io/v1", "Lease"),
      { namespace: SYSTEM_NS },
      (e) => {
        const o = e.object as {
          metadata?: { name?: string };
          spec?: { holderIdentity?: string; renewTime?: string };
        };
        if (o.metadata?.name !== LEASE_NAME || e.type === "DELETED") return;
        writes.push({
          at: Date.now(),
          holder: o.spec?.holderIdentity ?? "",
          renewTime: o.spec?.renewTime ?? "",
        });
      },
    );
    const a = startManager(env.cluster.kubeconfigPath);
    procs.push(a);
    await waitFor(() => /"msg":"started leading"/.test(a.log()), "the first manager leads", 60_000);
    const b = startManager(env.cluster.kubeconfigPath);
    procs.push(b);
    // the follower is up (it answers its probes) and has seen the leader's renewals for a while
    await waitFor(() => /"msg":"manager started"/.test(b.log()), "the follower runs", 60_000);
    await new Promise((r) => setTimeout(r, 2 * RETRY_MS));
    assert.doesNotMatch(
      b.log(),
      /"msg":"started leading"/,
      "the follower does not lead while the leader lives",
    );
    const leader = writes[writes.length - 1].holder;
    assert.notEqual(leader, "");

    const killedAt = Date.now();
    a.child.kill("SIGKILL");
    await waitFor(
      () => writes.some((w) => w.at >= killedAt && w.holder !== leader && w.holder !== ""),
      "the follower takes the lease",
      LEASE_MS + RETRY_MS + 10_000,
    );
    const takeover = writes.find((w) => w.at >= killedAt && w.holder !== leader)!;
    const tookOverMs = takeover.at - killedAt;
    console.log(
      `# takeover ${tookOverMs} ms after SIGKILL (lease ${LEASE_MS} ms + retry ${RETRY_MS} ms = ${LEASE_MS + RETRY_MS} ms)`,
    );
    assert.ok(
      tookOverMs <= LEASE_MS + RETRY_MS + OBSERVATION_SLACK_MS,
      `takeover after ${tookOverMs} ms, bound ${LEASE_MS + RETRY_MS} ms (+${OBSERVATION_SLACK_MS} ms observation)`,
    );
    await waitFor(() => /"msg":"started leading"/.test(b.log()), "the follower logs its leadership", 10_000);
    // let the new leader renew a few times, then read the history
    await new Promise((r) => setTimeout(r, 2 * RETRY_MS));
    const holders = writes.map((w) => w.holder);
    const firstNew = holders.indexOf(takeover.holder);
    assert.ok(
      holders.slice(0, firstNew).every((h) => h === leader || h === ""),
      holders.join(","),
    );
    assert.ok(
      holders.slice(firstNew).every((h) => h === takeover.holder),
      `the dead leader never wrote after the takeover: ${holders.join(",")}`,
    );
    // the new holder's writes only begin once the old holder's last renewal is a full lease duration old
    const lastOld = writes
      .slice(0, firstNew)
      .filter((w) => w.holder === leader)
      .pop()!;
    assert.ok(
      Date.parse(takeover.renewTime) - Date.parse(lastOld.renewTime) >= LEASE_MS,
      `renewals ${lastOld.renewTime} → ${takeover.renewTime} are at least one lease duration apart`,
    );
    assert.ok(writes.filter((w) => w.holder === takeover.holder).length >= 2, "the new leader renews");
  });
});
