import { openIdConfiguration, serializeOpenIdConfiguration } from "@irsa-anywhere/discovery";
import {
  buildJwks,
  currentSigningKey,
  distinctKeys,
  KeysError,
  type PublicSigningKey,
  parseJwks,
  serializeJwks,
} from "@irsa-anywhere/keys";
import { PublishError } from "./errors.js";

/** What the published key set becomes: the cluster's keys, then every key published before. */
export interface MergedKeys {
  /** The kid the cluster signs with now; it gets the empty-kid twin. */
  current: string;
  /** Every kid in the new `keys.json`, in order. */
  published: string[];
  /** Kids of the cluster that were not published before. */
  added: string[];
  /** Kids published before that the cluster no longer has; kept until tokens they signed expire. */
  retained: string[];
  body: string;
}

/**
 * Merges the cluster's keys into the published `keys.json`: keys already published are kept,
 * so tokens signed by a previous key stay verifiable. The current key is `currentSigningKey`'s.
 */
export function mergeKeys(
  clusterKeys: readonly PublicSigningKey[],
  publishedBody: string | undefined,
  options: { origin: string; emptyKidTwin: boolean },
): MergedKeys {
  const cluster = distinctKeys(clusterKeys);
  const current = currentSigningKey(cluster);
  const published = publishedBody === undefined ? [] : parsePublished(publishedBody, options.origin);
  const clusterKids = new Set(cluster.map((key) => key.kid));
  const publishedKids = new Set(published.map((key) => key.kid));
  const retainedKeys = published.filter((key) => !clusterKids.has(key.kid));
  const all = [...cluster, ...retainedKeys];
  const jwks = buildJwks(all, { emptyKidTwin: options.emptyKidTwin, currentKid: current.kid });
  return {
    current: current.kid,
    published: distinctKeys(all).map((key) => key.kid),
    added: cluster.filter((key) => !publishedKids.has(key.kid)).map((key) => key.kid),
    retained: retainedKeys.map((key) => key.kid),
    body: serializeJwks(jwks),
  };
}

function parsePublished(body: string, origin: string): PublicSigningKey[] {
  try {
    return parseJwks(body, origin).keys;
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

/** The discovery document's bytes for an issuer and the algorithms of its published keys. */
export function discoveryBody(issuer: string, keys: readonly PublicSigningKey[]): string {
  return serializeOpenIdConfiguration(
    openIdConfiguration({ issuer, algorithms: keys.map((key) => key.alg) }),
  );
}
