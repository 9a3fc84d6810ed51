import { openIdConfiguration, serializeOpenIdConfiguration } from "@irsa-anywhere/discovery";
import {
  jwkFromPublicKey,
  KeysError,
  type PublicJwk,
  type PublicSigningKey,
  parseJwks,
  publicSigningKeyFromJwk,
  serializeJwks,
} from "@irsa-anywhere/keys";
import { PublishError } from "./errors.js";

/** What the publisher remembers of one published key. */
export interface KeyRecord {
  /** The public key, exactly as `keys.json` carries it. */
  jwk: PublicJwk;
  /** When the key was first published. */
  firstPublished: string;
  /** The last publish that found the key among the cluster's keys (informational). */
  lastSeenInCluster?: string;
  /**
   * The first publish that found the key gone from the cluster (and not pending): it signed
   * nothing after this, so tokens it signed expire at the latest one token lifetime later.
   */
  retiredAt?: string;
}

/** A rotation in progress, recorded by `rotate prepare` and completed by `rotate confirm`. */
export interface RotationRecord {
  /** The kid that signed when the rotation was prepared. */
  from: string;
  /** The kid(s) published ahead to sign next; they are the pending keys while unconfirmed. */
  to: string[];
  preparedAt: string;
  /** When the cluster was seen signing with a `to` key. */
  confirmedAt?: string;
}

/**
 * The publisher's private state, and the single source of truth of what is published:
 * `keys.json` and the discovery document are rendered from it ({@link renderJwks}). Every run
 * decides a new state from the one it read and writes it with one conditional write, so no
 * decision (a key published ahead, a retirement, a rotation) can be lost to a concurrent run.
 */
export interface PublisherState {
  version: 2;
  /**
   * Bumped by every write, so that no two written states are byte-equal: a store that versions
   * by content (a directory, S3's ETag) can then never take an old state for the current one.
   */
  generation: number;
  /** The kids in `keys.json`, in order (the empty-kid twin not counted). */
  published: string[];
  /** The kid that gets the empty-kid twin; absent when none is published. */
  twin?: string;
  keys: Record<string, KeyRecord>;
  rotation?: RotationRecord;
  /**
   * The IAM OIDC provider registered for the issuer (bucket publishes), so that a later run asks
   * IAM for it by name instead of listing every provider of the account. A hint, checked on use:
   * a provider that is gone, or another issuer's, sends the run back to the list.
   */
  oidcProviderArn?: string;
  /**
   * Where the issuer is served when something other than the bucket's own S3 URL serves it
   * (`--cloudfront`, `--external-issuer`), and what the run that wrote it was asked: what a
   * republish needs to read the documents where STS reads them without listing distributions or
   * reading the bucket policy first (see `republishUnchanged`). A hint, like the provider's ARN:
   * a republish asked anything else, or that reads anything other than this state's render there,
   * takes the full path, which records what it finds.
   */
  servedAt?: ServedRecord;
}

/** How an issuer the bucket does not serve itself was served, as `PublisherState.servedAt` records it. */
export interface ServedRecord {
  /** The issuer URL, exactly as the cluster's tokens carry it. */
  issuer: string;
  /** The public-read scope asked for (`publicReadPolicy`), when one was. */
  publicReadScope?: string;
  /** The CloudFront distribution that serves the issuer (`cloudFront`), and the domain and certificate asked for. */
  cloudFront?: {
    id: string;
    arn: string;
    domainName: string;
    alias?: string;
    certificateArn?: string;
  };
}

/** The state of version 1, kept beside keys.json before the state held the keys themselves. */
interface StateV1 {
  version: 1;
  keys: Record<string, { firstPublished: string; lastSeenInCluster?: string; retiredAt?: string }>;
  rotation?: RotationRecord;
}

/**
 * Reads the stored state. A missing state, or one of version 1, is rebuilt from the published
 * `keys.json`: every key found there is adopted (a key with no record starts its retention now,
 * as in a first publish), never dropped on the spot. Once a state of version 2 exists, it alone
 * says what is published.
 *
 * @throws {PublishError} `ERR_PUBLISHED_DOCUMENT_INVALID` for a state or keys.json this tool cannot read.
 */
export function loadState(
  stateBody: string | undefined,
  stateOrigin: string,
  jwksBody: string | undefined,
  jwksOrigin: string,
): PublisherState {
  const stored = stateBody === undefined ? undefined : parseStoredState(stateBody, stateOrigin);
  if (stored?.version === 2) return stored;
  const state: PublisherState = { version: 2, generation: 0, published: [], keys: {} };
  if (stored?.rotation) state.rotation = stored.rotation;
  if (jwksBody === undefined) return state;
  const parsed = parsePublished(jwksBody, jwksOrigin);
  for (const key of parsed.keys) {
    const before = stored?.keys[key.kid];
    state.published.push(key.kid);
    state.keys[key.kid] = {
      jwk: jwkFromPublicKey(key),
      firstPublished: before?.firstPublished ?? "",
      ...(before?.lastSeenInCluster ? { lastSeenInCluster: before.lastSeenInCluster } : {}),
      ...(before?.retiredAt ? { retiredAt: before.retiredAt } : {}),
    };
  }
  const twin = parsed.emptyKidKeys[0];
  const twinOf = twin && parsed.keys.find((key) => key.publicKey.equals(twin.publicKey));
  if (twinOf) state.twin = twinOf.kid;
  return state;
}

