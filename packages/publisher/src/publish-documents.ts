import { type DocumentPaths, documentPaths, validateIssuer } from "@irsa-anywhere/discovery";
import { type PublicSigningKey, parseJwks } from "@irsa-anywhere/keys";
import { discoveryBody, type MergedKeys, mergeKeys } from "./documents.js";
import { PublishError } from "./errors.js";
import { DEFAULT_RETAIN_MS, parseState, type RotationRecord } from "./retention.js";
import type { PublishTarget, StoredDocument } from "./target.js";

/**
 * `Cache-Control` of both documents. Five minutes: long enough that a CDN or STS absorbs
 * repeated fetches, short enough that a key published ahead of a rotation is seen everywhere
 * well before the API server signs with it. Key retention adds this time to the token lifetime.
 */
export const DOCUMENT_CACHE_CONTROL = "public, max-age=300";
export const DOCUMENT_CONTENT_TYPE = "application/json";

/**
 * How often a publish re-reads and merges again after another publisher wrote in between. Each
 * conflict means another publisher made progress, so this bounds contention, not failures: ten
 * publishers starting at the same moment all finish well within it.
 */
const MAX_ATTEMPTS = 25;

/** Randomised, growing pause before merging again, so that contending publishers spread out. */
function conflictBackoff(attempt: number): Promise<void> {
  const ceiling = Math.min(1000, 25 * 2 ** Math.min(attempt, 6));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

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
  paths?: DocumentPaths & { state?: string };
  /** Publish the empty-kid twin of the current key (default true). */
  emptyKidTwin?: boolean;
  /** Keys to publish ahead of a rotation, beside the cluster's (`rotate prepare`). */
  pendingKeys?: readonly PublicSigningKey[];
  /** Kids published ahead of a rotation that was given up: they retire now (`rotate withdraw`). */
  withdrawKeys?: readonly string[];
  /** Record or (with `null`) clear the rotation in progress in the state. */
  rotation?: RotationRecord | null;
  /** Read the state even when there is no retention to decide (the rotate phases need it). */
  readState?: boolean;
  /** How long a key stays published after it left the cluster; default {@link DEFAULT_RETAIN_MS}. */
  retainMs?: number;
  /** The clock; tests pass their own so that a day passes in milliseconds. */
  now?: () => Date;
  /** Work out and return the plan; write nothing. */
  dryRun?: boolean;
}

export interface PublishDocumentsResult {
  issuer: string;
  dryRun: boolean;
  /** `keys.json` first: it is written before the discovery document that points at it. */
  documents: [DocumentOutcome, DocumentOutcome];
  /** Which keys are published, and why (see {@link MergedKeys}). */
  keys: PublishedKeys;
  /** The rotation in progress, as the state records it after this publish (when the state was read). */
  rotation?: RotationRecord;
  /** Anything was (or on a dry run, would be) written. */
  changed: boolean;
  warnings: string[];
}

export type PublishedKeys = Pick<
  MergedKeys,
  "current" | "published" | "added" | "retained" | "pending" | "pruned" | "waiting" | "promoted"
>;

function keysOf(merged: MergedKeys): PublishedKeys {
  const { current, published, added, retained, pending, pruned, waiting, promoted } = merged;
  return { current, published, added, retained, pending, pruned, waiting, promoted };
}

/** The state document's path beside `keys.json`. */
export function statePath(jwksPath: string): string {
  return jwksPath.replace(/keys\.json$/, ".irsa-anywhere-state.json");
}

/**
 * Publishes an issuer's `keys.json` and `.well-known/openid-configuration` to any target, with
 * the small state that decides when a key may be removed. Keys published before are kept until
 * their retention has passed; only documents that differ are written, in the order state,
 * `keys.json`, discovery document; each write is conditional on the version read, and on a
 * conflict with another publisher everything is read and merged again, so no publisher's key is
 * ever lost and a publisher that dies halfway leaves documents the next run completes.
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
  const paths: DocumentPaths & { state?: string } = options.paths ?? documentPaths(issuer);
  const stateAt = paths.state ?? statePath(paths.jwks);
  const { target } = options;
  const dryRun = options.dryRun ?? false;
  const now = (options.now ?? (() => new Date()))();
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    try {
      const storedKeys = await target.read(paths.jwks);
      const withState = needsState(storedKeys?.body, options);
      const storedState = withState ? await target.read(stateAt) : undefined;
      const merged = mergeKeys(options.keys, storedKeys?.body, {
        origin: `keys.json at ${target.locate(paths.jwks)}`,
        emptyKidTwin: options.emptyKidTwin ?? true,
        state: parseState(storedState?.body, target.locate(stateAt)),
        now,
        retainMs: options.retainMs ?? DEFAULT_RETAIN_MS,
        ...(options.pendingKeys ? { pending: options.pendingKeys } : {}),
        ...(options.withdrawKeys ? { withdrawn: options.withdrawKeys } : {}),
        ...(options.rotation === undefined ? {} : { rotation: options.rotation }),
      });
      const keysOutcome = outcome(
        "keys.json",
        paths.jwks,
        target,
        storedKeys,
        merged.body,
        keysReason(merged),
      );
      // The state first: a publisher that dies after it leaves a state the next run completes,
      // never a published key without a record.
      if (!dryRun && withState && storedState?.body !== merged.stateBody) {
        await target.write(stateAt, merged.stateBody, {
          contentType: DOCUMENT_CONTENT_TYPE,
          cacheControl: "no-store",
          expectedVersion: storedState?.version ?? null,
        });
      }
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
        keys: keysOf(merged),
        changed: keysOutcome.action !== "unchanged" || discoveryOutcome.action !== "unchanged",
        warnings: merged.warnings,
        ...(withState && merged.state.rotation ? { rotation: merged.state.rotation } : {}),
      };
    } catch (error) {
      if (error instanceof PublishError && error.code === "ERR_PRECONDITION_FAILED") {
        await conflictBackoff(attempt);
        continue;
      }
      throw error;
    }
  }
  throw new PublishError(
    "ERR_CONCURRENT_UPDATES",
    `other publishers changed ${target.description} ${MAX_ATTEMPTS} times while this one merged; run it again once they are done`,
  );
}

/**
 * The state matters only when a key is retired or pending: when exactly the cluster's keys are
 * published and none is pending, there is nothing to decide, and not reading it keeps a
 * republish of an unchanged cluster to the reads of the two documents.
 */
function needsState(publishedBody: string | undefined, options: PublishDocumentsOptions): boolean {
  if (
    publishedBody === undefined ||
    options.pendingKeys?.length ||
    options.withdrawKeys?.length ||
    options.readState ||
    options.rotation !== undefined
  ) {
    return true;
  }
  let published: string[];
  try {
    published = parseJwks(publishedBody, "keys.json").keys.map((key) => key.kid);
  } catch {
    return true; // mergeKeys reports it
  }
  const cluster = new Set(options.keys.map((key) => key.kid));
  return published.length !== cluster.size || published.some((kid) => !cluster.has(kid));
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

function keysReason(merged: MergedKeys): string {
  const parts: string[] = [];
  if (merged.added.length > 0) parts.push(`added ${merged.added.join(", ")}`);
  if (merged.pruned.length > 0) parts.push(`removed ${merged.pruned.join(", ")} (retention passed)`);
  if (merged.retained.length > 0)
    parts.push(`kept ${merged.retained.join(", ")} until tokens they signed expire`);
  return parts.length > 0 ? parts.join("; ") : "formatting or empty-kid twin changed";
}
