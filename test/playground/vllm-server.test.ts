import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parseExposition } from "../../src/collect/podscrape/exposition.js";
import { VllmEmulator, chatTokens, promptTokens } from "../../src/playground/vllm/server.js";

describe("vLLM emulator HTTP surface", () => {
  let emu: VllmEmulator;
  let url: string;
  const access: string[] = [];
  before(async () => {
    emu = new VllmEmulator({
      accessLog: (line) => access.push(line),
      model: "llama-8b",
      extraLabels: { namespace: "ns1", pod: "pod-a" },
      engine: { alpha: 1, beta: 0.01, gamma: 0.0001, kvBlocks: 100, blockSize: 16 },
    });
    url = (await emu.start({ host: "127.0.0.1", port: 0 })).url;
  });
  after(() => emu.stop());

  it("lists the model", async () => {
    const r = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> };
    assert.deepEqual(
      r.data.map((m) => m.id),
      ["llama-8b"],
    );
  });

  it("completes with exact token counts from token ids and max_tokens", async () => {
    const res = await fetch(`${url}/v1/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "llama-8b", prompt: [1, 2, 3, 4, 5, 6, 7], max_tokens: 4 }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { usage: Record<string, number>; choices: Array<{ text: string }> };
    assert.deepEqual(body.usage, { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 });
    assert.equal(body.choices[0].text.trim().split(" ").length, 4);
    assert.match(
      access.at(-1) ?? "",
      /^INFO POST \/v1\/completions 200 model=llama-8b prompt_tokens=7 completion_tokens=4 ttft_ms=/,
      "one access line per finished request (what kubectl logs shows for a playground pod)",
    );
  });

  it("streams chat completions token by token", async () => {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({
        model: "llama-8b",
        messages: [{ role: "user", content: "three words here" }],
        max_tokens: 3,
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const events = (await res.text()).split("\n\n").filter((e) => e.startsWith("data: "));
    assert.equal(events[events.length - 1], "data: [DONE]");
    const chunks = events
      .slice(0, -1)
      .map((e) => JSON.parse(e.slice(6)) as { choices: unknown[]; usage?: Record<string, number> });
    assert.equal(chunks.filter((c) => c.choices.length > 0).length, 3);
    assert.deepEqual(chunks[chunks.length - 1].usage, {
      prompt_tokens: 3,
      completion_tokens: 3,
      total_tokens: 6,
    });
  });

  it("rejects a wrong model, bad JSON, bad max_tokens and oversized requests with OpenAI-style errors", async () => {
    const post = (path: string, body: string) => fetch(`${url}${path}`, { method: "POST", body });
    let r = await post("/v1/completions", JSON.stringify({ model: "other", prompt: "x" }));
    assert.equal(r.status, 404);
    assert.match(((await r.json()) as { error: { message: string } }).error.message, /does not exist/);
    r = await post("/v1/completions", "{");
    assert.equal(r.status, 400);
    r = await post("/v1/completions", JSON.stringify({ prompt: "x", max_tokens: 0 }));
    assert.equal(r.status, 400);
    assert.match(await r.text(), /max_tokens must be an integer >= 1/);
    r = await post("/v1/completions", JSON.stringify({ prompt: "x", max_tokens: 5000 }));
    assert.equal(r.status, 400);
    assert.match(await r.text(), /more than the KV cache holds/);
    r = await fetch(`${url}/nope`);
    assert.equal(r.status, 404);
  });

  it("exposes vLLM's metric names with model_name and the extra labels", async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const samples = parseExposition(text);
    const byName = (n: string) => samples.filter((s) => s.name === n);
    for (const name of [
      "vllm:kv_cache_usage_perc",
      "vllm:num_requests_waiting",
      "vllm:num_requests_running",
      "vllm:request_success_total",
      "vllm:request_prompt_tokens_sum",
      "vllm:request_generation_tokens_count",
      "vllm:time_to_first_token_seconds_count",
      "vllm:time_per_output_token_seconds_count",
      "vllm:inter_token_latency_seconds_count",
      "vllm:cache_config_info",
    ]) {
      const s = byName(name);
      assert.ok(s.length > 0, `${name} present`);
      assert.equal(s[0].labels.model_name, "llama-8b");
      assert.equal(s[0].labels.namespace, "ns1");
      assert.equal(s[0].labels.pod, "pod-a");
    }
    for (const part of ["_count", "_sum"]) {
      assert.deepEqual(
        byName(`vllm:inter_token_latency_seconds${part}`).map((x) => x.value),
        byName(`vllm:time_per_output_token_seconds${part}`).map((x) => x.value),
        "both names of the inter-token histogram observe the same gaps",
      );
    }
    const info = byName("vllm:cache_config_info")[0];
    assert.equal(info.labels.num_gpu_blocks, "100");
    assert.equal(info.labels.block_size, "16");
    assert.ok(byName("vllm:request_success_total")[0].value >= 2);
    const kv = byName("vllm:kv_cache_usage_perc")[0].value;
    assert.ok(kv >= 0 && kv <= 1);
  });

  it("stats reflect paused work: queue and KV stay put until resume", async () => {
    emu.pause();
    const a = emu.submit(20, 1000);
    const b = emu.submit(20, 1000);
    const s = emu.stats();
    assert.equal(s.running + s.waiting, 2);
    assert.ok(s.kvUsage > 0);
    emu.engine.cancel(a.id);
    emu.engine.cancel(b.id);
    emu.resume();
    assert.equal(emu.stats().kvUsage, 0);
  });
});

describe("token counting", () => {
  it("counts words of strings, token ids and chat text parts", () => {
    assert.equal(promptTokens("a b  c"), 3);
    assert.equal(promptTokens([5, 6]), 2);
    assert.equal(promptTokens(["a b", "c"]), 3);
    assert.equal(promptTokens([[1, 2], [3]]), 3);
    assert.throws(() => promptTokens(42), /prompt must be/);
    assert.equal(chatTokens([{ content: "hello world" }, { content: [{ type: "text", text: "x y z" }] }]), 5);
    assert.throws(() => chatTokens([]), /messages must be a non-empty list/);
  });

  it("listens on another loopback address, as the playground gives each pod its own IP", async () => {
    const e = new VllmEmulator({ model: "m" });
    const addr = await e.start({ host: "127.1.0.5", port: 0 });
    try {
      assert.match(addr.url, /^http:\/\/127\.1\.0\.5:\d+$/);
      assert.equal((await fetch(`${addr.url}/health`)).status, 200);
    } finally {
      await e.stop();
    }
  });

  it("wall mode with speed runs engine time faster, with exact iteration boundaries", async () => {
    const e = new VllmEmulator({ model: "m", speed: 50, engine: { alpha: 10, beta: 0, gamma: 0 } });
    try {
      const { done } = e.submit(5, 20);
      const c = await done;
      // 20 iterations of 10 engine-ms each (the prefill makes the first token), however late the timers fired
      assert.ok(Math.abs(c.e2e - 200) < 1e-9, `e2e ${c.e2e}`);
      assert.ok(Math.abs(c.ttft - 10) < 1e-9);
    } finally {
      await e.stop();
    }
    assert.throws(() => new VllmEmulator({ model: "m", speed: 0 }), /speed must be a number > 0/);
  });
});
