import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parseExposition } from "../../src/collect/podscrape/exposition.js";
import { PodScrapingSource, StaticTargets } from "../../src/collect/podscrape/source.js";
import { QueryName, VllmMetric } from "../../src/collect/queries.js";
import { VllmEmulator } from "../../src/playground/vllm/server.js";

describe("token metrics from the vLLM emulator", () => {
  let emu: VllmEmulator;
  before(async () => {
    emu = new VllmEmulator({
      model: "llama",
      timeMode: "virtual",
      engine: { maxBatch: 4, kvBlocks: 200, blockSize: 16 },
    });
    await emu.start();
  });
  after(async () => {
    await emu.stop();
  });

  it("exports the token metrics under the names real vLLM exposes", async () => {
    emu.submit(120, 30);
    emu.advance(1_000_000);
    const samples = parseExposition(await (await fetch(`${emu.url}/metrics`)).text());
    const value = (name: string) => samples.find((s) => s.name === name)?.value;
    const info = samples.find((s) => s.name === VllmMetric.cacheConfigInfo);
    assert.equal(info?.labels.num_gpu_blocks, "200");
    assert.equal(info?.labels.block_size, "16");
    assert.equal(value("vllm:prompt_tokens_total"), 120);
    assert.equal(value("vllm:generation_tokens_total"), 30);
    assert.equal(value(`${VllmMetric.promptTokens}_sum`), 120);
    assert.equal(value(`${VllmMetric.generationTokens}_count`), 1);
    assert.equal(value(VllmMetric.prefixCacheQueries), 120);
    assert.equal(value(VllmMetric.prefixCacheHits), 0);
  });

  it("the pod-scraping source answers every token query from those metrics", async () => {
    let t = 5_000_000;
    const src = new PodScrapingSource({
      targets: new StaticTargets([{ pod: "pod-a", namespace: "ns", url: `${emu.url}/metrics` }]),
      clock: () => t,
    });
    const queries = [
      QueryName.cacheConfigInfo,
      QueryName.avgInputTokens,
      QueryName.avgOutputTokens,
      QueryName.prefixCacheHitRate,
    ];
    const params = { namespace: "ns", modelID: "llama" };
    try {
      await src.refresh(queries, params);
      emu.submit(200, 40);
      emu.submit(100, 20);
      emu.advance(2_000_000); // virtual time in ms, absolute
      t += 30_000;
      const r = await src.refresh(queries, params);
      const one = (q: string) => r.get(q)?.values.find((v) => v.labels.pod === "pod-a");
      assert.deepEqual(one(QueryName.cacheConfigInfo)?.labels, {
        pod: "pod-a",
        num_gpu_blocks: "200",
        block_size: "16",
      });
      assert.equal(one(QueryName.avgInputTokens)?.value, 150);
      assert.equal(one(QueryName.avgOutputTokens)?.value, 30);
      assert.equal(one(QueryName.prefixCacheHitRate)?.value, 0, "queried tokens, no hits");
    } finally {
      src.close();
    }
  });
});
