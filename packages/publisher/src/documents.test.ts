import { generateKeyPairSync } from "node:crypto";
import { buildJwks, type PublicSigningKey, serializeJwks, toPublicSigningKey } from "@irsa-anywhere/keys";
import { describe, expect, it } from "vitest";
import { mergeKeys, PublishError } from "./index.js";
import { emptyState } from "./retention.js";

const newKey = (): PublicSigningKey =>
  toPublicSigningKey(generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey, "test key");
const now = new Date("2026-11-23T00:00:00Z");
const merge = (cluster: PublicSigningKey[], published: PublicSigningKey[]) =>
  mergeKeys(cluster, serializeJwks(buildJwks(published, { emptyKidTwin: false })), {
    origin: "keys.json",
    emptyKidTwin: true,
    state: emptyState(),
    now,
    retainMs: 3_600_000,
  });

describe("mergeKeys and the 100-key ceiling of STS", () => {
  const old = Array.from({ length: 99 }, newKey);

  it("warns well before the ceiling, naming the oldest retired keys", () => {
    const result = merge([newKey()], old.slice(0, 80));
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(/82 keys; STS refuses more than 100/);
  });

  it("refuses to write a JWKS past the ceiling, and says which keys could go", () => {
    let caught: unknown;
    try {
      merge([newKey()], old);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PublishError);
    expect((caught as PublishError).code).toBe("ERR_TOO_MANY_KEYS");
    expect((caught as PublishError).message).toContain(old[0]?.kid);
  });

  it("stays quiet far below it", () => {
    expect(merge([newKey()], old.slice(0, 3)).warnings).toEqual([]);
  });
});
