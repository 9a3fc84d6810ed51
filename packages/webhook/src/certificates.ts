import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  randomBytes,
  X509Certificate,
} from "node:crypto";
import { firstLine, quoteInput } from "@irsa-anywhere/errors";
import forge from "node-forge";
import { WebhookError } from "./errors.js";
import { assertDnsLabel } from "./names.js";

/**
 * The key types the webhook's certificates can have.
 *
 * @example
 * const keyType: WebhookKeyType = "rsa-2048"; // for API servers that cannot take ECDSA
 */
export type WebhookKeyType = "ecdsa-p256" | "rsa-2048";

/**
 * What {@link makeWebhookCertificates} needs.
 *
 * @example
 * const options: WebhookCertificateOptions = { serviceName: "pod-identity-webhook", namespace: "irsa-anywhere", keyType: "ecdsa-p256" };
 */
export interface WebhookCertificateOptions {
  /** The webhook's Service name, a DNS-1123 label. */
  serviceName: string;
  /** The Service's namespace, a DNS-1123 label. */
  namespace: string;
  /** `ecdsa-p256` (the default) or `rsa-2048`. */
  keyType?: WebhookKeyType;
  /** The moment the certificates start; now unless given (tests freeze it). */
  now?: Date;
}

/**
 * A CA and the serving certificate it signed, as PEM.
 *
 * @example
 * const certificates: WebhookCertificates = makeWebhookCertificates({ serviceName: "pod-identity-webhook", namespace: "irsa-anywhere" });
 * await writeFile("ca.crt", certificates.caCertificatePem);
 */
export interface WebhookCertificates {
  /** The CA's certificate: the `caBundle` of the webhook configuration. */
  caCertificatePem: string;
  /** The CA's private key (PKCS#8), kept to sign the next serving certificate. */
  caKeyPem: string;
  /** The serving certificate, with the Service's DNS names. */
  certificatePem: string;
  /** The serving certificate's private key (PKCS#8). */
  keyPem: string;
  /** When the serving certificate expires. */
  notAfter: Date;
}

/**
 * How long the CA lasts, in years.
 *
 * @example
 * const caExpiry = new Date(Date.UTC(new Date().getUTCFullYear() + CA_VALIDITY_YEARS, 0));
 */
export const CA_VALIDITY_YEARS = 10;
/**
 * How long a serving certificate lasts, in years.
 *
 * @example
 * const renewalsPerCa = CA_VALIDITY_YEARS / SERVING_VALIDITY_YEARS;
 */
export const SERVING_VALIDITY_YEARS = 1;

/**
 * The DNS names a Service answers to inside the cluster, short to fully qualified.
 *
 * @example
 * serviceDnsNames("pod-identity-webhook", "irsa-anywhere");
 * // ["pod-identity-webhook", "pod-identity-webhook.irsa-anywhere", "pod-identity-webhook.irsa-anywhere.svc",
 * //  "pod-identity-webhook.irsa-anywhere.svc.cluster.local"]
 */
export function serviceDnsNames(serviceName: string, namespace: string): string[] {
  return [
    serviceName,
    `${serviceName}.${namespace}`,
    `${serviceName}.${namespace}.svc`,
    `${serviceName}.${namespace}.svc.cluster.local`,
  ];
}

/**
 * Makes the webhook's TLS: a CA (10 years) and a serving certificate it signs (1 year) for the
 * Service's DNS names ({@link serviceDnsNames}). Node's crypto makes the keys; node-forge builds
 * and signs the certificates (node-forge has no ECDSA, so an ECDSA certificate is signed by Node
 * over forge's DER). No cluster needed.
 *
 * @throws {WebhookError} `ERR_WEBHOOK_OPTION_INVALID` for a service name or namespace that is not
 *   a DNS-1123 label, or an unknown key type.
 *
 * @example
 * const certificates = makeWebhookCertificates({ serviceName: "pod-identity-webhook", namespace: "irsa-anywhere" });
 * const manifests = webhookManifests({ tls: { mode: "secret", certificates } });
 */
