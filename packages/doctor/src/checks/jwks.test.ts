import { generateKeyPairSync } from "node:crypto";
import { buildJwks, type PublicSigningKey, serializeJwks, toPublicSigningKey } from "@irsa-anywhere/keys";
import { describe, expect, it } from "vitest";
import type { CheckCode } from "../check.js";
import { judgeEmptyKid, judgeJwks } from "./jwks.js";

const rsaKey = () => {
  const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { pair, key: toPublicSigningKey(pair.publicKey, "test") };
};
const ecKey = () => toPublicSigningKey(generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey, "test");

const current = rsaKey();
const older = rsaKey();
const keys: PublicSigningKey[] = [current.key, older.key];
const good = buildJwks(keys);
const jwksText = (mutate: (jwks: { keys: Record<string, unknown>[] }) => void = () => {}) => {
  const copy = JSON.parse(serializeJwks(good)) as { keys: Record<string, unknown>[] };
  mutate(copy);
  return JSON.stringify(copy);
};

describe("judgeJwks", () => {
  it("passes what the publisher writes, naming the keys", () => {
    const { outcome, published } = judgeJwks(serializeJwks(good));
    expect(outcome.status).toBe("pass");
    expect(outcome.reason).toMatch(
      /^2 keys \(RS256\), each under the kid kube-apiserver computes, and an empty-kid twin$/,
    );
    expect([...(published?.named.keys() ?? [])]).toEqual([current.key.kid, older.key.kid]);
    expect(published?.emptyKid).toHaveLength(1);
  });

  it("passes EC keys too", () => {
    expect(judgeJwks(serializeJwks(buildJwks([ecKey()]))).outcome.status).toBe("pass");
  });

  // Every other failure is ERR_JWKS_KEY_INVALID.
  const codeOf: Record<string, CheckCode> = {
    "not JSON": "ERR_JWKS_NOT_JSON",
    "no keys member": "ERR_JWKS_NOT_A_SET",
    "no key": "ERR_JWKS_EMPTY",
    "a private member": "ERR_JWKS_PRIVATE_KEY",
    "a symmetric key": "ERR_JWKS_PRIVATE_KEY",
  };
  const failures: Array<[string, string, RegExp]> = [
    ["not JSON", "<html>", /not JSON/],
    ["no keys member", "{}", /not \{"keys"/],
    ["no key", '{"keys": []}', /holds no key/],
    [
      "a private member",
      jwksText((j) => {
        Object.assign(j.keys[0] as object, {
          d: current.pair.privateKey.export({ format: "jwk" }).d,
        });
      }),
      /publishes private key material: key "[^"]+" carries private members \(d\)/,
    ],
    [
      "a kid that is not the key's",
      jwksText((j) => {
        (j.keys[0] as Record<string, unknown>).kid = "my-key-1";
      }),
      /key "my-key-1" does not match its key: kube-apiserver names that key/,
    ],
    [
      "an algorithm STS refuses",
      jwksText((j) => {
        (j.keys[0] as Record<string, unknown>).alg = "PS256";
      }),
      /alg "PS256"; STS accepts RS256, RS384, RS512, ES256, ES384, ES512/,
    ],
    [
      "an algorithm that does not fit the key",
      jwksText((j) => {
        (j.keys[0] as Record<string, unknown>).alg = "ES256";
      }),
      /alg ES256, which does not fit its RSA key/,
    ],
    [
      "an encryption key",
      jwksText((j) => {
        (j.keys[0] as Record<string, unknown>).use = "enc";
      }),
      /use "enc"/,
    ],
    [
      "a key too small for STS",
      JSON.stringify({
        keys: [
          {
            ...generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ format: "jwk" }),
            kid: "",
          },
        ],
      }),
      /1024 bits/,
    ],
    [
      "a symmetric key",
      JSON.stringify({ keys: [{ kty: "oct", k: "c2VjcmV0", kid: "x" }] }),
      /private key material/,
    ],
  ];
  it.each(failures)("fails on %s, saying which key and why", (name, text, reason) => {
    const { outcome } = judgeJwks(text);
    expect(outcome).toMatchObject({
      status: "fail",
      code: codeOf[name] ?? "ERR_JWKS_KEY_INVALID",
    });
    // Which key and why is the point of the message.
    expect(outcome.reason).toMatch(reason);
    expect(outcome.sts).toMatch(/Couldn't retrieve verification key/);
    expect(outcome.reason).not.toMatch(/"d":/);
  });

  it("tells a leaked private key apart: rotate, not just republish", () => {
    const { outcome } = judgeJwks(
      jwksText((j) => {
        Object.assign(j.keys[1] as object, { p: "x", q: "y" });
      }),
    );
    expect(outcome.code).toBe("ERR_JWKS_PRIVATE_KEY");
    expect(outcome.fix).toMatch(/rotate the cluster's signing key now/);
  });

  it("warns when a key names no alg", () => {
    const { outcome } = judgeJwks(
      jwksText((j) => {
        delete (j.keys[0] as Record<string, unknown>).alg;
      }),
    );
    expect(outcome).toMatchObject({ status: "warn", code: "WARN_JWKS_NO_ALG" });
  });
});

describe("judgeEmptyKid", () => {
  const published = (jwks: object) => {
    const judged = judgeJwks(JSON.stringify(jwks));
    if (!judged.published) throw new Error("test JWKS does not parse");
    return judged.published;
  };

  it("passes the twin of the current key", () => {
    const outcome = judgeEmptyKid(published(good), current.key.kid);
    expect(outcome).toMatchObject({
      status: "pass",
      reason: `the empty-kid twin is the current key ${current.key.kid}`,
    });
  });

  it("warns when there is no twin, saying which tokens it is for", () => {
    const outcome = judgeEmptyKid(published(buildJwks(keys, { emptyKidTwin: false })), current.key.kid);
    expect(outcome).toMatchObject({ status: "warn", code: "WARN_EMPTY_KID_MISSING" });
    expect(outcome.reason).toMatch(/Kubernetes 1\.16/);
  });

  it("warns when the twin is an older key", () => {
    const outcome = judgeEmptyKid(published(buildJwks(keys, { currentKid: older.key.kid })), current.key.kid);
    expect(outcome).toMatchObject({ status: "warn", code: "WARN_EMPTY_KID_NOT_CURRENT" });
  });

  it("without a key source, passes a twin of any published key", () => {
    expect(judgeEmptyKid(published(buildJwks(keys, { currentKid: older.key.kid })), undefined).status).toBe(
      "pass",
    );
  });
});
