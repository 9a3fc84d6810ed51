import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildJwks, parseJwks, publicKeysFromPem } from "@irsa-anywhere/keys";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generateTestKey, pem } from "../../../test/support/keys.js";
import { directoryTarget, PublishError, publishDocuments } from "./index.js";

const issuer = "https://oidc.example.com/clusters/prod";
const keyA = publicKeysFromPem(pem(generateTestKey({ type: "rsa", bits: 2048 }).publicKey, "spki"), "a.pub");
const keyB = publicKeysFromPem(
  pem(generateTestKey({ type: "ec", curve: "P-256" }).publicKey, "spki"),
  "b.pub",
);
const kidOf = (keys: typeof keyA) => keys[0]?.kid;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "irsa-publish-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const readJson = async (path: string) => JSON.parse(await readFile(join(dir, path), "utf8"));

describe("publish to a directory", () => {
  it("writes both documents at the paths the issuer implies", async () => {
    const result = await publishDocuments({ issuer, keys: keyA, target: directoryTarget(dir) });
    expect(result.documents.map((d) => [d.name, d.action, d.written])).toEqual([
      ["keys.json", "create", true],
      ["openid-configuration", "create", true],
    ]);
    const discovery = await readJson("clusters/prod/.well-known/openid-configuration");
    expect(discovery.issuer).toBe(issuer);
    expect(discovery.jwks_uri).toBe(`${issuer}/keys.json`);
    const jwks = await readJson("clusters/prod/keys.json");
    expect(jwks).toEqual(buildJwks(keyA));
  });

  it("changes nothing when run again with the same key", async () => {
    await publishDocuments({ issuer, keys: keyA, target: directoryTarget(dir) });
    const before = await readFile(join(dir, "clusters/prod/keys.json"), "utf8");
    const again = await publishDocuments({ issuer, keys: keyA, target: directoryTarget(dir) });
    expect(again.changed).toBe(false);
    expect(again.documents.every((d) => d.action === "unchanged" && !d.written)).toBe(true);
    expect(await readFile(join(dir, "clusters/prod/keys.json"), "utf8")).toBe(before);
  });

  it("keeps the previous key when the cluster's key changes, twin on the new key", async () => {
    await publishDocuments({ issuer, keys: keyA, target: directoryTarget(dir) });
    const result = await publishDocuments({ issuer, keys: keyB, target: directoryTarget(dir) });
    expect(result.keys).toMatchObject({
      current: kidOf(keyB),
      added: [kidOf(keyB)],
      retained: [kidOf(keyA)],
    });
    const jwks = await readJson("clusters/prod/keys.json");
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([kidOf(keyB), kidOf(keyA), ""]);
    expect(jwks.keys[2].x).toBe(jwks.keys[0].x);
    const discovery = await readJson("clusters/prod/.well-known/openid-configuration");
    expect(discovery.id_token_signing_alg_values_supported).toEqual(["ES256", "RS256"]);
  });

  it("writes nothing on a dry run, and says what it would do", async () => {
    const result = await publishDocuments({ issuer, keys: keyA, target: directoryTarget(dir), dryRun: true });
    expect(result.documents.map((d) => [d.action, d.written])).toEqual([
      ["create", false],
      ["create", false],
    ]);
    await expect(readFile(join(dir, "clusters/prod/keys.json"))).rejects.toThrow(/ENOENT/);
  });

  // The kernel answers ENOENT for a new directory under /proc although /proc exists; Node 20's
  // recursive mkdir retries that for ever.
  it.runIf(existsSync("/proc/self"))(
    "fails, rather than hangs, where no directory can be made",
    async () => {
      const failure = publishDocuments({
        issuer,
        keys: keyA,
        target: directoryTarget("/proc/irsa-anywhere-test"),
      });
      await expect(failure).rejects.toMatchObject({ code: "ERR_TARGET_UNWRITABLE" });
      await expect(failure).rejects.toThrow(/cannot create \/proc\/irsa-anywhere-test/);
    },
    5_000,
  );

  it("makes the missing directories of a deep issuer path", async () => {
    const deep = "https://oidc.example.com/a/b/c";
    await publishDocuments({ issuer: deep, keys: keyA, target: directoryTarget(join(dir, "x", "y")) });
    expect((await readJson("x/y/a/b/c/keys.json")).keys).toHaveLength(2);
  });

  it("refuses to overwrite a keys.json it cannot read when no state holds its keys", async () => {
    await mkdir(join(dir, "clusters/prod"), { recursive: true });
    await writeFile(join(dir, "clusters/prod/keys.json"), "<html>not json</html>");
    const failure = publishDocuments({ issuer, keys: keyB, target: directoryTarget(dir) });
    await expect(failure).rejects.toBeInstanceOf(PublishError);
    await expect(failure).rejects.toMatchObject({ code: "ERR_PUBLISHED_DOCUMENT_INVALID" });
    expect(await readFile(join(dir, "clusters/prod/keys.json"), "utf8")).toBe("<html>not json</html>");
  });

  it("rebuilds a damaged keys.json from the state, which holds every published key", async () => {
    await publishDocuments({ issuer, keys: keyA, target: directoryTarget(dir) });
    await publishDocuments({ issuer, keys: keyB, target: directoryTarget(dir) });
    const whole = await readFile(join(dir, "clusters/prod/keys.json"), "utf8");
    await writeFile(join(dir, "clusters/prod/keys.json"), "<html>not json</html>");
    const healed = await publishDocuments({ issuer, keys: keyB, target: directoryTarget(dir) });
    expect(healed.documents[0]).toMatchObject({ action: "update", written: true });
    expect(await readFile(join(dir, "clusters/prod/keys.json"), "utf8")).toBe(whole);
  });

  it("refuses at once a named pipe where keys.json belongs, instead of waiting for a writer", async () => {
    await mkdir(join(dir, "clusters/prod"), { recursive: true });
    execFileSync("mkfifo", [join(dir, "clusters/prod/keys.json")]);
    await expect(
      publishDocuments({ issuer, keys: keyA, target: directoryTarget(dir) }),
    ).rejects.toMatchObject({
      code: "ERR_TARGET_UNREADABLE",
      message: expect.stringMatching(/keys\.json: it is a named pipe/),
    });
  });

  it("loses no key when many publishers with different keys run at once", async () => {
    const keys = Array.from({ length: 6 }, () =>
      publicKeysFromPem(pem(generateTestKey({ type: "ec", curve: "P-256" }).publicKey, "spki"), "k.pub"),
    );
    await Promise.all(keys.map((k) => publishDocuments({ issuer, keys: k, target: directoryTarget(dir) })));
    const published = parseJwks(await readFile(join(dir, "clusters/prod/keys.json"), "utf8"), "keys.json");
    expect(new Set(published.keys.map((k) => k.kid))).toEqual(new Set(keys.map(kidOf)));
    expect(published.emptyKidKeys).toHaveLength(1);
  });
});
