import assert from "node:assert/strict";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { describe, it } from "node:test";
import { createCertificateAuthority, createServingCertificate } from "../../src/util/certificates.js";

describe("certificates", () => {
  it("a serving certificate signed by a CA names its subjectAltNames and verifies against the CA", () => {
    const ca = createCertificateAuthority("test-ca", 2);
    const srv = createServingCertificate(
      { commonName: "test-server", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], days: 2 },
      ca,
    );
    const caCert = new X509Certificate(ca.certPem);
    const cert = new X509Certificate(srv.certPem);
    assert.equal(caCert.ca, true);
    assert.equal(cert.ca, false);
    assert.match(cert.subject, /CN=test-server/);
    assert.match(cert.issuer, /CN=test-ca/);
    assert.equal(cert.verify(caCert.publicKey), true);
    assert.equal(cert.checkHost("localhost"), "localhost");
    assert.equal(cert.checkIP("127.0.0.1"), "127.0.0.1");
    assert.equal(cert.checkPrivateKey(createPrivateKey(srv.keyPem)), true);
    const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    assert.ok(days > 1.9 && days <= 2, `valid for ${days} days`);
  });

  it("without an issuer the certificate is self-signed", () => {
    const srv = createServingCertificate({ commonName: "alone" });
    const cert = new X509Certificate(srv.certPem);
    assert.equal(cert.subject, cert.issuer);
    assert.equal(cert.verify(cert.publicKey), true);
    assert.equal(cert.checkHost("localhost"), undefined, "no subjectAltName was asked for");
  });
});
