/**
 * vLLM server parameters read from a container's `command` + `args` and environment, as far as they
 * shape the KV cache and the batch (see docs/design/token-capacity-analyzer.md). Pure: plain data in,
 * plain data out; values that do not parse keep their default.
 */

/** The vLLM parameters that bound a replica's token capacity. */
export interface VllmParams {
  gpuMemoryUtilization: number;
  blockSize: number;
  kvCacheDtype: string;
  tensorParallelSize: number;
  /** `--num-gpu-blocks-override`; 0 = not set. */
  numGpuBlocksOverride: number;
  /** `--max-num-batched-tokens`; 0 = not set (see effectiveMaxBatchedTokens). */
  maxNumBatchedTokens: number;
  maxNumSeqs: number;
  /** `--max-model-len`; 0 = not set. */
  maxModelLen: number;
  enforceEager: boolean;
  /** The V1 engine (vLLM's default); `VLLM_USE_V1=0` selects V0. */
  v1Engine: boolean;
  chunkedPrefill: boolean;
}

/** vLLM's defaults for the parameters above. */
export const DEFAULT_VLLM_PARAMS: Readonly<VllmParams> = Object.freeze({
  gpuMemoryUtilization: 0.9,
  blockSize: 16,
  kvCacheDtype: "auto",
  tensorParallelSize: 1,
  numGpuBlocksOverride: 0,
  maxNumBatchedTokens: 0,
  maxNumSeqs: 256,
  maxModelLen: 0,
  enforceEager: false,
  v1Engine: true,
  chunkedPrefill: true,
});

/** The parts of a Kubernetes container the parser reads (structurally compatible with V1Container). */
export interface VllmContainer {
  command?: readonly string[];
  args?: readonly string[];
  env?: readonly { name: string; value?: string }[];
}

const SHELLS = new Set(["sh", "bash", "/bin/sh", "/bin/bash", "/usr/bin/sh", "/usr/bin/bash"]);

type NumberKey =
  | "gpuMemoryUtilization"
  | "blockSize"
  | "tensorParallelSize"
  | "numGpuBlocksOverride"
  | "maxNumBatchedTokens"
  | "maxNumSeqs"
  | "maxModelLen";

/** Flags that take a value, by normalised name (dashes, no leading `--`). */
const VALUE_FLAGS: Readonly<Record<string, NumberKey | "kvCacheDtype">> = {
  "gpu-memory-utilization": "gpuMemoryUtilization",
  "block-size": "blockSize",
  "kv-cache-dtype": "kvCacheDtype",
  "tensor-parallel-size": "tensorParallelSize",
  "num-gpu-blocks-override": "numGpuBlocksOverride",
  "max-num-batched-tokens": "maxNumBatchedTokens",
  "max-num-seqs": "maxNumSeqs",
  "max-model-len": "maxModelLen",
};
const INTEGER_KEYS = new Set<string>([
  "blockSize",
  "tensorParallelSize",
  "numGpuBlocksOverride",
  "maxNumBatchedTokens",
  "maxNumSeqs",
  "maxModelLen",
]);
const BOOL_FLAGS: Readonly<Record<string, "enforceEager" | "chunkedPrefill">> = {
  "enforce-eager": "enforceEager",
  "enable-chunked-prefill": "chunkedPrefill",
};

/** Splits a shell command line on blanks; single and double quotes group (quotes removed). */
export function tokenizeShell(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inToken = false;
  let quote: "'" | '"' | undefined;
  for (const ch of line) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inToken = true;
    } else if (ch === " " || ch === "\t" || ch === "\n") {
      if (inToken) out.push(cur);
      cur = "";
      inToken = false;
    } else {
      cur += ch;
      inToken = true;
    }
  }
  if (inToken) out.push(cur);
  return out;
}

/** `-c` alone or among combined short options (`-lc`, `-ec`). */
const SHELL_COMMAND_OPTION = /^-[a-z]*c$/;

/**
 * The argument list vLLM sees: when the command runs a shell with `-c`, the tokens of the shell string;
 * otherwise command and args as given.
 */
export function vllmArgv(argv: readonly string[]): string[] {
  for (let i = 0; i + 2 < argv.length; i++) {
    if (SHELLS.has(argv[i]) && SHELL_COMMAND_OPTION.test(argv[i + 1])) return tokenizeShell(argv[i + 2]);
  }
  return [...argv];
}

