import type { Command } from "commander";
import { createLogger } from "../../util/logger.js";
import { VllmEmulator } from "../../playground/vllm/server.js";
import { DEFAULT_ENGINE_CONFIG, EngineError } from "../../playground/vllm/engine.js";
import { UsageError } from "../usage-error.js";

interface EmulateOptions {
  port: string;
  host: string;
  model?: string;
  maxBatch: string;
  kvBlocks: string;
  blockSize: string;
  alpha: string;
  beta: string;
  gamma: string;
  maxQueue: string;
  outputTokens: string;
  namespace?: string;
  pod?: string;
  legacyGpuCacheMetric?: boolean;
}

function int(field: string, v: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${field}: must be an integer between ${min} and ${max}, got "${v}"`);
  }
  return n;
}

function num(field: string, v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0)
    throw new UsageError(`--${field}: must be a number >= 0, got "${v}"`);
  return n;
}

/** `wva emulate vllm`: serves one vLLM emulator until SIGINT/SIGTERM. */
export function register(program: Command): void {
  const emulate = program.command("emulate").description("run emulated servers for local experiments");
  const d = DEFAULT_ENGINE_CONFIG;
  emulate
    .command("vllm")
    .description("serve an emulated vLLM OpenAI-compatible server with vLLM's metrics")
    .option("--port <port>", "port to listen on (0 = a free port)", "8000")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--model <model>", "model id served (required)")
    .option("--max-batch <n>", "max running requests (vLLM --max-num-seqs)", String(d.maxBatch))
    .option("--kv-blocks <n>", "KV-cache blocks (num_gpu_blocks)", String(d.kvBlocks))
    .option("--block-size <n>", "tokens per KV block", String(d.blockSize))
    .option("--alpha <ms>", "iteration overhead, ms", String(d.alpha))
    .option("--beta <ms>", "compute time per token, ms", String(d.beta))
    .option("--gamma <ms>", "KV memory time per token, ms", String(d.gamma))
    .option("--max-queue <n>", "max waiting requests", String(d.maxQueue))
    .option("--output-tokens <n>", "output length when a request gives no max_tokens", "128")
    .option("--namespace <ns>", "add a namespace label to every metric")
    .option("--pod <name>", "add a pod label to every metric")
    .option("--legacy-gpu-cache-metric", "also expose vllm:gpu_cache_usage_perc")
    .action(async (o: EmulateOptions) => {
      if (!o.model) throw new UsageError("--model: required (the model id to serve)");
      const port = int("port", o.port, 0, 65535);
      const extraLabels: Record<string, string> = {};
      if (o.namespace) extraLabels.namespace = o.namespace;
      if (o.pod) extraLabels.pod = o.pod;
      let emu: VllmEmulator;
      try {
        emu = new VllmEmulator({
          model: o.model,
          extraLabels,
          legacyGpuCacheMetric: o.legacyGpuCacheMetric,
          defaultOutputTokens: int("output-tokens", o.outputTokens, 1),
          logger: createLogger({ name: "vllm-emulator", format: "text" }),
          engine: {
            maxBatch: int("max-batch", o.maxBatch, 1),
            kvBlocks: int("kv-blocks", o.kvBlocks, 1),
            blockSize: int("block-size", o.blockSize, 1),
            maxQueue: int("max-queue", o.maxQueue, 0),
            alpha: num("alpha", o.alpha),
            beta: num("beta", o.beta),
            gamma: num("gamma", o.gamma),
          },
        });
      } catch (e) {
        if (e instanceof EngineError) throw new UsageError(e.message);
        throw e;
      }
      const addr = await emu.start({ host: o.host, port });
      process.stdout.write(`vLLM emulator for model "${o.model}" listening on ${addr.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await emu.stop();
      process.stdout.write("vLLM emulator stopped\n");
    });
}
