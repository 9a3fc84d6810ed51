// Certificates for tests that talk TLS to a local server (a fake Kubernetes API, an HTTPS OIDC
// issuer), generated at run time so that no key is ever committed. Node makes the keys (fast,
// native); node-forge builds the certificates, which Node cannot.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { isIP } from "node:net";
import forge from "node-forge";

/** A certificate authority made for one test run. Trust `certPem`; issue with the functions below. */
export interface CertificateAuthority {
  /** The CA certificate, PEM: what a client trusts (`ca`, a kubeconfig's `certificate-authority-data`). */
  readonly certPem: string;
  /** The CA's private key, PEM (PKCS #1). */
  readonly keyPem: string;
}

/** A certificate and its private key, both PEM, ready for `tls.createServer` or a kubeconfig user. */
export interface IssuedCertificate {
  readonly certPem: string;
  /** PEM (PKCS #1). */
  readonly keyPem: string;
}

export interface ServerCertificateOptions {
  /** Names the certificate is valid for: IP addresses become IP SANs, anything else DNS SANs. */
  hosts: readonly string[];
}

export interface ClientCertificateOptions {
  /** The subject's common name; Kubernetes reads it as the user name. */
  commonName: string;
  /** The subject's organizations; Kubernetes reads them as the user's groups. */
  organizations?: readonly string[];
}

// Back-dated by a minute so that a peer whose clock is a little behind still accepts it.
const clockSkewMs = 60_000;
const lifetimeMs = 24 * 3_600_000;

/**
 * Creates a self-signed CA (RSA 2048, SHA-256) valid for a day.
 *
 * @example
 * const ca = createCertificateAuthority();
 * const server = issueServerCertificate(ca, { hosts: ["127.0.0.1", "localhost"] });
 */
export function createCertificateAuthority(commonName = "irsa-anywhere test CA"): CertificateAuthority {
  const keys = generateRsaKeyPair();
  const subject = [{ name: "commonName", value: commonName }];
  const certificate = newCertificate(keys.publicKey, subject, subject);
  certificate.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  certificate.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(certificate), keyPem: keys.privateKeyPem };
}

/**
 * Issues a TLS server certificate signed by `ca`, with every host as a subject alternative name
 * (IP or DNS), which is what clients check; the common name is only the first host.
 *
 * @example
 * const { certPem, keyPem } = issueServerCertificate(ca, { hosts: ["127.0.0.1", "localhost"] });
 */
export function issueServerCertificate(
  ca: CertificateAuthority,
  options: ServerCertificateOptions,
): IssuedCertificate {
  const [firstHost] = options.hosts;
  if (firstHost === undefined) throw new Error("issueServerCertificate needs at least one host");
  const altNames = options.hosts.map((host) =>
    isIP(host) === 0 ? { type: 2, value: host } : { type: 7, ip: host },
  );
  return issue(
    ca,
    [{ name: "commonName", value: firstHost }],
    [
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames },
    ],
  );
}

/**
 * Issues a TLS client certificate signed by `ca`, as a kubeconfig's `client-certificate-data`
 * carries it (CN the user, O the groups).
 *
 * @example
 * const admin = issueClientCertificate(ca, { commonName: "kubernetes-admin", organizations: ["system:masters"] });
 */
export function issueClientCertificate(
  ca: CertificateAuthority,
  options: ClientCertificateOptions,
): IssuedCertificate {
  const subject = [
    { name: "commonName", value: options.commonName },
    ...(options.organizations ?? []).map((value) => ({ name: "organizationName", value })),
  ];
  return issue(ca, subject, [{ name: "extKeyUsage", clientAuth: true }]);
}

type Attributes = forge.pki.CertificateField[];

function issue(ca: CertificateAuthority, subject: Attributes, extensions: object[]): IssuedCertificate {
  const caCertificate = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const keys = generateRsaKeyPair();
  const certificate = newCertificate(keys.publicKey, subject, caCertificate.subject.attributes);
  certificate.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "subjectKeyIdentifier" },
    // forge's `keyIdentifier: true` would take this certificate's own key, so name the CA's.
    {
      name: "authorityKeyIdentifier",
      keyIdentifier: caCertificate.generateSubjectKeyIdentifier().getBytes(),
    },
    ...extensions,
  ]);
  certificate.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(certificate), keyPem: keys.privateKeyPem };
}

function newCertificate(
  publicKey: forge.pki.rsa.PublicKey,
  subject: Attributes,
  issuer: Attributes,
): forge.pki.Certificate {
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = publicKey;
  certificate.serialNumber = serialNumber();
  const now = Date.now();
  certificate.validity.notBefore = new Date(now - clockSkewMs);
  certificate.validity.notAfter = new Date(now + lifetimeMs);
  certificate.setSubject(subject);
  certificate.setIssuer(issuer);
  return certificate;
}

function generateRsaKeyPair(): {
  publicKey: forge.pki.rsa.PublicKey;
  privateKey: forge.pki.rsa.PrivateKey;
  privateKeyPem: string;
} {
  const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const privateKeyPem = pair.privateKey.export({ type: "pkcs1", format: "pem" }) as string;
  const publicKeyPem = pair.publicKey.export({ type: "spki", format: "pem" }) as string;
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKeyPem),
    privateKey: forge.pki.privateKeyFromPem(privateKeyPem),
    privateKeyPem,
  };
}

/** A random positive serial (the top bit clear, so DER does not read it as negative). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString("hex");
}
