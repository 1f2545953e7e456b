import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { ModelRouter } from "../../src/playground/runner/router.js";

/** An upstream that answers after `release()` is called, naming itself. */
function upstream(name: string) {
  const waiting: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const reply = () => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end(name);
      };
      if (req.url === "/slow") waiting.push(reply);
      else reply();
    });
  });
  return {
    server,
    release: () => waiting.splice(0).forEach((f) => f()),
    pending: () => waiting.length,
    async start() {
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      return `127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
  };
}

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), "condition not reached");
}

describe("playground model router", () => {
  const a = upstream("a");
  const b = upstream("b");
  let endpoints: string[] = [];
  const router = new ModelRouter({ endpoints: () => endpoints, model: "m", queueTimeoutMs: 300 });
  let url = "";
  let epA = "";
  let epB = "";

  before(async () => {
    epA = await a.start();
    epB = await b.start();
    url = await router.start();
  });
  after(async () => {
    await router.stop();
    a.server.close();
    b.server.close();
  });

  it("holds a request in the flow-control queue until a pod is ready, then serves it", async () => {
    endpoints = [];
    const metricsUrl = await router.startMetrics("127.0.0.1", 0);
    const pending = fetch(`${url}/v1/completions`, { method: "POST", body: "{}" });
    await waitFor(() => router.stats().queued === 1);
    assert.match(
      router.metricsText(),
      /^inference_extension_flow_control_queue_size\{[^}]*target_model_name="m"[^}]*\} 1$/m,
    );
    const scraped = await (await fetch(metricsUrl)).text();
    assert.match(scraped, /^inference_extension_flow_control_queue_bytes\{[^}]*\} 2$/m);
    endpoints = [epA];
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "a");
    const s = router.stats();
    assert.equal(s.queued, 0);
    assert.equal(s.coldStarts, 1);
    assert.equal(s.completed, 1);
    assert.equal(router.coldStartReport().completed, 1);
    assert.ok(router.coldStartReport().ttftMs.p50 >= 0);
    assert.equal(router.queuedAt.length, 1);
    assert.match(router.metricsText(), /^inference_extension_flow_control_queue_size\{[^}]*\} 0$/m);
  });

  it("fails a queued request with 503 after the queue timeout", async () => {
    endpoints = [];
    const failed = router.stats().failed;
    const r = await fetch(`${url}/v1/completions`, { method: "POST", body: "{}" });
    assert.equal(r.status, 503);
    assert.match(await r.text(), /no ready pod/);
    assert.equal(router.stats().failed, failed + 1);
    assert.equal(router.stats().queued, 0);
  });

  it("sends each request to the pod with the fewest in flight", async () => {
    endpoints = [epA, epB];
    // two slow requests occupy both pods once each
    const slow = [
      fetch(`${url}/slow`, { method: "POST", body: "x" }),
      fetch(`${url}/slow`, { method: "POST", body: "x" }),
    ];
    await waitFor(() => a.pending() === 1 && b.pending() === 1);
    // a third request goes to one of them; a fourth must go to the other one
    const third = fetch(`${url}/slow`, { method: "POST", body: "x" });
    await waitFor(() => a.pending() + b.pending() === 3);
    const fourth = fetch(`${url}/slow`, { method: "POST", body: "x" });
    await waitFor(() => a.pending() === 2 && b.pending() === 2);
    assert.equal(router.stats().inFlight, 4);
    a.release();
    b.release();
    const bodies = await Promise.all([...slow, third, fourth].map(async (p) => (await p).text()));
    assert.deepEqual(bodies.sort(), ["a", "a", "b", "b"]);
    const s = router.stats();
    assert.equal(s.inFlight, 0);
    assert.equal(s.completed, 5);
    assert.equal(s.received, 6);
  });

  it("answers 502 for an unreachable pod and counts it failed", async () => {
    const dead = http.createServer();
    await new Promise<void>((r) => dead.listen(0, "127.0.0.1", r));
    const ep = `127.0.0.1:${(dead.address() as AddressInfo).port}`;
    await new Promise<void>((r) => dead.close(() => r()));
    endpoints = [ep];
    const before = router.stats().failed;
    const r = await fetch(`${url}/v1/completions`, { method: "POST", body: "{}" });
    assert.equal(r.status, 502);
    assert.equal(router.stats().failed, before + 1);
  });
});