export function makeWebhookCertificates(options: WebhookCertificateOptions): WebhookCertificates {
  const { serviceName, namespace, keyType = "ecdsa-p256", now = new Date() } = options;
  assertDnsLabel(serviceName, "service name");
  assertDnsLabel(namespace, "namespace");
  assertKeyType(keyType);
  const start = startOf(now);
  const ca = newKey(keyType);
  const caName = [{ name: "commonName", value: `irsa-anywhere webhook CA ${namespace}` }];
  const caCertificatePem = sign({
    subject: caName,
    issuer: caName,
    publicKeyPem: ca.publicKeyPem,
    signerKeyPem: ca.privateKeyPem,
    notBefore: start,
    notAfter: addYears(start, CA_VALIDITY_YEARS),
    extensions: [
      { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  return issueServingCertificate({
    ca: { certificatePem: caCertificatePem, keyPem: ca.privateKeyPem },
    serviceName,
    namespace,
    keyType,
    now,
  });
}

/**
 * A CA as {@link issueServingCertificate} takes it: its certificate and private key, as PEM.
 *
 * @example
 * const { caCertificatePem, caKeyPem } = makeWebhookCertificates({ serviceName: "pod-identity-webhook", namespace: "irsa-anywhere" });
 * const ca: WebhookCa = { certificatePem: caCertificatePem, keyPem: caKeyPem };
 */
export interface WebhookCa {
  certificatePem: string;
  keyPem: string;
}

/**
 * Options of {@link issueServingCertificate}: the CA that signs, and the Service it is for.
 *
 * @example
 * const options: ServingCertificateOptions = { ca: { certificatePem: "...", keyPem: "..." }, serviceName: "pod-identity-webhook", namespace: "irsa-anywhere" };
 */
export interface ServingCertificateOptions extends WebhookCertificateOptions {
  ca: WebhookCa;
}

/**
 * A new serving certificate (1 year, the Service's DNS names) and key, signed by an existing CA:
 * what `webhook renew-cert` writes, so that the CA bundle the API server trusts stays as it is.
 * The key type is the CA's unless given. No cluster needed.
 *
 * @throws {WebhookError} `ERR_WEBHOOK_OPTION_INVALID` for a bad name or key type;
 *   `ERR_WEBHOOK_CA_INVALID` when the CA's certificate and key are not a CA's, or not a pair.
 *
 * @example
 * const first = makeWebhookCertificates({ serviceName: "pod-identity-webhook", namespace: "irsa-anywhere" });
 * const next = issueServingCertificate({
 *   ca: { certificatePem: first.caCertificatePem, keyPem: first.caKeyPem },
 *   serviceName: "pod-identity-webhook",
 *   namespace: "irsa-anywhere",
 * });
 */
export function issueServingCertificate(options: ServingCertificateOptions): WebhookCertificates {
  const { serviceName, namespace, now = new Date(), ca } = options;
  assertDnsLabel(serviceName, "service name");
  assertDnsLabel(namespace, "namespace");
  const { certificate: caCertificate, key: caKey } = readCa(ca);
  const keyType = options.keyType ?? (caKey.asymmetricKeyType === "rsa" ? "rsa-2048" : "ecdsa-p256");
  assertKeyType(keyType);
  const start = startOf(now);
  const caCommonName =
    /^CN=(.*)$/m.exec(caCertificate.subject)?.[1] ?? `irsa-anywhere webhook CA ${namespace}`;
  const serving = newKey(keyType);
  const names = serviceDnsNames(serviceName, namespace);
  // Never past the CA's own end: a certificate its issuer outlives no longer verifies.
  const yearOn = addYears(start, SERVING_VALIDITY_YEARS);
  const caEnd = new Date(caCertificate.validTo);
  const notAfter = yearOn < caEnd ? yearOn : caEnd;
  const certificatePem = sign({
    subject: [{ name: "commonName", value: names[2] as string }],
    issuer: [{ name: "commonName", value: caCommonName }],
    publicKeyPem: serving.publicKeyPem,
    signerKeyPem: ca.keyPem,
    notBefore: start,
    notAfter,
    extensions: [
      { name: "basicConstraints", cA: false, critical: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: keyType === "rsa-2048", critical: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: names.map((value) => ({ type: 2, value })) },
    ],
  });
  return {
    caCertificatePem: ca.certificatePem,
    caKeyPem: ca.keyPem,
    certificatePem,
    keyPem: serving.privateKeyPem,
    notAfter,
  };
}

function readCa(ca: WebhookCa): { certificate: X509Certificate; key: KeyObject } {
  let certificate: X509Certificate;
  let key: KeyObject;
  try {
    certificate = new X509Certificate(ca.certificatePem);
    key = createPrivateKey(ca.keyPem);
  } catch (error) {
    throw new WebhookError(
      "ERR_WEBHOOK_CA_INVALID",
      `the webhook's CA is not a PEM certificate and private key (${firstLine(error)}); run webhook install again to make a new CA`,
      { cause: error },
    );
  }
  if (!certificate.ca || !certificate.checkPrivateKey(key)) {
    throw new WebhookError(
      "ERR_WEBHOOK_CA_INVALID",
      "the webhook's CA certificate is not a CA, or its key is not the certificate's; run webhook install again to make a new CA",
    );
  }
  return { certificate, key };
}

function assertKeyType(keyType: string): void {
  if (keyType !== "ecdsa-p256" && keyType !== "rsa-2048") {
    throw new WebhookError(
      "ERR_WEBHOOK_OPTION_INVALID",
      `key type ${quoteInput(keyType)} is not one the webhook's certificates can have; use ecdsa-p256 or rsa-2048`,
    );
  }
}

/** A little before now: clock skew between nodes. */
function startOf(now: Date): Date {
  return new Date(now.getTime() - 5 * 60_000);
}

function newKey(keyType: WebhookKeyType): { publicKeyPem: string; privateKeyPem: string } {
  const pair =
    keyType === "rsa-2048"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    publicKeyPem: pair.publicKey.export({ type: "spki", format: "pem" }).toString(),
    privateKeyPem: pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

function addYears(date: Date, years: number): Date {
  const next = new Date(date.getTime());
  next.setUTCFullYear(next.getUTCFullYear() + years);
  return next;
}

interface CertificateFields {
  subject: forge.pki.CertificateField[];
  issuer: forge.pki.CertificateField[];
  publicKeyPem: string;
  signerKeyPem: string;
  notBefore: Date;
  notAfter: Date;
  extensions: object[];
}

const oids = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  sha256WithRsa: "1.2.840.113549.1.1.11",
};

/**
 * A certificate signed by the signer's key, as PEM. node-forge builds the TBSCertificate with the
 * fields and extensions; Node signs it, which covers ECDSA keys node-forge cannot handle.
 */
function sign(fields: CertificateFields): string {
  const certificate = forge.pki.createCertificate();
  certificate.serialNumber = `01${randomBytes(15).toString("hex")}`;
  certificate.validity.notBefore = fields.notBefore;
  certificate.validity.notAfter = fields.notAfter;
  certificate.setSubject(fields.subject);
  certificate.setIssuer(fields.issuer);
  const signer = createPrivateKey(fields.signerKeyPem);
  const ec = signer.asymmetricKeyType === "ec";
  // forge's publicKey setter takes RSA keys only; an EC key's SPKI goes in as DER below.
  const subjectKey = createPublicKey(fields.publicKeyPem);
  const spkiDer = subjectKey.export({ type: "spki", format: "der" });
  const isEcSubject = subjectKey.asymmetricKeyType === "ec";
  if (!isEcSubject) certificate.publicKey = forge.pki.publicKeyFromPem(fields.publicKeyPem);
  else certificate.publicKey = placeholderRsaKey();
  certificate.setExtensions(fields.extensions);
  certificate.siginfo.algorithmOid = ec ? oids.ecdsaWithSha256 : oids.sha256WithRsa;
  certificate.signatureOid = certificate.siginfo.algorithmOid;
  const tbs = (forge.pki as unknown as ForgeTbs).getTBSCertificate(certificate);
  if (isEcSubject) replaceSubjectPublicKeyInfo(tbs, spkiDer);
  // The signature algorithm, inside the TBSCertificate and out, must match byte for byte; forge
  // gives every algorithm NULL parameters, which ECDSA's must not have (RFC 5758 3.2).
  const algorithm = () =>
    forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.SEQUENCE, true, [
      forge.asn1.create(
        forge.asn1.Class.UNIVERSAL,
        forge.asn1.Type.OID,
        false,
        forge.asn1.oidToDer(certificate.signatureOid as string).getBytes(),
      ),
      ...(ec ? [] : [forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.NULL, false, "")]),
    ]);
  (tbs.value as forge.asn1.Asn1[])[2] = algorithm();
  const tbsDer = Buffer.from(forge.asn1.toDer(tbs).getBytes(), "binary");
  const signature = nodeSign("sha256", tbsDer, signer);
  const whole = forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.SEQUENCE, true, [
    tbs,
    algorithm(),
    forge.asn1.create(
      forge.asn1.Class.UNIVERSAL,
      forge.asn1.Type.BITSTRING,
      false,
      `\u0000${signature.toString("binary")}`,
    ),
  ]);
  const der = Buffer.from(forge.asn1.toDer(whole).getBytes(), "binary").toString("base64");
  return `-----BEGIN CERTIFICATE-----\n${der.match(/.{1,64}/g)?.join("\n")}\n-----END CERTIFICATE-----\n`;
}

/** node-forge's TBSCertificate builder, which its type declarations leave out. */
interface ForgeTbs {
  getTBSCertificate(certificate: forge.pki.Certificate): forge.asn1.Asn1;
}

let placeholder: forge.pki.rsa.PublicKey | undefined;
/** A stand-in RSA public key for forge's TBS builder; its SPKI is swapped for the real EC one. */
function placeholderRsaKey(): forge.pki.rsa.PublicKey {
  placeholder ??= forge.pki.setRsaPublicKey(
    new forge.jsbn.BigInteger("3", 10),
    new forge.jsbn.BigInteger("3", 10),
  );
  return placeholder;
}

/** Swaps the TBSCertificate's subjectPublicKeyInfo (its seventh member) for the given DER. */
function replaceSubjectPublicKeyInfo(tbs: forge.asn1.Asn1, spkiDer: Buffer): void {
  const members = tbs.value as forge.asn1.Asn1[];
  members[6] = forge.asn1.fromDer(spkiDer.toString("binary"));
}
