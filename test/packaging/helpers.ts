import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestContext } from "node:test";
import { parse } from "yaml";
import { k8sTools, requireTool } from "../support/tools.js";
import { parseManifests, type K8sObject } from "./k8s-schema.js";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const chartDir = join(root, "charts", "workload-variant-autoscaler");
export const RELEASE = "workload-variant-autoscaler";
export const NAMESPACE = "workload-variant-autoscaler-system";

let tools: { helm: string; kubectl: string } | undefined;
function loadTools(): { helm?: string; kubectl?: string } {
  if (tools) return tools;
  try {
    tools = k8sTools();
    return tools;
  } catch {
    return {};
  }
}

export function helmBin(t: TestContext): string | undefined {
  return requireTool(t, "helm", loadTools().helm, "npm ci (extracted by scripts/k8s-tools.mjs)");
}

export function kubectlBin(t: TestContext): string | undefined {
  return requireTool(t, "kubectl", loadTools().kubectl, "npm ci (extracted by scripts/k8s-tools.mjs)");
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): RunResult {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? root, env: opts.env ?? process.env, encoding: "utf8" });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `helm template` of the chart with extra args; throws with helm's stderr on failure. */
export function helmTemplate(helm: string, args: string[] = []): K8sObject[] {
  const out = execFileSync(helm, ["template", RELEASE, chartDir, "--namespace", NAMESPACE, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return parseManifests(out);
}

export function find(objs: K8sObject[], kind: string, name?: string): K8sObject[] {
  return objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

export function one(objs: K8sObject[], kind: string, name?: string): K8sObject {
  const found = find(objs, kind, name);
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? `/${name}` : ""}, found ${found.length}`);
  }
  return found[0];
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
}

export function readYaml<T = Record<string, unknown>>(path: string): T {
  return parse(readFileSync(join(root, path), "utf8")) as T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Any = any;
