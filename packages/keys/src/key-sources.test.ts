import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateTestKey, pem, type TestKeyPair } from "../../../test/support/keys.js";
import { currentSigningKey, hasKeySource, readKeySources, splitKeySources } from "./index.js";

const signing = generateTestKey({ type: "rsa", bits: 2048 });
const previous = generateTestKey({ type: "ec", curve: "P-256" });
const other = generateTestKey({ type: "rsa", bits: 2048 });
const kid = (pair: TestKeyPair) =>
  createHash("sha256")
    .update(pair.publicKey.export({ type: "spki", format: "der" }))
    .digest("base64url");
const b64 = (text: string) => Buffer.from(text).toString("base64");
const secret = (data: Record<string, string>) =>
  JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "prod-sa" }, data });

let dir: string;
const file = (name: string) => join(dir, name);
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "irsa-key-sources-"));
  await writeFile(file("other.pub"), pem(other.publicKey, "spki"));
  await writeFile(file("sa.key"), pem(signing.privateKey, "pkcs8"));
  await writeFile(
    file("secret.json"),
    secret({ "tls.crt": b64(pem(signing.publicKey, "spki") + pem(previous.publicKey, "spki")) }),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("readKeySources", () => {
  it("reads secret files before PEM files, each in the order given", async () => {
    const { keys, signingKey } = await readKeySources({
      pemFiles: [file("other.pub")],
      secretFiles: [file("secret.json")],
    });
    expect(keys.map((key) => key.kid)).toEqual([kid(signing), kid(previous), kid(other)]);
    expect(signingKey).toBeUndefined();
    expect(currentSigningKey(keys).kid).toBe(kid(signing));
  });

  it("makes the first key read from a private key the current one, and returns that private key", async () => {
    const { keys, signingKey } = await readKeySources({ pemFiles: [file("other.pub"), file("sa.key")] });
    expect(currentSigningKey(keys).kid).toBe(kid(signing));
    expect(signingKey?.kid).toBe(kid(signing));
    expect(signingKey?.alg).toBe("RS256");
    expect(signingKey?.privateKey.type).toBe("private");
  });

  it("reads standard input once, for the public keys and the private key alike", async () => {
    const stdin = Readable.from([Buffer.from(secret({ "tls.key": b64(pem(signing.privateKey, "pkcs1")) }))]);
    const { keys, signingKey } = await readKeySources({ secretFiles: ["-"], stdin });
    expect(keys.map((key) => key.kid)).toEqual([kid(signing)]);
    expect(signingKey?.kid).toBe(kid(signing));
  });
});

describe("splitKeySources", () => {
  it("splits the files from the cluster sources, which serve reads again on each refresh", () => {
    const spec = { pemFiles: ["sa.pub"], secretFiles: ["s.json"], cluster: "prod", clusterJwks: true };
    const { files, cluster } = splitKeySources(spec);
    expect(files).toMatchObject({ pemFiles: ["sa.pub"], secretFiles: ["s.json"], cluster: undefined });
    expect(cluster).toMatchObject({ pemFiles: undefined, secretFiles: undefined, cluster: "prod" });
    expect(hasKeySource(files) && hasKeySource(cluster)).toBe(true);
    expect(hasKeySource({})).toBe(false);
  });
});
