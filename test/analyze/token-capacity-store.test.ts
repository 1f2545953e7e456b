import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CapacityStore,
  DEFAULT_VLLM_PARAMS,
  HISTORY_EVICT_MS,
  EVICT_INTERVAL_MS,
  K2_WINDOW,
  RECORD_EVICT_MS,
  RECORD_STALE_MS,
  effectiveMaxBatchedTokens,
  outputBucket,
  paramsCompatible,
  parseVllmArgs,
  parseVllmContainer,
  tokenizeShell,
  type CapacityRecord,
  type VllmParams,
} from "../../src/analyze/token-capacity/index.js";

const NOW = Date.parse("2026-01-01T00:00:00Z");
const params = (over: Partial<VllmParams> = {}): VllmParams => ({ ...DEFAULT_VLLM_PARAMS, ...over });

describe("vLLM argument parser", () => {
  it("reads --key=value, --key_with_underscores=value and --key value alike", () => {
    for (const argv of [
      ["--gpu-memory-utilization=0.85"],
      ["--gpu_memory_utilization=0.85"],
      ["--gpu-memory-utilization", "0.85"],
    ]) {
      assert.equal(parseVllmArgs(argv).gpuMemoryUtilization, 0.85, argv.join(" "));
    }
  });

  it("tokenises only the shell string of `sh -c`", () => {
    const p = parseVllmContainer({
      command: ["/bin/sh", "-c", "vllm serve model-name --gpu-memory-utilization=0.85 --max-num-seqs=128"],
    });
    assert.equal(p.gpuMemoryUtilization, 0.85);
    assert.equal(p.maxNumSeqs, 128);
  });

  it("finds the shell string after combined short options and in args", () => {
    assert.equal(parseVllmArgs(["bash", "-lc", "vllm serve m --max-num-seqs 64"]).maxNumSeqs, 64);
    assert.equal(
      parseVllmContainer({ command: ["/bin/bash"], args: ["-c", "exec vllm serve m --block-size 32"] })
        .blockSize,
      32,
    );
    assert.equal(parseVllmArgs(["bash", "-x", "--max-num-seqs=64"]).maxNumSeqs, 64, "no -c: plain arguments");
  });

  it("groups quoted words in a shell string and honours a leading VLLM_USE_V1 assignment", () => {
    assert.deepEqual(tokenizeShell(`a  "b c" 'd "e"' f''`), ["a", "b c", 'd "e"', "f"]);
    const p = parseVllmArgs(["bash", "-c", "VLLM_USE_V1=0 vllm serve 'my model' --max-model-len 4096"]);
    assert.equal(p.v1Engine, false);
    assert.equal(p.maxModelLen, 4096);
    assert.equal(effectiveMaxBatchedTokens(p), 4096);
  });

  it("gives vLLM's defaults without arguments (8192 batched tokens on V1 with chunked prefill)", () => {
    const p = parseVllmArgs([]);
    assert.deepEqual(p, DEFAULT_VLLM_PARAMS);
    assert.equal(p.gpuMemoryUtilization, 0.9);
    assert.equal(p.blockSize, 16);
    assert.equal(p.kvCacheDtype, "auto");
    assert.equal(p.tensorParallelSize, 1);
    assert.equal(p.maxNumSeqs, 256);
    assert.ok(p.v1Engine && p.chunkedPrefill);
    assert.equal(effectiveMaxBatchedTokens(p), 8192);
  });

  it("parses every recognised flag from command + args", () => {
    const p = parseVllmContainer({
      command: ["vllm", "serve", "m"],
      args: [
        "--gpu-memory-utilization",
        "0.85",
        "--block-size=32",
        "--kv-cache-dtype",
        "fp8",
        "--tensor-parallel-size=4",
        "--max-num-batched-tokens",
        "4096",
        "--max_num_seqs=128",
        "--max-model-len",
        "8192",
        "--enforce-eager",
        "--num-gpu-blocks-override=100",
      ],
    });
    assert.deepEqual(p, {
      ...DEFAULT_VLLM_PARAMS,
      gpuMemoryUtilization: 0.85,
      blockSize: 32,
      kvCacheDtype: "fp8",
      tensorParallelSize: 4,
      maxNumBatchedTokens: 4096,
      maxNumSeqs: 128,
      maxModelLen: 8192,
      enforceEager: true,
      numGpuBlocksOverride: 100,
    });
    assert.equal(effectiveMaxBatchedTokens(p), 4096);
  });

  it("V0 engine: chunked prefill only with --enable-chunked-prefill (2048), else max-model-len above 2048", () => {
    const env = [{ name: "VLLM_USE_V1", value: "0" }];
    const chunked = parseVllmContainer({ args: ["--enable-chunked-prefill"], env });
    assert.equal(chunked.v1Engine, false);
    assert.equal(chunked.chunkedPrefill, true);
    assert.equal(effectiveMaxBatchedTokens(chunked), 2048);
    const long = parseVllmContainer({ args: ["--max-model-len=8192"], env });
    assert.equal(long.chunkedPrefill, false);
    assert.equal(effectiveMaxBatchedTokens(long), 8192);
    assert.equal(
      effectiveMaxBatchedTokens(parseVllmContainer({ args: ["--max-model-len=1024"], env })),
      2048,
    );
  });

  it("keeps defaults for a missing container, values that do not parse and flags without a value", () => {
    assert.deepEqual(parseVllmContainer(undefined), DEFAULT_VLLM_PARAMS);
    const p = parseVllmArgs([
      "--max-num-seqs=abc",
      "--block-size=-16",
      "--tensor-parallel-size=1.5",
      "--max-model-len",
    ]);
    assert.deepEqual(p, DEFAULT_VLLM_PARAMS);
    assert.equal(parseVllmArgs(["--max-num-seqs", "--block-size", "8"]).blockSize, 8);
  });

  it("reads negated and explicit boolean flags", () => {
    assert.equal(parseVllmArgs(["--no-enable-chunked-prefill"]).chunkedPrefill, false);
    assert.equal(parseVllmArgs(["--enable-chunked-prefill=false"]).chunkedPrefill, false);
    assert.equal(parseVllmArgs(["--enforce-eager=true"]).enforceEager, true);
    assert.equal(parseVllmArgs([], { VLLM_USE_V1: "1" }).v1Engine, true);
  });

  it("compatibility compares the KV and batch parameters only", () => {
    assert.equal(paramsCompatible(params(), params()), true);
    for (const diff of [
      { gpuMemoryUtilization: 0.8 },
      { blockSize: 32 },
      { kvCacheDtype: "fp8" },
      { tensorParallelSize: 2 },
      { maxNumBatchedTokens: 4096 },
    ]) {
      assert.equal(paramsCompatible(params(), params(diff)), false, JSON.stringify(diff));
    }
    assert.equal(paramsCompatible(params(), undefined), false);
    assert.equal(paramsCompatible(params(), params({ maxNumSeqs: 64, maxModelLen: 4096 })), true);
  });

  it("puts average output lengths into short, medium and long buckets", () => {
    for (const v of [0, 50, 99.9]) assert.equal(outputBucket(v), "short");
    for (const v of [100, 300, 499.9]) assert.equal(outputBucket(v), "medium");
    for (const v of [500, 5000]) assert.equal(outputBucket(v), "long");
  });
});

