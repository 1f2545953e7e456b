import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  FAST_LEASE,
  ScriptedCollector,
  SYSTEM_NS,
  createDeployment,
  createVA,
  metricsText,
  acceleratorLabel,
  useTestEnv,
  waitFor,
} from "../support/controller.js";

interface Lease {
  spec?: { holderIdentity?: string; leaseTransitions?: number; leaseDurationSeconds?: number };
}

describe("leader election", () => {
  const env = useTestEnv();
  before(async () => {
    await createDeployment(env.client, "ns1", "le-deploy", 1);
    await createVA(env.client, "ns1", "le-va", "le-deploy", "m-le", {
      labels: acceleratorLabel("H100"),
    });
  });

  it("two managers: one leads and alone serves wva_* samples; when it dies the other takes over after the lease expires", async () => {
    const opts = { metricsSource: new ScriptedCollector(), flags: { leaderElect: true, ...FAST_LEASE } };
    const one = await env.start({ ...opts, identity: "one" });
    await one.waitForLeadership();
    const two = await env.start({ ...opts, identity: "two" });
    await one.nextCycle();
    assert.equal(one.isLeader(), true);
    assert.equal(two.isLeader(), false);
    const lease = await env.client.get<Lease>(
      `/apis/coordination.k8s.io/v1/namespaces/${SYSTEM_NS}/leases/${one.leaseName}`,
    );
    assert.equal(lease.spec?.holderIdentity, "one");
    assert.equal(one.leaseName, "72dd1cf1.llm-d.ai");
    assert.match(await metricsText(one), /wva_desired_replicas\{variant_name="le-va"/);
    const followerText = await (await fetch(two.metricsUrl!)).text();
    assert.doesNotMatch(followerText, /^wva_\w+\{/m, "the follower serves no wva_* samples");
    assert.match(followerText, /process_cpu_user_seconds_total/, "but it does serve its process metrics");

    // the leader dies without releasing the lease
    const killedAt = Date.now();
    await one.stop({ releaseLease: false });
    await two.waitForLeadership();
    const tookOverMs = Date.now() - killedAt;
    const after = await env.client.get<Lease>(
      `/apis/coordination.k8s.io/v1/namespaces/${SYSTEM_NS}/leases/${two.leaseName}`,
    );
    assert.equal(after.spec?.holderIdentity, "two");
    assert.equal(after.spec?.leaseTransitions, 1);
    await two.nextCycle();
    assert.match(await (await fetch(two.metricsUrl!)).text(), /^wva_desired_replicas\{variant_name="le-va"/m);
    // informational (timings are not asserted on a shared machine): lease duration 1.2 s
    console.log(
      `# takeover after ${tookOverMs} ms (lease duration ${FAST_LEASE.leaderElectionLeaseDurationMs} ms)`,
    );
    await two.stop();
  });

  it("a manager that stops gracefully releases the lease so the next one takes it at once", async () => {
    const opts = {
      metricsSource: new ScriptedCollector(),
      flags: {
        leaderElect: true,
        ...FAST_LEASE,
        leaderElectionLeaseDurationMs: 60_000,
        leaderElectionRenewDeadlineMs: 50_000,
      },
    };
    const a = await env.start({ ...opts, identity: "a" });
    await a.waitForLeadership();
    await a.stop();
    const lease = await env.client.get<Lease>(
      `/apis/coordination.k8s.io/v1/namespaces/${SYSTEM_NS}/leases/${a.leaseName}`,
    );
    assert.equal(lease.spec?.holderIdentity, "", "released on shutdown");
    const b = await env.start({ ...opts, identity: "b" });
    await waitFor(() => b.isLeader(), "b leads well before the 60 s lease would expire", 10_000);
    await b.stop();
  });

  it("a leader that cannot renew within the renew deadline stops leading, drops its wva_* samples and reports the loss", async () => {
    let lost = 0;
    const m = await env.start({
      metricsSource: new ScriptedCollector(),
      identity: "fragile",
      flags: { leaderElect: true, ...FAST_LEASE },
      onLostLeadership: () => lost++,
    });
    await m.waitForLeadership();
    await m.nextCycle();
    assert.match(await metricsText(m), /wva_desired_replicas/);
    env.cluster.faults.failNext({ verb: "update", resource: "leases", code: 500, times: Infinity });
    env.cluster.faults.failNext({ verb: "get", resource: "leases", code: 500, times: Infinity });
    try {
      await waitFor(() => !m.isLeader(), "leadership lost");
      assert.equal(lost, 1);
      await waitFor(async () => (await metricsText(m)) === "", "wva_* samples dropped");
    } finally {
      env.cluster.faults.clear();
    }
  });
});
