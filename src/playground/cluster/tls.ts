import forge from "node-forge";

export interface ClusterCertificates {
  /** PEM of the generated CA (goes into the kubeconfig's certificate-authority-data). */
  caPem: string;
  /** Server certificate (signed by the CA) and its key, PEM. */
  certPem: string;
  keyPem: string;
}

function serial(): string {
  // positive 16-byte serial number
  return `01${forge.util.bytesToHex(forge.random.getBytesSync(15))}`;
}

/**
 * Generates a throw-away CA and a server certificate for 127.0.0.1 / localhost signed by it.
 * Node's crypto cannot build X.509 certificates, so node-forge (pure JavaScript, no native or
 * transitive dependencies) does it. RSA 2048, valid for `days` (default 7).
 */
export function generateCertificates(days = 7): ClusterCertificates {
  const pki = forge.pki;
  const now = new Date();
  const notAfter = new Date(now.getTime() + days * 86_400_000);
  const notBefore = new Date(now.getTime() - 60_000);

  const caKeys = pki.rsa.generateKeyPair(2048);
  const ca = pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = serial();
  ca.validity.notBefore = notBefore;
  ca.validity.notAfter = notAfter;
  const caName = [{ name: "commonName", value: "wva-playground-ca" }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const keys = pki.rsa.generateKeyPair(2048);
  const cert = pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject([{ name: "commonName", value: "wva-playground-apiserver" }]);
  cert.setIssuer(caName);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: [
        { type: 7, ip: "127.0.0.1" },
        { type: 2, value: "localhost" },
        { type: 2, value: "kubernetes.default.svc" },
      ],
    },
  ]);
  cert.sign(caKeys.privateKey, forge.md.sha256.create());

  return {
    caPem: pki.certificateToPem(ca),
    certPem: pki.certificateToPem(cert),
    keyPem: pki.privateKeyToPem(keys.privateKey),
  };
}