function parseStoredState(body: string, origin: string): PublisherState | StateV1 {
  try {
    const state = JSON.parse(body) as PublisherState | StateV1;
    const keysOk = typeof state.keys === "object" && state.keys !== null;
    if (state.version === 1 && keysOk) return state;
    if (
      state.version === 2 &&
      keysOk &&
      Array.isArray(state.published) &&
      typeof state.generation === "number" &&
      (state.oidcProviderArn === undefined || typeof state.oidcProviderArn === "string") &&
      (state.servedAt === undefined || typeof state.servedAt?.issuer === "string") &&
      state.published.every((kid) => state.keys[kid]?.jwk)
    ) {
      for (const record of Object.values(state.keys)) publicSigningKeyFromJwk(record.jwk, origin);
      return state;
    }
  } catch {
    // reported below
  }
  throw new PublishError(
    "ERR_PUBLISHED_DOCUMENT_INVALID",
    `${origin} is not a state document of this tool; remove it (the publisher rebuilds it from keys.json, conservatively) or fix it`,
  );
}

/** The state's bytes: keys sorted by kid, so that the same state always gives the same bytes. */
export function serializeState(state: PublisherState): string {
  const keys = Object.fromEntries(Object.entries(state.keys).sort(([a], [b]) => a.localeCompare(b)));
  return `${JSON.stringify(
    {
      version: 2,
      generation: state.generation,
      published: state.published,
      ...(state.twin === undefined ? {} : { twin: state.twin }),
      keys,
      ...(state.rotation ? { rotation: state.rotation } : {}),
      ...(state.oidcProviderArn === undefined ? {} : { oidcProviderArn: state.oidcProviderArn }),
      ...(state.servedAt === undefined ? {} : { servedAt: state.servedAt }),
    },
    null,
    2,
  )}\n`;
}

/** What a run learnt that the state keeps for the next one (undefined: no longer); see {@link PublisherState}. */
export type StateRecords = { [K in "oidcProviderArn" | "servedAt"]?: PublisherState[K] | undefined };

/**
 * The next state after `stateBody` with `records` in it, serialized; undefined when `stateBody`
 * is not a state of version 2 (an older one is rebuilt from keys.json by a publish, never here).
 */
export function stateWithRecords(
  stateBody: string,
  origin: string,
  records: StateRecords,
): string | undefined {
  const state = parseStoredState(stateBody, origin);
  if (state.version !== 2) return undefined;
  const { oidcProviderArn, servedAt, ...rest } = { ...state, ...records };
  return serializeState({
    ...rest,
    generation: state.generation + 1,
    ...(oidcProviderArn === undefined ? {} : { oidcProviderArn }),
    ...(servedAt === undefined ? {} : { servedAt }),
  });
}

/**
 * What a stored state records for the next run, read leniently: a state this cannot use gives
 * nothing here and is judged where it is loaded.
 */
export function recordedInState(stateBody: string | undefined): StateRecords {
  try {
    const state = stateBody === undefined ? {} : (JSON.parse(stateBody) as Record<string, unknown>);
    const { oidcProviderArn: arn, servedAt } = state;
    return {
      ...(typeof arn === "string" ? { oidcProviderArn: arn } : {}),
      ...(typeof servedAt === "object" && servedAt !== null ? { servedAt: servedAt as ServedRecord } : {}),
    };
  } catch {
    return {};
  }
}

/** The same state, whatever generation wrote it. */
export function sameDecisions(a: PublisherState, b: PublisherState): boolean {
  return serializeState({ ...a, generation: 0 }) === serializeState({ ...b, generation: 0 });
}

/** The published keys of a state, in order, as signing keys. */
export function publishedKeys(state: PublisherState): PublicSigningKey[] {
  return state.published.map((kid) => publicSigningKeyFromJwk(state.keys[kid]?.jwk, "state"));
}

/** `keys.json` as the state says: its keys in order, then the empty-kid twin. */
export function renderJwks(state: PublisherState): string {
  const keys: PublicJwk[] = state.published.map((kid) => (state.keys[kid] as KeyRecord).jwk);
  const twin = state.twin === undefined ? undefined : state.keys[state.twin]?.jwk;
  return serializeJwks({ keys: twin ? [...keys, { ...twin, kid: "" }] : keys });
}

/** The discovery document for an issuer and the algorithms of the state's published keys. */
export function renderDiscovery(issuer: string, state: PublisherState): string {
  const algorithms = state.published.map((kid) => (state.keys[kid] as KeyRecord).jwk.alg);
  return serializeOpenIdConfiguration(openIdConfiguration({ issuer, algorithms }));
}

function parsePublished(body: string, origin: string) {
  try {
    return parseJwks(body, origin);
  } catch (error) {
    if (error instanceof KeysError) {
      throw new PublishError(
        "ERR_PUBLISHED_DOCUMENT_INVALID",
        `the published ${error.message}; fix or remove it before publishing, so that no key it holds is lost`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * The state document's path beside `keys.json` in a bucket.
 *
 * @example
 * statePath("prod/keys.json"); // "prod/.irsa-anywhere-state.json"
 */
export function statePath(jwksPath: string): string {
  return jwksPath.replace(/keys\.json$/, ".irsa-anywhere-state.json");
}
