// `npm run manifests` / `make manifests`: writes the VariantAutoscaling CRD from the TypeScript API
// definition (src/api/v1alpha1) to the kustomize base and the Helm chart. The output is deterministic.
// `--out DIR` writes below DIR instead of the repository root.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { crdManifestFiles } from "../src/api/v1alpha1/manifests.js";

const args = process.argv.slice(2);
let root = join(dirname(fileURLToPath(import.meta.url)), "..");
if (args.length === 2 && args[0] === "--out") root = resolve(args[1]);
else if (args.length > 0) {
  console.error("usage: generate-manifests [--out DIR]");
  process.exit(2);
}
for (const [path, text] of Object.entries(crdManifestFiles())) {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.log(`wrote ${path}`);
}
