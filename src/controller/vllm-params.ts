import { parseVllmContainer, type VllmParams } from "../analyze/token-capacity/index.js";
import type { Deployment } from "./accelerator.js";

/**
 * vLLM parameters of a Deployment's serving container, for the token-capacity analyzer: the container
 * named `vllm`, else the first whose command or args mention vllm; undefined when there is none.
 */
export function deploymentVllmParams(d: Deployment): VllmParams | undefined {
  const containers = d.spec?.template?.spec?.containers ?? [];
  const c =
    containers.find((x) => x.name === "vllm") ??
    containers.find((x) => [...(x.command ?? []), ...(x.args ?? [])].some((a) => a.includes("vllm")));
  return c === undefined ? undefined : parseVllmContainer(c);
}
