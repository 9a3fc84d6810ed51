import { describe, expect, it } from "vitest";
import { generateTestKey, pem } from "../../../test/support/keys.js";
import {
  buildJwks,
  jwkFromPublicKey,
  KeysError,
  PRIVATE_JWK_MEMBERS,
  parseJwks,
  publicKeysFromPem,
  serializeJwks,
} from "./index.js";

const rsa = generateTestKey({ type: "rsa", bits: 2048 });
const ec = generateTestKey({ type: "ec", curve: "P-256" });
const [rsaKey] = publicKeysFromPem(pem(rsa.publicKey, "spki"), "rsa.pub");
const [ecKey] = publicKeysFromPem(pem(ec.publicKey, "spki"), "ec.pub");

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof KeysError ? error.code : `not a KeysError: ${String(error)}`;
  }
  return undefined;
}

describe("parseJwks", () => {
  it("reads back what buildJwks wrote, keeping claimed kids and setting the twin apart", () => {
    if (!rsaKey || !ecKey) throw new Error("fixture");
    const text = serializeJwks(buildJwks([rsaKey, ecKey]));
    const parsed = parseJwks(text, "keys.json");
    expect(parsed.keys.map((k) => k.kid)).toEqual([rsaKey.kid, ecKey.kid]);
    expect(parsed.emptyKidKeys.map((k) => k.publicKey.equals(rsaKey.publicKey))).toEqual([true]);
  });

  it.each(PRIVATE_JWK_MEMBERS)("refuses a key carrying the private member %s", (member) => {
    if (!rsaKey) throw new Error("fixture");
    const jwk = { ...jwkFromPublicKey(rsaKey), [member]: "AAAA" };
    expect(codeOf(() => parseJwks(JSON.stringify({ keys: [jwk] }), "keys.json"))).toBe(
      "ERR_JWK_PRIVATE_MEMBER",
    );
  });

  it("refuses two different keys that claim one kid", () => {
    if (!rsaKey || !ecKey) throw new Error("fixture");
    const keys = [jwkFromPublicKey(rsaKey), jwkFromPublicKey(ecKey, rsaKey.kid)];
    expect(codeOf(() => parseJwks(JSON.stringify({ keys }), "keys.json"))).toBe("ERR_KID_CONFLICT");
  });

  it.each([
    ["not JSON", "{keys:", "ERR_JWKS_INVALID"],
    ["no keys array", '{"keys": {}}', "ERR_JWKS_INVALID"],
    ["a key that is not an object", '{"keys": [1]}', "ERR_JWKS_INVALID"],
    ["an oct key", '{"keys": [{"kty": "oct", "kid": "a"}]}', "ERR_KEY_UNSUPPORTED"],
    [
      "a 512-bit RSA key",
      '{"keys": [{"kty": "RSA", "kid": "a", "n": "!!", "e": "AQAB"}]}',
      "ERR_KEY_TOO_SMALL",
    ],
    [
      "an RSA key without an exponent",
      '{"keys": [{"kty": "RSA", "kid": "a", "n": "AQAB"}]}',
      "ERR_JWKS_INVALID",
    ],
  ])("refuses %s", (_name, text, code) => {
    expect(codeOf(() => parseJwks(text, "keys.json"))).toBe(code);
  });
});

describe("buildJwks", () => {
  it("lists a key given twice once", () => {
    if (!rsaKey) throw new Error("fixture");
    const again = publicKeysFromPem(pem(rsa.privateKey, "pkcs1"), "sa.key");
    expect(buildJwks([rsaKey, ...again], { emptyKidTwin: false }).keys).toHaveLength(1);
  });

  it("refuses to serialise a JWKS that somehow holds a private member", () => {
    if (!rsaKey) throw new Error("fixture");
    const jwks = buildJwks([rsaKey]);
    const leaked = { keys: [{ ...jwks.keys[0], d: "secret" }] } as unknown as typeof jwks;
    expect(codeOf(() => serializeJwks(leaked))).toBe("ERR_JWK_PRIVATE_MEMBER");
  });

  it("refuses an empty key list", () => {
    expect(codeOf(() => buildJwks([]))).toBe("ERR_KEY_NOT_FOUND");
  });
});
