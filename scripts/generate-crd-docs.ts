// Part of `npm run manifests`: writes docs/user-guide/crd-reference.md from the CRD definition.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { crdDocsFiles } from "./generated-files.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
for (const [path, text] of Object.entries(crdDocsFiles())) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
  console.log(`wrote ${path}`);
}
