import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  randomBytes,
} from "node:crypto";
import { quoteInput } from "@irsa-anywhere/errors";
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
  if (keyType !== "ecdsa-p256" && keyType !== "rsa-2048") {
    throw new WebhookError(
      "ERR_WEBHOOK_OPTION_INVALID",
      `key type ${quoteInput(keyType)} is not one the webhook's certificates can have; use ecdsa-p256 or rsa-2048`,
    );
  }
  const start = new Date(now.getTime() - 5 * 60_000); // a little clock skew between nodes
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
  const serving = newKey(keyType);
  const names = serviceDnsNames(serviceName, namespace);
  const notAfter = addYears(start, SERVING_VALIDITY_YEARS);
  const certificatePem = sign({
    subject: [{ name: "commonName", value: names[2] as string }],
    issuer: caName,
    publicKeyPem: serving.publicKeyPem,
    signerKeyPem: ca.privateKeyPem,
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
    caCertificatePem,
    caKeyPem: ca.privateKeyPem,
    certificatePem,
    keyPem: serving.privateKeyPem,
    notAfter,
  };
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
