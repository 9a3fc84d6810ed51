import { spawnSync } from "node:child_process";
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, jwtVerify, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import {
  generateTestKey,
  type KeySpec,
  pem,
  selfSignedCertificatePem,
  type TestKeyPair,
} from "../../../test/support/keys.js";
import { buildJwks, KeysError, publicKeysFromPem } from "./index.js";

const specs: KeySpec[] = [
  { type: "rsa", bits: 2048 },
  { type: "rsa", bits: 3072 },
  { type: "rsa", bits: 4096 },
  { type: "ec", curve: "P-256" },
  { type: "ec", curve: "P-384" },
  { type: "ec", curve: "P-521" },
];
const label = (spec: KeySpec) => (spec.type === "rsa" ? `RSA ${spec.bits}` : `EC ${spec.curve}`);

/** Every PEM form a cluster hands out, for one key pair. */
function inputForms(pair: TestKeyPair): Array<[string, string]> {
  const forms: Array<[string, string]> = [
    ["PKIX PUBLIC KEY", pem(pair.publicKey, "spki")],
    ["PKCS#8 PRIVATE KEY", pem(pair.privateKey, "pkcs8")],
  ];
  if (pair.spec.type === "rsa") {
    forms.push(["PKCS#1 RSA PUBLIC KEY", pem(pair.publicKey, "pkcs1")]);
    forms.push(["PKCS#1 RSA PRIVATE KEY", pem(pair.privateKey, "pkcs1")]);
    if (pair.spec.bits === 2048) forms.push(["X.509 CERTIFICATE", selfSignedCertificatePem(pair)]);
  } else {
    forms.push(["SEC 1 EC PRIVATE KEY", pem(pair.privateKey, "sec1")]);
    const parameters = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
    forms.push(["EC PARAMETERS then EC PRIVATE KEY", parameters + pem(pair.privateKey, "sec1")]);
    // openssl ec -pubout -conv_form compressed: kube-apiserver re-encodes it before hashing.
    forms.push(["compressed EC point", compressedSpkiPem(pair)]);
  }
  const spki = pem(pair.publicKey, "spki");
  forms.push(["CRLF line endings", spki.replace(/\n/g, "\r\n")]);
  forms.push(["text around the block", `Public key of the cluster:\n\n${spki}\n# copied from the node\n`]);
  return forms;
}

