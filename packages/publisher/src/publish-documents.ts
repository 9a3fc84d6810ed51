import { type DocumentPaths, documentPaths, validateIssuer } from "@irsa-anywhere/discovery";
import { type PublicSigningKey, parseJwks } from "@irsa-anywhere/keys";
import { discoveryBody, mergeKeys } from "./documents.js";
import { PublishError } from "./errors.js";
import type { PublishTarget, StoredDocument } from "./target.js";

/**
 * `Cache-Control` of both documents. Five minutes: long enough that a CDN or STS absorbs
 * repeated fetches, short enough that a key published ahead of a rotation is seen everywhere
 * well before the API server signs with it. Key retention adds this time to the token lifetime.
 */
export const DOCUMENT_CACHE_CONTROL = "public, max-age=300";
export const DOCUMENT_CONTENT_TYPE = "application/json";

/** How often a publish re-reads and merges again after another publisher wrote in between. */
const MAX_ATTEMPTS = 8;

export type DocumentName = "keys.json" | "openid-configuration";
export type DocumentAction = "create" | "update" | "unchanged";

export interface DocumentOutcome {
  name: DocumentName;
  /** Relative to the issuer host's web root: `prod/keys.json`. */
  path: string;
  /** A file name or object URL. */
  location: string;
  action: DocumentAction;
  /** Why, in words: "new key abc… added", "already up to date". */
  reason: string;
  /** Whether it was written (false on a dry run or when unchanged). */
  written: boolean;
}

export interface PublishDocumentsOptions {
  /** The issuer URL, exactly as the cluster's tokens carry it. */
  issuer: string;
  /** The cluster's current keys, e.g. from `publicKeysFromCluster`. */
  keys: readonly PublicSigningKey[];
  target: PublishTarget;
  /** Where the documents go in the target; default the paths the issuer's URL implies. */
  paths?: DocumentPaths;
  /** Publish the empty-kid twin of the current key (default true). */
  emptyKidTwin?: boolean;
  /** Work out and return the plan; write nothing. */
  dryRun?: boolean;
}

export interface PublishDocumentsResult {
  issuer: string;
  dryRun: boolean;
  /** `keys.json` first: it is written before the discovery document that points at it. */
  documents: [DocumentOutcome, DocumentOutcome];
  keys: { current: string; published: string[]; added: string[]; retained: string[] };
  /** Anything was (or on a dry run, would be) written. */
  changed: boolean;
}

/**
 * Publishes an issuer's `keys.json` and `.well-known/openid-configuration` to any target.
 * Keys published before are kept; only documents that differ are written, `keys.json` first;
 * each write is conditional on the version read, and on a conflict with another publisher
 * the documents are read and merged again, so no publisher's key is ever lost.
 *
 * @throws {PublishError} and the key and issuer validation errors of the other packages.
 *
 * @example
 * const result = await publishDocuments({
 *   issuer: "https://oidc.example.com/prod",
 *   keys: publicKeysFromPem(await readFile("sa.pub", "utf8"), "sa.pub"),
 *   target: directoryTarget("./site"),
 * });
 */
export async function publishDocuments(options: PublishDocumentsOptions): Promise<PublishDocumentsResult> {
  const issuer = validateIssuer(options.issuer);
  const paths = options.paths ?? documentPaths(issuer);
  const { target } = options;
  const dryRun = options.dryRun ?? false;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    try {
      const storedKeys = await target.read(paths.jwks);
      const merged = mergeKeys(options.keys, storedKeys?.body, {
        origin: `keys.json at ${target.locate(paths.jwks)}`,
        emptyKidTwin: options.emptyKidTwin ?? true,
      });
      const keysOutcome = outcome(
        "keys.json",
        paths.jwks,
        target,
        storedKeys,
        merged.body,
        keysReason(merged),
      );
      if (keysOutcome.action !== "unchanged" && !dryRun) {
        await target.write(paths.jwks, merged.body, writeCondition(storedKeys));
        keysOutcome.written = true;
      }
      const publishedKeys = parseJwks(merged.body, "keys.json").keys;
      const storedDiscovery = await target.read(paths.discovery);
      const discovery = discoveryBody(issuer, publishedKeys);
      const discoveryOutcome = outcome(
        "openid-configuration",
        paths.discovery,
        target,
        storedDiscovery,
        discovery,
        storedDiscovery ? "issuer or key algorithms changed" : "first publish",
      );
      if (discoveryOutcome.action !== "unchanged" && !dryRun) {
        await target.write(paths.discovery, discovery, writeCondition(storedDiscovery));
        discoveryOutcome.written = true;
      }
      return {
        issuer,
        dryRun,
        documents: [keysOutcome, discoveryOutcome],
        keys: {
          current: merged.current,
          published: merged.published,
          added: merged.added,
          retained: merged.retained,
        },
        changed: keysOutcome.action !== "unchanged" || discoveryOutcome.action !== "unchanged",
      };
    } catch (error) {
      if (error instanceof PublishError && error.code === "ERR_PRECONDITION_FAILED") continue;
      throw error;
    }
  }
  throw new PublishError(
    "ERR_CONCURRENT_UPDATES",
    `other publishers changed ${target.description} ${MAX_ATTEMPTS} times while this one merged; run it again once they are done`,
  );
}

function writeCondition(stored: StoredDocument | undefined) {
  return {
    contentType: DOCUMENT_CONTENT_TYPE,
    cacheControl: DOCUMENT_CACHE_CONTROL,
    expectedVersion: stored?.version ?? null,
  };
}

function outcome(
  name: DocumentName,
  path: string,
  target: PublishTarget,
  stored: StoredDocument | undefined,
  body: string,
  changeReason: string,
): DocumentOutcome {
  const action: DocumentAction = !stored ? "create" : stored.body === body ? "unchanged" : "update";
  return {
    name,
    path,
    location: target.locate(path),
    action,
    reason: action === "unchanged" ? "already up to date" : changeReason,
    written: false,
  };
}

function keysReason(merged: ReturnType<typeof mergeKeys>): string {
  const parts: string[] = [];
  if (merged.added.length > 0)
    parts.push(`key${merged.added.length > 1 ? "s" : ""} ${merged.added.join(", ")} added`);
  if (merged.retained.length > 0) parts.push(`${merged.retained.join(", ")} kept from before`);
  return parts.length > 0 ? parts.join("; ") : "formatting or empty-kid twin changed";
}
