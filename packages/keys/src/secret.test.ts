import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateTestKey, pem, type TestKeyPair } from "../../../test/support/keys.js";
import { buildJwks, KeysError, publicKeysFromSecretManifest } from "./index.js";

const signing = generateTestKey({ type: "rsa", bits: 2048 });
const previous = generateTestKey({ type: "rsa", bits: 2048 });
const b64 = (text: string) => Buffer.from(text).toString("base64");
const kid = (pair: TestKeyPair) =>
  createHash("sha256")
    .update(pair.publicKey.export({ type: "spki", format: "der" }))
    .digest("base64url");

function secretJson(data: Record<string, string>): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "prod-sa", namespace: "eksa-system" },
    type: "Opaque",
    data,
  });
}

async function codeOf(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
  } catch (error) {
    return error instanceof KeysError ? error.code : `not a KeysError: ${String(error)}`;
  }
  return undefined;
}

describe("publicKeysFromSecretManifest", () => {
  it("reads tls.crt, the PKIX public key EKS Anywhere stores", async () => {
    const keys = await publicKeysFromSecretManifest(
      secretJson({ "tls.crt": b64(pem(signing.publicKey, "spki")) }),
      "prod-sa.json",
    );
    expect(keys.map((k) => k.kid)).toEqual([kid(signing)]);
  });

  it("falls back to the public half of tls.key", async () => {
    const keys = await publicKeysFromSecretManifest(
      secretJson({ "tls.key": b64(pem(signing.privateKey, "pkcs1")) }),
      "prod-sa.json",
    );
    expect(keys.map((k) => k.kid)).toEqual([kid(signing)]);
  });

  it("makes tls.key's key the current one when tls.crt also holds a previous key", async () => {
    const crt = pem(previous.publicKey, "spki") + pem(signing.publicKey, "spki");
    const keys = await publicKeysFromSecretManifest(
      secretJson({ "tls.crt": b64(crt), "tls.key": b64(pem(signing.privateKey, "pkcs1")) }),
      "prod-sa.json",
    );
    const jwks = buildJwks(keys);
    expect(jwks.keys.map((k) => k.kid)).toEqual([kid(signing), kid(previous), ""]);
    expect(jwks.keys[2]).toEqual({ ...jwks.keys[0], kid: "" });
  });

  it("reads JSON that starts with a byte-order mark, as some Windows tools write it", async () => {
    const keys = await publicKeysFromSecretManifest(
      `\uFEFF${secretJson({ "tls.crt": b64(pem(signing.publicKey, "spki")) })}`,
      "prod-sa.json",
    );
    expect(keys.map((k) => k.kid)).toEqual([kid(signing)]);
  });

  it("reads kubectl's -o yaml output", async () => {
    const yaml = [
      "apiVersion: v1",
      "data:",
      `  tls.crt: ${b64(pem(signing.publicKey, "spki"))}`,
      `  tls.key: ${b64(pem(signing.privateKey, "pkcs1"))}`,
      "kind: Secret",
      "metadata:",
      "  name: prod-sa",
      "  namespace: eksa-system",
      "type: Opaque",
      "",
    ].join("\n");
    const keys = await publicKeysFromSecretManifest(yaml, "prod-sa.yaml");
    expect(new Set(keys.map((k) => k.kid))).toEqual(new Set([kid(signing)]));
  });

  it.each([
    ["a secret without the key fields", secretJson({ "ca.crt": b64("x") }), "ERR_SECRET_INVALID"],
    ["a document without data", JSON.stringify({ kind: "Secret" }), "ERR_SECRET_INVALID"],
    ["broken JSON", '{"kind": "Secret", ', "ERR_SECRET_INVALID"],
    ["broken YAML", "data: [unclosed", "ERR_SECRET_INVALID"],
    ["tls.crt that is not base64", secretJson({ "tls.crt": "not base64!" }), "ERR_SECRET_INVALID"],
    ["tls.crt that holds no key", secretJson({ "tls.crt": b64("hello") }), "ERR_KEY_NOT_FOUND"],
  ])("refuses %s", async (_name, text, code) => {
    expect(await codeOf(() => publicKeysFromSecretManifest(text, "prod-sa.json"))).toBe(code);
  });
});
