// Every file `make manifests` generates, as path -> content. `npm run release -- verify` and the tests
// compare these with the committed files to find stale ones.
import { variantAutoscalingCRD } from "../src/api/v1alpha1/crd.js";
import { crdManifestFiles } from "../src/api/v1alpha1/manifests.js";
import { crdReferenceMarkdown, type Crd } from "./crd-docs.js";
import { rbacFiles } from "./generate-rbac.js";

export const CRD_REFERENCE_PATH = "docs/user-guide/crd-reference.md";

export function crdDocsFiles(): Record<string, string> {
  return { [CRD_REFERENCE_PATH]: crdReferenceMarkdown(variantAutoscalingCRD() as unknown as Crd) };
}

export function generatedFiles(): Record<string, string> {
  return { ...crdManifestFiles(), ...rbacFiles(), ...crdDocsFiles() };
}
