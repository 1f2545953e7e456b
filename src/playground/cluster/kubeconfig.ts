import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { stringify } from "yaml";

export interface KubeconfigOptions {
  server: string;
  token: string;
  /** PEM of the CA that signed the server certificate (HTTPS only). */
  caPem?: string;
  clusterName?: string;
  namespace?: string;
}

/** The kubeconfig document for the emulator (one cluster, one user with a bearer token). */
export function kubeconfigYaml(o: KubeconfigOptions): string {
  const name = o.clusterName ?? "wva-playground";
  const cluster: Record<string, unknown> = { server: o.server };
  if (o.caPem) cluster["certificate-authority-data"] = Buffer.from(o.caPem).toString("base64");
  // @kubernetes/client-node refuses plain http unless TLS verification is marked as skipped
  else if (o.server.startsWith("http:")) cluster["insecure-skip-tls-verify"] = true;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster }],
    users: [{ name: `${name}-admin`, user: { token: o.token } }],
    contexts: [
      { name, context: { cluster: name, user: `${name}-admin`, namespace: o.namespace ?? "default" } },
    ],
    "current-context": name,
    preferences: {},
  });
}

/** Writes the kubeconfig with mode 0600 (it holds a token). */
export function writeKubeconfig(path: string, o: KubeconfigOptions): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, kubeconfigYaml(o), { mode: 0o600 });
}