function parseBool(v: string): boolean | undefined {
  const s = v.toLowerCase();
  if (s === "true" || s === "1" || s === "yes") return true;
  if (s === "false" || s === "0" || s === "no") return false;
  return undefined;
}

/**
 * Parses vLLM parameters from a command line (`command` followed by `args`) and the container's
 * environment. `--key=value` and `--key value` are both accepted, dashes and underscores in keys are
 * equivalent; `VLLM_USE_V1=0` (in `env` or as a leading assignment in a shell string) selects the V0
 * engine, where chunked prefill is off unless `--enable-chunked-prefill` is given.
 */
export function parseVllmArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string>> = {},
): VllmParams {
  const p: VllmParams = { ...DEFAULT_VLLM_PARAMS };
  const tokens = vllmArgv(argv);
  let useV1 = env.VLLM_USE_V1;
  let chunked: boolean | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.startsWith("VLLM_USE_V1=")) {
      useV1 = t.slice("VLLM_USE_V1=".length);
      continue;
    }
    if (!t.startsWith("--")) continue;
    const eq = t.indexOf("=");
    let key = (eq >= 0 ? t.slice(2, eq) : t.slice(2)).replaceAll("_", "-");
    const inline = eq >= 0 ? t.slice(eq + 1) : undefined;
    let negated = false;
    if (key.startsWith("no-") && BOOL_FLAGS[key.slice(3)] !== undefined) {
      key = key.slice(3);
      negated = true;
    }
    const boolKey = BOOL_FLAGS[key];
    if (boolKey !== undefined) {
      const value = negated ? false : inline === undefined ? true : parseBool(inline);
      if (value === undefined) continue;
      if (boolKey === "chunkedPrefill") chunked = value;
      else p.enforceEager = value;
      continue;
    }
    const valueKey = VALUE_FLAGS[key];
    if (valueKey === undefined) continue;
    let raw = inline;
    if (raw === undefined && i + 1 < tokens.length && !tokens[i + 1].startsWith("--")) raw = tokens[++i];
    if (raw === undefined) continue;
    if (valueKey === "kvCacheDtype") {
      if (raw !== "") p.kvCacheDtype = raw;
      continue;
    }
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n) || n < 0) continue;
    if (INTEGER_KEYS.has(valueKey) && !Number.isInteger(n)) continue;
    p[valueKey] = n;
  }
  p.v1Engine = useV1 === undefined ? true : parseBool(useV1) !== false;
  p.chunkedPrefill = chunked ?? p.v1Engine;
  return p;
}

/** Parameters of a container (command + args and its literal env values); undefined = vLLM defaults. */
export function parseVllmContainer(container: VllmContainer | undefined): VllmParams {
  if (container === undefined) return { ...DEFAULT_VLLM_PARAMS };
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return parseVllmArgs([...(container.command ?? []), ...(container.args ?? [])], env);
}

/**
 * Tokens the scheduler batches per step: the explicit `--max-num-batched-tokens`, else 8192 with chunked
 * prefill on the V1 engine (2048 on V0), else `--max-model-len` when above 2048, else 2048.
 */
export function effectiveMaxBatchedTokens(p: VllmParams): number {
  if (p.maxNumBatchedTokens > 0) return p.maxNumBatchedTokens;
  if (p.chunkedPrefill) return p.v1Engine ? 8192 : 2048;
  return p.maxModelLen > 2048 ? p.maxModelLen : 2048;
}

/**
 * Two servers have the same per-replica token capacity on the same hardware when the parameters that size
 * the KV cache and the batch agree (`maxNumSeqs` and `maxModelLen` are not compared).
 */
export function paramsCompatible(a: VllmParams | undefined, b: VllmParams | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  return (
    a.gpuMemoryUtilization === b.gpuMemoryUtilization &&
    a.blockSize === b.blockSize &&
    a.kvCacheDtype === b.kvCacheDtype &&
    a.tensorParallelSize === b.tensorParallelSize &&
    a.numGpuBlocksOverride === b.numGpuBlocksOverride &&
    effectiveMaxBatchedTokens(a) === effectiveMaxBatchedTokens(b)
  );
}
