import { generateKeyPairSync } from "node:crypto";
import { buildJwks, type PublicSigningKey, serializeJwks, toPublicSigningKey } from "@irsa-anywhere/keys";
import { describe, expect, it } from "vitest";
import { decideState, type StateInput } from "./decide-state.js";
import { PublishError } from "./errors.js";
import { loadState, type PublisherState } from "./state.js";

const newKey = (): PublicSigningKey =>
  toPublicSigningKey(generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey, "test key");
const t0 = new Date("2026-11-23T00:00:00Z");
const at = (hours: number) => new Date(t0.getTime() + hours * 3_600_000);
const retainMs = 25 * 3_600_000;
const empty = (): PublisherState => loadState(undefined, "state", undefined, "keys.json");
const A = newKey();
const B = newKey();
const C = newKey();
const signing = (key: PublicSigningKey): PublicSigningKey => ({ ...key, fromPrivateKey: true });

function run(
  state: PublisherState,
  cluster: PublicSigningKey[],
  hours: number,
  extra: Partial<StateInput> = {},
) {
  return decideState(state, { cluster, emptyKidTwin: true, now: at(hours), retainMs, ...extra });
}

describe("decideState: retention", () => {
  it("keeps a key that left the cluster until the retention has passed since it left", () => {
    const first = run(empty(), [A], 0);
    const switched = run(first.state, [B], 10); // A leaves at hour 10
    expect(switched.published).toEqual([B.kid, A.kid]);
    expect(switched.state.keys[A.kid]?.retiredAt).toBe(at(10).toISOString());
    expect(run(switched.state, [B], 34.9).published).toEqual([B.kid, A.kid]);
    const later = run(switched.state, [B], 35);
    expect(later.pruned).toEqual([A.kid]);
    expect(later.published).toEqual([B.kid]);
    expect(later.state.keys[A.kid]).toBeUndefined();
  });

  it("keeps what the state records for the next run through every decision", () => {
    const servedAt = {
      issuer: "https://d111111abcdef8.cloudfront.net/prod",
      cloudFront: {
        id: "E2EXAMPLE",
        arn: "arn:aws:cloudfront::111122223333:distribution/E2EXAMPLE",
        domainName: "d111111abcdef8.cloudfront.net",
      },
    };
    const oidcProviderArn = "arn:aws:iam::111122223333:oidc-provider/d111111abcdef8.cloudfront.net/prod";
    const recorded = { ...run(empty(), [A], 0).state, servedAt, oidcProviderArn };
    for (const next of [run(recorded, [A], 1), run(recorded, [B], 10), run(recorded, [B], 100)]) {
      expect(next.state).toMatchObject({ servedAt, oidcProviderArn });
    }
  });

  it("never prunes the only key", () => {
    const gone = run(run(empty(), [A], 0).state, [B], 1);
    expect(run(gone.state, [B], 1000).published).toEqual([B.kid]);
  });

  it("refreshes lastSeenInCluster only every few hours, so that a quiet republish writes nothing", () => {
    const first = run(empty(), [A], 0);
    expect(run(first.state, [A], 1).state).toEqual(first.state);
    expect(run(first.state, [A], 7).state.keys[A.kid]?.lastSeenInCluster).toBe(at(7).toISOString());
  });

  it("adopts every key of a keys.json published without a state, and starts its retention now", () => {
    const adopted = loadState(undefined, "state", serializeJwks(buildJwks([C, A])), "keys.json");
    const decided = run(adopted, [A], 100);
    expect(decided.published).toEqual([A.kid, C.kid]);
    expect(decided.state.keys[C.kid]?.retiredAt).toBe(at(100).toISOString());
  });
});