function live(over: Partial<CapacityRecord> = {}): Omit<CapacityRecord, "learnedFrom" | "updatedAt"> {
  return {
    namespace: "ns",
    modelID: "m",
    variant: "v",
    accelerator: "H100",
    gpuCount: 1,
    numGpuBlocks: 1000,
    blockSize: 16,
    totalKvCapacityTokens: 16000,
    effectiveCapacity: 12800,
    ...over,
  };
}

describe("capacity store", () => {
  it("a Deployment with --num-gpu-blocks-override gives a deployment record (blocks × block size)", () => {
    const s = new CapacityStore();
    const p = parseVllmArgs(["--num-gpu-blocks-override", "5000"]);
    s.loadFromDeployment(
      { namespace: "ns", modelID: "m", variant: "v", accelerator: "H100", gpuCount: 1, vllmParams: p },
      NOW,
    );
    const r = s.get("ns", "m", "v");
    assert.equal(r?.totalKvCapacityTokens, 80000);
    assert.equal(r?.effectiveCapacity, 8192);
    assert.equal(r?.learnedFrom, "deployment");
  });

  it("a Deployment never overwrites a live record", () => {
    const s = new CapacityStore();
    s.updateLive(live(), NOW);
    s.loadFromDeployment(
      {
        namespace: "ns",
        modelID: "m",
        variant: "v",
        accelerator: "H100",
        gpuCount: 1,
        vllmParams: params({ numGpuBlocksOverride: 5000 }),
      },
      NOW + 1,
    );
    const r = s.get("ns", "m", "v");
    assert.equal(r?.learnedFrom, "live");
    assert.equal(r?.totalKvCapacityTokens, 16000);
    assert.equal(r?.updatedAt, NOW);
  });

  it("finds a compatible record across namespaces, only for the same model, accelerator, GPUs and params", () => {
    const s = new CapacityStore();
    s.restore({
      ...live({ namespace: "other", variant: "a", effectiveCapacity: 28000 }),
      learnedFrom: "live",
      vllmParams: params(),
      updatedAt: NOW,
    });
    assert.equal(s.findCompatible("m", "H100", 1, params())?.effectiveCapacity, 28000);
    assert.equal(s.findCompatible("m", "A100", 1, params()), undefined);
    assert.equal(s.findCompatible("m", "H100", 2, params()), undefined);
    assert.equal(s.findCompatible("m", "H100", 1, params({ blockSize: 32 })), undefined);
    assert.equal(s.findCompatible("other-model", "H100", 1, params()), undefined);
    assert.equal(s.findCompatible("m", "H100", 1, undefined), undefined);
  });

  it("prefers a live record over a deployment record", () => {
    const s = new CapacityStore();
    s.loadFromDeployment(
      { namespace: "a", modelID: "m", variant: "d", accelerator: "H100", gpuCount: 1, vllmParams: params() },
      NOW,
    );
    s.restore({
      ...live({ namespace: "b", variant: "l", effectiveCapacity: 30000 }),
      learnedFrom: "live",
      vllmParams: params(),
      updatedAt: NOW,
    });
    const r = s.findCompatible("m", "H100", 1, params());
    assert.equal(r?.learnedFrom, "live");
    assert.equal(r?.effectiveCapacity, 30000);
  });

  it("a record is stale when missing or older than 30 minutes", () => {
    const s = new CapacityStore();
    assert.equal(s.isStale("ns", "m", "v", NOW), true);
    s.updateLive(live(), NOW);
    assert.equal(s.isStale("ns", "m", "v", NOW + RECORD_STALE_MS), false);
    assert.equal(s.isStale("ns", "m", "v", NOW + RECORD_STALE_MS + 1), true);
  });

  it("refreshing a live record keeps the vLLM parameters learned from the Deployment", () => {
    const s = new CapacityStore();
    const p = params({ maxNumSeqs: 64 });
    s.loadFromDeployment(
      { namespace: "ns", modelID: "m", variant: "v", accelerator: "H100", gpuCount: 1, vllmParams: p },
      NOW,
    );
    s.updateLive(live(), NOW + 1);
    assert.deepEqual(s.get("ns", "m", "v")?.vllmParams, p);
  });

  it("keeps the last 10 k2 observations per key and averages them", () => {
    const s = new CapacityStore();
    for (let i = 1; i <= 15; i++) s.addK2("m", "H100", "short", i * 1000, NOW);
    const h = s.toJSON().history;
    assert.equal(h.length, 1);
    assert.equal(h[0].values.length, K2_WINDOW);
    assert.equal(s.k2Average("m", "H100", "short"), 10500);
    assert.equal(s.k2Average("m", "H100", "long"), 0);
  });

  it("evicts records after 7 days and history after 24 hours without refresh", () => {
    const s = new CapacityStore();
    s.updateLive(live(), NOW);
    s.addK2("m", "H100", "short", 5000, NOW);
    s.evict(NOW + HISTORY_EVICT_MS);
    assert.equal(s.historyKeyCount, 1);
    s.evict(NOW + HISTORY_EVICT_MS + 1);
    assert.equal(s.historyKeyCount, 1, "a pass within EVICT_INTERVAL_MS of the previous one does nothing");
    s.evict(NOW + HISTORY_EVICT_MS + EVICT_INTERVAL_MS);
    assert.equal(s.historyKeyCount, 0);
    assert.equal(s.recordCount, 1);
    s.evict(NOW + RECORD_EVICT_MS + 1);
    assert.equal(s.recordCount, 0);
    assert.equal(s.findCompatible("m", "H100", 1, params()), undefined);
  });

  it("stays bounded with 10,000 variants refreshed over many cycles", () => {
    const s = new CapacityStore({ maxRecords: 8000, maxHistorySeries: 1000 });
    for (let cycle = 0; cycle < 3; cycle++) {
      const now = NOW + cycle * 60_000;
      for (let v = 0; v < 10_000; v++) {
        s.updateLive(
          live({ modelID: `m${v % 2500}`, variant: `v${v}`, accelerator: v % 2 ? "H100" : "A100" }),
          now,
        );
        s.addK2(`m${v % 2500}`, v % 2 ? "H100" : "A100", outputBucket(v % 700), 1000 + cycle, now);
      }
    }
    assert.ok(s.recordCount <= 8000 && s.recordCount >= 7200, `records capped: ${s.recordCount}`);
    assert.ok(s.get("ns", `m${9999 % 2500}`, "v9999"), "the latest record is kept");
    assert.ok(s.historyKeyCount <= 3 * 1000, `history capped: ${s.historyKeyCount}`);
    for (const h of s.toJSON().history) assert.ok(h.values.length <= K2_WINDOW);
    const unbounded = new CapacityStore();
    for (let v = 0; v < 10_000; v++) unbounded.updateLive(live({ variant: `v${v}` }), NOW);
    for (let v = 0; v < 10_000; v++) unbounded.updateLive(live({ variant: `v${v}` }), NOW + 1);
    assert.equal(unbounded.recordCount, 10_000, "refreshing a record does not add another");
    assert.equal(
      unbounded.findCompatible("m", "H100", 1, params()),
      undefined,
      "live records without params",
    );
  });

  it("round-trips through JSON", () => {
    const s = new CapacityStore();
    s.loadFromDeployment(
      { namespace: "ns", modelID: "m", variant: "d", accelerator: "H100", gpuCount: 1, vllmParams: params() },
      NOW,
    );
    s.updateLive(live(), NOW);
    s.addK2("m", "H100", "medium", 7000, NOW);
    const copy = CapacityStore.fromJSON(
      JSON.parse(JSON.stringify(s.toJSON())) as ReturnType<CapacityStore["toJSON"]>,
      NOW + 1,
    );
    assert.deepEqual(copy.toJSON(), s.toJSON());
    assert.equal(copy.findCompatible("m", "H100", 1, params())?.variant, "d");
    assert.equal(copy.k2Average("m", "H100", "medium"), 7000);
  });

  it("loads snapshot entries without a refresh time as fresh", () => {
    const { updatedAt: _, ...rec } = {
      ...live({ effectiveCapacity: 9000 }),
      learnedFrom: "live" as const,
      updatedAt: 0,
    };
    const s = CapacityStore.fromJSON(
      {
        records: [rec],
        history: [
          {
            modelID: "m",
            accelerator: "H100",
            bucket: "long",
            values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
          },
        ],
      },
      NOW,
    );
    assert.equal(s.get("ns", "m", "v")?.effectiveCapacity, 9000);
    assert.equal(s.isStale("ns", "m", "v", NOW), false);
    assert.equal(s.k2Average("m", "H100", "long"), 7.5, "only the last 10 values are kept");
    s.evict(NOW + HISTORY_EVICT_MS + 1);
    assert.equal(s.historyKeyCount, 0);
  });
});