/** The public key as a SubjectPublicKeyInfo with its point compressed (SEC 1, 2.3.3), built by hand. */
function compressedSpkiPem(pair: TestKeyPair): string {
  const der = pair.publicKey.export({ type: "spki", format: "der" });
  const tlv = (tag: number, body: Buffer) => {
    const length = body.length < 0x80 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
    return Buffer.concat([Buffer.from([tag]), length, body]);
  };
  // Outer SEQUENCE header, then the AlgorithmIdentifier SEQUENCE (short length in every case here).
  const outerHeader = der[1] === 0x81 ? 3 : 2;
  const algorithm = der.subarray(outerHeader, outerHeader + 2 + (der[outerHeader + 1] ?? 0));
  const jwk = pair.publicKey.export({ format: "jwk" });
  const x = Buffer.from(jwk.x ?? "", "base64url");
  const y = Buffer.from(jwk.y ?? "", "base64url");
  const point = Buffer.concat([Buffer.from([0x02 + ((y.at(-1) ?? 0) & 1)]), x]);
  const spki = tlv(0x30, Buffer.concat([algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), point]))]));
  const body = spki.toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----\n`;
}

/** kid computed independently, the way kube-apiserver does: base64url(SHA-256(PKIX DER)). */
function expectedKid(pair: TestKeyPair): string {
  const der = pair.publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("base64url");
}

async function token(pair: TestKeyPair, header: { kid?: string }) {
  return new SignJWT({ sub: "system:serviceaccount:default:app" })
    .setProtectedHeader({ alg: pair.alg, ...header })
    .setIssuer("https://oidc.example.com")
    .setAudience("sts.amazonaws.com")
    .setExpirationTime("5m")
    .sign(pair.privateKey);
}

const pairs = specs.map(generateTestKey);
const formCases = pairs.flatMap((pair) =>
  inputForms(pair).map(([form, text]) => [`${label(pair.spec)} as ${form}`, pair, text] as const),
);

describe("publicKeysFromPem", () => {
  it.each(formCases)("reads %s, and the JWKS verifies its tokens", async (_name, pair, text) => {
    const keys = publicKeysFromPem(text, "input.pem");
    expect(keys).toHaveLength(1);
    expect(keys[0]?.kid).toBe(expectedKid(pair));
    expect(keys[0]?.alg).toBe(pair.alg);

    const jwks = buildJwks(keys);
    expect(jwks.keys.map((k) => k.kid)).toEqual([expectedKid(pair), ""]);
    // With a kid header the key is picked by kid; a token without one (Kubernetes < 1.16)
    // can only be matched, as STS matches it, to the key published with an empty kid.
    const byKid = createLocalJWKSet(jwks);
    const emptyKidOnly = createLocalJWKSet({ keys: jwks.keys.filter((k) => k.kid === "") });
    for (const [header, keySet] of [
      [{ kid: expectedKid(pair) }, byKid],
      [{}, emptyKidOnly],
    ] as const) {
      const { payload } = await jwtVerify(await token(pair, header), keySet, {
        issuer: "https://oidc.example.com",
      });
      expect(payload.sub).toBe("system:serviceaccount:default:app");
    }
  });

  it.each(pairs.map((pair) => [label(pair.spec), pair] as const))(
    "gives %s keys kube-apiserver's members, in its order, and nothing private",
    (_name, pair) => {
      const [jwk] = buildJwks(publicKeysFromPem(pem(pair.privateKey, "pkcs8"), "k")).keys;
      const expectedMembers =
        pair.spec.type === "rsa"
          ? ["use", "kty", "kid", "alg", "n", "e"]
          : ["use", "kty", "kid", "crv", "alg", "x", "y"];
      expect(Object.keys(jwk ?? {})).toEqual(expectedMembers);
      expect(jwk?.use).toBe("sig");
    },
  );
});

// node-forge makes RSA certificates only; OpenSSL, where the machine has it, makes EC ones.
const openssl = spawnSync("openssl", ["version"]).status === 0;

describe.runIf(openssl)("publicKeysFromPem with EC certificates (made by openssl)", () => {
  it.each([
    ["P-256", "prime256v1"],
    ["P-384", "secp384r1"],
    ["P-521", "secp521r1"],
  ] as const)("reads the %s key of a certificate, under the key's own kid", (_curve, name) => {
    const dir = mkdtempSync(join(tmpdir(), "irsa-ec-cert-"));
    try {
      const run = (args: string[]) => {
        const result = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
        if (result.status !== 0) throw new Error(result.stderr);
      };
      run(["ecparam", "-name", name, "-genkey", "-noout", "-out", "sa.key"]);
      run([
        "req",
        "-x509",
        "-new",
        "-key",
        "sa.key",
        "-subj",
        "/CN=service-accounts",
        "-days",
        "1",
        "-out",
        "sa.crt",
      ]);
      const privateKey = createPrivateKey(readFileSync(join(dir, "sa.key")));
      const [fromCertificate] = publicKeysFromPem(readFileSync(join(dir, "sa.crt"), "utf8"), "sa.crt");
      const der = createPublicKey(privateKey).export({ type: "spki", format: "der" });
      expect(fromCertificate?.kid).toBe(createHash("sha256").update(der).digest("base64url"));
      expect(fromCertificate?.fromPrivateKey).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("publicKeysFromPem reads a block by its content, not its label", () => {
  const pair = generateTestKey({ type: "rsa", bits: 2048 });
  it.each([
    ["a PKCS#1 private key labelled PUBLIC KEY", pem(pair.privateKey, "pkcs1"), true],
    ["a PKCS#8 private key labelled CERTIFICATE", pem(pair.privateKey, "pkcs8"), true],
    ["a PKIX public key labelled RSA PRIVATE KEY", pem(pair.publicKey, "spki"), false],
  ] as const)("%s", (_name, text, fromPrivateKey) => {
    const relabelled = text.replace(
      /-----(BEGIN|END) [A-Z ]+-----/g,
      (_, edge) => `-----${edge} ${_name.split("labelled ")[1]}-----`,
    );
    const [key] = publicKeysFromPem(relabelled, "k.pem");
    expect(key?.kid).toBe(expectedKid(pair));
    expect(key?.fromPrivateKey).toBe(fromPrivateKey);
  });
});

describe("publicKeysFromPem with several blocks", () => {
  it("reads every key of a bundle in order, skipping EC PARAMETERS", () => {
    const a = generateTestKey({ type: "rsa", bits: 2048 });
    const b = generateTestKey({ type: "ec", curve: "P-256" });
    const bundle = `${pem(a.publicKey, "spki")}\n-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${pem(b.publicKey, "spki")}`;
    expect(publicKeysFromPem(bundle, "bundle.pem").map((k) => k.kid)).toEqual([
      expectedKid(a),
      expectedKid(b),
    ]);
  });

  it("treats a key derived from a private key as the current one", () => {
    const old = generateTestKey({ type: "rsa", bits: 2048 });
    const current = generateTestKey({ type: "rsa", bits: 2048 });
    const keys = publicKeysFromPem(
      pem(old.publicKey, "spki") + pem(current.privateKey, "pkcs1"),
      "mixed.pem",
    );
    const jwks = buildJwks(keys);
    const twin = jwks.keys.at(-1);
    expect(twin).toEqual({ ...jwks.keys.find((k) => k.kid === expectedKid(current)), kid: "" });
  });

  it("leaves out the empty-kid twin when asked", () => {
    const pair = generateTestKey({ type: "ec", curve: "P-256" });
    const jwks = buildJwks(publicKeysFromPem(pem(pair.publicKey, "spki"), "k"), { emptyKidTwin: false });
    expect(jwks.keys.map((k) => k.kid)).toEqual([expectedKid(pair)]);
  });

  it("gives the same bytes for the same input", () => {
    const pair = generateTestKey({ type: "rsa", bits: 2048 });
    const once = JSON.stringify(buildJwks(publicKeysFromPem(pem(pair.publicKey, "spki"), "a")));
    const again = JSON.stringify(buildJwks(publicKeysFromPem(pem(pair.privateKey, "pkcs1"), "b")));
    expect(again).toBe(once);
  });
});

describe("refused input", () => {
  const spki = (key: ReturnType<typeof generateKeyPairSync>["publicKey"]) => pem(key, "spki");
  const rsa2048 = generateTestKey({ type: "rsa", bits: 2048 });
  const cases: Array<[string, () => string, string]> = [
    ["RSA 1024", () => spki(generateTestKey({ type: "rsa", bits: 1024 }).publicKey), "ERR_KEY_TOO_SMALL"],
    [
      "secp256k1",
      () => spki(generateTestKey({ type: "ec", curve: "secp256k1" }).publicKey),
      "ERR_KEY_UNSUPPORTED",
    ],
    ["Ed25519", () => spki(generateKeyPairSync("ed25519").publicKey), "ERR_KEY_UNSUPPORTED"],
    ["X25519", () => spki(generateKeyPairSync("x25519").publicKey), "ERR_KEY_UNSUPPORTED"],
    [
      "DSA",
      () => spki(generateKeyPairSync("dsa", { modulusLength: 2048, divisorLength: 256 }).publicKey),
      "ERR_KEY_UNSUPPORTED",
    ],
    [
      "RSA-PSS",
      () => spki(generateKeyPairSync("rsa-pss", { modulusLength: 2048 }).publicKey),
      "ERR_KEY_UNSUPPORTED",
    ],
    [
      "encrypted PKCS#8",
      () =>
        rsa2048.privateKey.export({
          type: "pkcs8",
          format: "pem",
          cipher: "aes-256-cbc",
          passphrase: "pw",
        }) as string,
      "ERR_KEY_ENCRYPTED",
    ],
    [
      "encrypted PKCS#8 under a plain PRIVATE KEY label",
      () =>
        (
          rsa2048.privateKey.export({
            type: "pkcs8",
            format: "pem",
            cipher: "aes-256-cbc",
            passphrase: "pw",
          }) as string
        ).replace(/ENCRYPTED PRIVATE KEY/g, "PRIVATE KEY"),
      "ERR_KEY_ENCRYPTED",
    ],
    [
      "encrypted traditional RSA key",
      () =>
        rsa2048.privateKey.export({
          type: "pkcs1",
          format: "pem",
          cipher: "aes-256-cbc",
          passphrase: "pw",
        }) as string,
      "ERR_KEY_ENCRYPTED",
    ],
    ["no PEM at all", () => "just some text\n", "ERR_KEY_NOT_FOUND"],
    ["empty input", () => "", "ERR_KEY_NOT_FOUND"],
    [
      "only EC PARAMETERS",
      () => "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n",
      "ERR_KEY_NOT_FOUND",
    ],
    [
      "a key with bytes after it",
      () => {
        const der = Buffer.concat([
          rsa2048.publicKey.export({ type: "spki", format: "der" }),
          Buffer.from("GARBAGE!"),
        ]);
        return `-----BEGIN PUBLIC KEY-----\n${der.toString("base64")}\n-----END PUBLIC KEY-----\n`;
      },
      "ERR_KEY_MALFORMED",
    ],
    [
      "malformed base64",
      () => "-----BEGIN PUBLIC KEY-----\nMIIB$$$not*base64\n-----END PUBLIC KEY-----\n",
      "ERR_KEY_MALFORMED",
    ],
    [
      "malformed DER",
      () => "-----BEGIN PUBLIC KEY-----\nMAMCAQA=\n-----END PUBLIC KEY-----\n",
      "ERR_KEY_MALFORMED",
    ],
    [
      "truncated block",
      () => spki(rsa2048.publicKey).split("\n").slice(0, 4).join("\n"),
      "ERR_KEY_MALFORMED",
    ],
  ];

  it.each(cases)("refuses %s with %s", (_name, make, code) => {
    const text = make();
    let caught: unknown;
    try {
      publicKeysFromPem(text, "input.pem");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(KeysError);
    const error = caught as KeysError;
    expect(error.code).toBe(code);
    expect(error.isInputError).toBe(true);
    expect(error.message).not.toContain("\n");
    expect(error.message).toContain("input.pem");
    expect(error.message).not.toMatch(/MII[A-Za-z0-9+/]{8}/); // no key material
  });
});