describe("decideState: rotation", () => {
  const prepared = () =>
    run(run(empty(), [A], 0).state, [A], 1, { step: { phase: "prepare", nextKeys: [B] } });

  it("never retires a key published ahead, whatever the clock, and publishes it after the cluster's", () => {
    const later = run(prepared().state, [A], 500);
    expect(later.published).toEqual([A.kid, B.kid]);
    expect(later.pending).toEqual([B.kid]);
    expect(later.state.keys[B.kid]?.retiredAt).toBeUndefined();
  });

  it("refuses a different next key while a rotation is open, on the state it decides from", () => {
    expect(() => run(prepared().state, [A], 2, { step: { phase: "prepare", nextKeys: [C] } })).toThrow(
      expect.objectContaining({ code: "ERR_ROTATION_PRECONDITION", message: expect.stringContaining(B.kid) }),
    );
    // The same key again is a re-run: accepted, the rotation's time kept.
    const again = run(prepared().state, [A], 2, { step: { phase: "prepare", nextKeys: [B] } });
    expect(again.state.rotation?.preparedAt).toBe(at(1).toISOString());
  });

  it("confirms only a key that was published, and only the one prepared", () => {
    const state = prepared().state;
    const refused = (cluster: PublicSigningKey[]) => () =>
      run(state, cluster, 2, { step: { phase: "confirm" } });
    expect(refused([signing(A), B])).toThrow(/still signs with/);
    expect(refused([signing(C), A])).toThrow(/never published/);
    expect(refused([A, B])).toThrow(PublishError);
    const confirmed = run(state, [signing(B), A], 2, { step: { phase: "confirm" } });
    expect(confirmed.rotationChange?.confirmed?.to).toEqual([B.kid]);
    expect(confirmed.state.rotation?.confirmedAt).toBe(at(2).toISOString());
  });

  it("withdraws: the prepared key is no longer pending and retires now", () => {
    const withdrawn = run(prepared().state, [A], 3, { step: { phase: "withdraw" } });
    expect(withdrawn.state.rotation).toBeUndefined();
    expect(withdrawn.pending).toEqual([]);
    expect(withdrawn.state.keys[B.kid]?.retiredAt).toBe(at(3).toISOString());
    expect(() => run(withdrawn.state, [A], 4, { step: { phase: "withdraw" } })).toThrow(
      /nothing to withdraw/,
    );
  });

  it("retires a key a version-1 state marked pending that no rotation names", () => {
    const v1 = JSON.stringify({
      version: 1,
      keys: {
        [A.kid]: { firstPublished: at(0).toISOString() },
        [B.kid]: { firstPublished: at(0).toISOString(), pending: true },
      },
    });
    const state = loadState(v1, "state", serializeJwks(buildJwks([A, B])), "keys.json");
    const decided = run(state, [A], 5);
    expect(decided.pending).toEqual([]);
    expect(decided.state.keys[B.kid]?.retiredAt).toBe(at(5).toISOString());
    expect(decided.state.keys[A.kid]?.firstPublished).toBe(at(0).toISOString());
  });
});

describe("decideState and the 100-key ceiling of STS", () => {
  const old = Array.from({ length: 99 }, newKey);
  const publishedBefore = (keys: PublicSigningKey[]) =>
    loadState(undefined, "state", serializeJwks(buildJwks(keys, { emptyKidTwin: false })), "keys.json");

  it("warns well before the ceiling, naming the oldest retired keys", () => {
    const result = run(publishedBefore(old.slice(0, 80)), [newKey()], 0);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(/82 keys; STS refuses more than 100/);
  });

  it("refuses to write a JWKS past the ceiling, and says which keys could go", () => {
    expect(() => run(publishedBefore(old), [newKey()], 0)).toThrow(
      expect.objectContaining({
        code: "ERR_TOO_MANY_KEYS",
        message: expect.stringContaining(old[0]?.kid as string),
      }),
    );
  });

  it("stays quiet far below it", () => {
    expect(run(publishedBefore(old.slice(0, 3)), [newKey()], 0).warnings).toEqual([]);
  });
});
