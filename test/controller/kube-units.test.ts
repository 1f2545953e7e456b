import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createMergePatch } from "../../src/controller/kube/merge-patch.js";
import { findCondition, setCondition } from "../../src/controller/kube/status.js";
import { RateLimiter, WorkQueue, runWorkers } from "../../src/controller/kube/workqueue.js";
import { leaseName, microTime } from "../../src/controller/kube/leader-election.js";
import { parseBindAddress } from "../../src/controller/servers.js";

describe("work queue", () => {
  it("hands a key out once even when added repeatedly, and re-queues a key added while processing", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("a");
    q.add("b");
    assert.equal(q.length, 2);
    const k = await q.get();
    assert.equal(k, "a");
    q.add("a"); // while processing
    assert.equal(q.length, 1, "a is not queued twice while being processed");
    q.done("a");
    assert.equal(q.length, 2, "a is re-queued after done");
    assert.equal(await q.get(), "b");
    assert.equal(await q.get(), "a");
    q.shutdown();
    assert.equal(await q.get(), undefined);
  });

  it("retries a failing key with growing per-key delays and forgets it after success", async () => {
    const rl = new RateLimiter({ baseDelayMs: 5, maxDelayMs: 1000, qps: 1000, burst: 1000 });
    assert.equal(rl.when("k"), 5);
    assert.equal(rl.when("k"), 10);
    assert.equal(rl.when("k"), 20);
    assert.equal(rl.retries("k"), 3);
    rl.forget("k");
    assert.equal(rl.when("k"), 5);

    const q = new WorkQueue({ baseDelayMs: 1, qps: 1000, burst: 1000 });
    let calls = 0;
    q.add("x");
    const done = runWorkers(q, 2, async () => {
      calls++;
      if (calls < 3) throw new Error("boom");
      q.shutdown();
    });
    await done;
    assert.equal(calls, 3);
    assert.equal(q.limiter.retries("x"), 0, "success forgets the failure history");
  });

  it("bounds the overall retry rate with the token bucket", () => {
    const rl = new RateLimiter({ baseDelayMs: 0, qps: 10, burst: 2 });
    assert.equal(rl.when("a"), 0);
    assert.equal(rl.when("b"), 0);
    assert.ok(rl.when("c") > 0, "third retry within the burst waits for a token");
  });
});

describe("JSON merge patch", () => {
  it("diffs objects key by key, nulls removed keys and replaces arrays whole", () => {
    const from = { a: 1, b: { c: 2, d: 3 }, list: [1, 2], gone: "x" };
    const to = { a: 1, b: { c: 2, d: 4 }, list: [1, 2, 3] };
    assert.deepEqual(createMergePatch(from, to), { b: { d: 4 }, list: [1, 2, 3], gone: null });
    assert.equal(createMergePatch(from, structuredClone(from)), undefined);
  });
});

describe("conditions", () => {
  it("keeps lastTransitionTime when the status does not change and updates it when it does", () => {
    const t0 = new Date("2026-01-01T00:00:00Z");
    const t1 = new Date("2026-01-01T00:01:00Z");
    let c = setCondition(
      undefined,
      { type: "T", status: "True", reason: "A", message: "m", observedGeneration: 1 },
      t0,
    );
    c = setCondition(c, { type: "T", status: "True", reason: "B", message: "n", observedGeneration: 2 }, t1);
    assert.equal(findCondition(c, "T")?.lastTransitionTime, "2026-01-01T00:00:00Z");
    assert.equal(findCondition(c, "T")?.reason, "B");
    assert.equal(findCondition(c, "T")?.observedGeneration, 2);
    c = setCondition(c, { type: "T", status: "False", reason: "C", message: "o" }, t1);
    assert.equal(findCondition(c, "T")?.lastTransitionTime, "2026-01-01T00:01:00Z");
    assert.equal(c.length, 1);
  });
});

describe("leader election helpers", () => {
  it("names the lease after the election ID, prefixed with the controller instance when set", () => {
    assert.equal(leaseName("72dd1cf1.llm-d.ai", ""), "72dd1cf1.llm-d.ai");
    assert.equal(leaseName("72dd1cf1.llm-d.ai", "team-a"), "team-a.72dd1cf1.llm-d.ai");
    assert.equal(leaseName("72dd1cf1.llm-d.ai", "Team_B"), "team-b.72dd1cf1.llm-d.ai");
  });
  it("writes MicroTime with microseconds", () => {
    assert.equal(microTime(new Date("2026-01-01T00:00:00.123Z")), "2026-01-01T00:00:00.123000Z");
  });
});

describe("bind addresses", () => {
  it("parses Go-style addresses and treats 0 as disabled", () => {
    assert.equal(parseBindAddress("0"), undefined);
    assert.equal(parseBindAddress(""), undefined);
    assert.deepEqual(parseBindAddress(":8443"), { host: undefined, port: 8443 });
    assert.deepEqual(parseBindAddress("127.0.0.1:0"), { host: "127.0.0.1", port: 0 });
    assert.deepEqual(parseBindAddress("[::1]:8080"), { host: "::1", port: 8080 });
    assert.throws(() => parseBindAddress("8443"), /host:port/);
    assert.throws(() => parseBindAddress(":70000"), /at most 65535/);
  });
});
