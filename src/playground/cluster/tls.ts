import { createCertificateAuthority, createServingCertificate } from "../../util/certificates.js";

export interface ClusterCertificates {
  /** PEM of the generated CA (goes into the kubeconfig's certificate-authority-data). */
  caPem: string;
  /** Server certificate (signed by the CA) and its key, PEM. */
  certPem: string;
  keyPem: string;
}

/**
 * Generates a throw-away CA and a server certificate for 127.0.0.1 / localhost signed by it,
 * valid for `days` (default 7).
 */
export function generateCertificates(days = 7): ClusterCertificates {
  const ca = createCertificateAuthority("wva-playground-ca", days);
  const server = createServingCertificate(
    {
      commonName: "wva-playground-apiserver",
      ipAddresses: ["127.0.0.1"],
      dnsNames: ["localhost", "kubernetes.default.svc"],
      days,
    },
    ca,
  );
  return { caPem: ca.certPem, certPem: server.certPem, keyPem: server.keyPem };
}
