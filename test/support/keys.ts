// Keys for tests, generated at test time: nothing private is ever committed.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import forge from "node-forge";

export type KeySpec =
  | { type: "rsa"; bits: 2048 | 3072 | 4096 | 1024 }
  | { type: "ec"; curve: "P-256" | "P-384" | "P-521" | "secp256k1" };

export interface TestKeyPair {
  spec: KeySpec;
  privateKey: KeyObject;
  publicKey: KeyObject;
  alg: "RS256" | "ES256" | "ES384" | "ES512";
}

const ecAlgorithms = { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512", secp256k1: "ES256" } as const;

export function generateTestKey(spec: KeySpec): TestKeyPair {
  const pair =
    spec.type === "rsa"
      ? generateKeyPairSync("rsa", { modulusLength: spec.bits })
      : generateKeyPairSync("ec", { namedCurve: spec.curve });
  return { spec, ...pair, alg: spec.type === "rsa" ? "RS256" : ecAlgorithms[spec.curve] };
}

export function pem(key: KeyObject, type: "spki" | "pkcs1" | "pkcs8" | "sec1"): string {
  return key.export({ type, format: "pem" } as never) as string;
}

/** A self-signed X.509 certificate for an RSA key, as node-forge makes it (Node cannot). */
export function selfSignedCertificatePem(pair: TestKeyPair): string {
  const privateKey = forge.pki.privateKeyFromPem(pem(pair.privateKey, "pkcs1"));
  const publicKey = forge.pki.publicKeyFromPem(pem(pair.publicKey, "spki"));
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = publicKey;
  certificate.serialNumber = "01";
  certificate.validity.notBefore = new Date(Date.now() - 60_000);
  certificate.validity.notAfter = new Date(Date.now() + 3_600_000);
  const subject = [{ name: "commonName", value: "service-accounts" }];
  certificate.setSubject(subject);
  certificate.setIssuer(subject);
  certificate.sign(privateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(certificate);
}

/** The key files most CLI tests read, written into dir; returns the pairs behind them. */
export async function writeKeyFiles(dir: string): Promise<{ rsa: TestKeyPair; ec: TestKeyPair }> {
  const rsa = generateTestKey({ type: "rsa", bits: 2048 });
  const ec = generateTestKey({ type: "ec", curve: "P-384" });
  const files: Record<string, string> = {
    "sa.pub": pem(rsa.publicKey, "spki"),
    "sa.key": pem(rsa.privateKey, "pkcs1"),
    "ec.pub": pem(ec.publicKey, "spki"),
    "small.pub": pem(generateTestKey({ type: "rsa", bits: 1024 }).publicKey, "spki"),
    "encrypted.key": rsa.privateKey.export({
      type: "pkcs8",
      format: "pem",
      cipher: "aes-256-cbc",
      passphrase: "p",
    }) as string,
    "secret.json": JSON.stringify({
      kind: "Secret",
      data: { "tls.crt": Buffer.from(pem(rsa.publicKey, "spki")).toString("base64") },
    }),
  };
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return { rsa, ec };
}
