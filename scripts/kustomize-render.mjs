#!/usr/bin/env node
// Renders a kustomize folder with the real `kubectl kustomize`, optionally replacing the controller image,
// without editing any committed file: `node scripts/kustomize-render.mjs config/default [IMG]`.
// Used by `make deploy` / `make undeploy`. KUBECTL selects the kubectl binary (default: kubectl on PATH).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";

const RELEASED_IMAGE = "ghcr.io/llm-d-incubation/workload-variant-autoscaler";

/** Splits an image reference into name and tag/digest; a registry port is not a tag. */
export function splitImage(ref) {
  const at = ref.indexOf("@");
  if (at >= 0) return { name: ref.slice(0, at), digest: ref.slice(at + 1) };
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  if (colon > slash) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref, tag: "latest" };
}

export function render(dir, img, kubectl = process.env.KUBECTL || "kubectl") {
  if (!img) return execFileSync(kubectl, ["kustomize", dir], { encoding: "utf8" });
  const { name, tag, digest } = splitImage(img);
  if (!name) throw new Error(`IMG: cannot parse image reference "${img}"`);
  const overlay = mkdtempSync(join(tmpdir(), "wva-deploy-"));
  try {
    const image = [`  - name: ${RELEASED_IMAGE}`, `    newName: ${name}`];
    image.push(digest ? `    digest: ${digest}` : `    newTag: "${tag}"`);
    writeFileSync(
      join(overlay, "kustomization.yaml"),
      [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "resources:",
        `  - ${relative(overlay, resolve(dir))}`,
        "images:",
        ...image,
        "",
      ].join("\n"),
    );
    return execFileSync(kubectl, ["kustomize", overlay], { encoding: "utf8" });
  } finally {
    rmSync(overlay, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const [dir, img] = process.argv.slice(2);
  if (!dir) {
    console.error("usage: kustomize-render.mjs DIR [IMG]");
    process.exit(2);
  }
  try {
    process.stdout.write(render(dir, img));
  } catch (err) {
    console.error(`kustomize-render: ${err.message.split("\n")[0]}`);
    process.exit(1);
  }
}
