import forge from "node-forge";

/**
 * X.509 certificates for TLS servers that have no certificate of their own: a self-signed serving
 * certificate, or a throw-away CA and serving certificates signed by it. Node's crypto cannot build
 * X.509 certificates, so node-forge (pure JavaScript, no native or transitive dependencies) does it.
 * Keys are RSA 2048, signatures SHA-256.
 */

/** A certificate and its private key, PEM. */
export interface CertificatePem {
  certPem: string;
  keyPem: string;
}

/** Subject and validity of a serving certificate. */
export interface ServingCertificateSpec {
  commonName: string;
  /** DNS names of the subjectAltName. */
  dnsNames?: readonly string[];
  /** IP addresses of the subjectAltName. */
  ipAddresses?: readonly string[];
  /** Days of validity from now (default 7). */
  days?: number;
}

const DAY_MS = 86_400_000;

/** A positive 16-byte serial number. */
function serial(): string {
  return `01${forge.util.bytesToHex(forge.random.getBytesSync(15))}`;
}

function newCertificate(publicKey: forge.pki.PublicKey, days: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serial();
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60_000);
  cert.validity.notAfter = new Date(now + days * DAY_MS);
  return cert;
}

function toPem(cert: forge.pki.Certificate, key: forge.pki.PrivateKey): CertificatePem {
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(key) };
}

/** A CA certificate (self-signed, may sign certificates) and its key. */
export function createCertificateAuthority(commonName: string, days = 7): CertificatePem {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const ca = newCertificate(keys.publicKey, days);
  const name = [{ name: "commonName", value: commonName }];
  ca.setSubject(name);
  ca.setIssuer(name);
  ca.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  ca.sign(keys.privateKey, forge.md.sha256.create());
  return toPem(ca, keys.privateKey);
}

/**
 * A serving certificate (serverAuth, with the spec's subjectAltNames) signed by `issuer`, or
 * self-signed when no issuer is given.
 */
export function createServingCertificate(
  spec: ServingCertificateSpec,
  issuer?: CertificatePem,
): CertificatePem {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = newCertificate(keys.publicKey, spec.days ?? 7);
  cert.setSubject([{ name: "commonName", value: spec.commonName }]);
  const altNames = [
    ...(spec.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
    ...(spec.dnsNames ?? []).map((value) => ({ type: 2, value })),
  ];
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    ...(altNames.length > 0 ? [{ name: "subjectAltName", altNames }] : []),
  ]);
  if (issuer) {
    cert.setIssuer(forge.pki.certificateFromPem(issuer.certPem).subject.attributes);
    cert.sign(forge.pki.privateKeyFromPem(issuer.keyPem), forge.md.sha256.create());
  } else {
    cert.setIssuer(cert.subject.attributes);
    cert.sign(keys.privateKey, forge.md.sha256.create());
  }
  return toPem(cert, keys.privateKey);
}
