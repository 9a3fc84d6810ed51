import { type DocumentPaths, documentPaths, validateIssuer } from "@irsa-anywhere/discovery";
import { quoteInput } from "@irsa-anywhere/errors";
import type { PublicSigningKey } from "@irsa-anywhere/keys";
import { decideState, type RotationStep, type StateDecision } from "./decide-state.js";
import { PublishError } from "./errors.js";
import { DEFAULT_RETAIN_MS } from "./retention.js";
import {
  loadState,
  type PublisherState,
  type RotationRecord,
  renderDiscovery,
  renderJwks,
  type ServedRecord,
  sameDecisions,
  serializeState,
} from "./state.js";

export { statePath } from "./state.js";

import type { ConditionalWrite, PublishTarget, StoredDocument } from "./target.js";

/**
 * `Cache-Control` of both documents. Five minutes: long enough that a CDN or STS absorbs
 * repeated fetches, short enough that a key published ahead of a rotation is seen everywhere
 * well before the API server signs with it. Key retention adds this time to the token lifetime.
 */
export const DOCUMENT_CACHE_CONTROL = "public, max-age=300";
/** The `Content-Type` both documents are published and served with. */
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

/** The two documents an issuer publishes. */
export type DocumentName = "keys.json" | "openid-configuration";
/** What a publish did to a document: wrote it new, replaced it, or left it as it was. */
export type DocumentAction = "create" | "update" | "unchanged";

/** What a publish did to one document, and where. */
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

/** What `publishDocuments` needs: the issuer, the keys, and the target to write them to. */
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
  /** A rotation phase, decided on the same state as the publish (see {@link RotationStep}). */
  rotation?: RotationStep | undefined;
  /** How long a key stays published after it left the cluster; default {@link DEFAULT_RETAIN_MS}. */
  retainMs?: number;
  /** The clock; tests pass their own so that a day passes in milliseconds. */
  now?: () => Date;
  /** Work out and return the plan; write nothing. */
  dryRun?: boolean;
  /**
   * Refuse (`ERR_ISSUER_MISMATCH`) to replace documents published for another issuer. For an
   * issuer derived rather than given (`publish --bucket` without `--issuer`): the same objects
   * can be published under several spellings of a bucket's host, and a derived spelling that
   * replaced the cluster's own would make STS refuse every token it signs.
   */
  keepPublishedIssuer?: boolean;
  /**
   * Work that must succeed before any document is written (the bucket's public-read policy),
   * run by the caller beside this: `checked` settles once it has made its checks (a refusal
   * rejects it, and then nothing at all is written), `done` once it is done. `done` is awaited
   * beside the state write, which it may overlap (the state is never public), and before the
   * documents: when it fails, no document is written.
   */
  beforeDocuments?: { checked: Promise<unknown>; done: Promise<unknown> } | undefined;
  /**
   * The IAM OIDC provider's ARN to record in the state it writes (see
   * `PublisherState.oidcProviderArn`), as soon as known; undefined leaves the state's as it is.
   * Awaited before a state write.
   */
  oidcProviderArn?: Promise<string | undefined> | undefined;
  /** Where the issuer is served, to record in the state it writes (see `PublisherState.servedAt`). */
  servedAt?: ServedRecord | undefined;
  /**
   * Resolves true when nothing that trusts the issuer can read it yet: no IAM OIDC provider
   * names it (the lookup found none, and this run registers one only after reading both
   * documents back). Then, while no discovery document exists, `keys.json` and the discovery
   * document are written at once (see the write below); otherwise, and by default, one after
   * the other. Awaited before the document writes.
   */
  issuerUntrusted?: Promise<boolean> | undefined;
}

/** What `publishDocuments` did: the issuer, each document's outcome, and the keys now published. */
export interface PublishDocumentsResult {
  issuer: string;
  dryRun: boolean;
  /** `keys.json` first: it is written before the discovery document that points at it. */
  documents: [DocumentOutcome, DocumentOutcome];
  /** Which keys are published, and why (see {@link MergedKeys}). */
  keys: PublishedKeys;
  /** The rotation in progress, as the state records it after this publish. */
  rotation?: RotationRecord;
  /** The open rotation this run's phase confirmed, withdrew or closed. */
  rotationChange?: StateDecision["rotationChange"];
  /** Anything was (or on a dry run, would be) written. */
  changed: boolean;
  warnings: string[];
}

/** The keys a publish left published, and why each is there. */
export type PublishedKeys = Pick<
  StateDecision,
  "current" | "published" | "added" | "retained" | "pending" | "pruned" | "waiting" | "promoted"
>;

function keysOf(decision: StateDecision): PublishedKeys {
  const { current, published, added, retained, pending, pruned, waiting, promoted } = decision;
  return { current, published, added, retained, pending, pruned, waiting, promoted };
}

/**
 * Publishes an issuer's `keys.json` and `.well-known/openid-configuration` to any target, from
 * the publisher's private state, which holds every published key and its record (see
 * {@link PublisherState}). Each attempt reads the three documents, decides the next state from
 * the state read ({@link decideState}, with any rotation phase and its precondition), and writes,
 * in this order and each conditionally on the version it read: the state, `keys.json`, the
 * discovery document, both rendered from the state. When any of them changed since it was read,
 * the attempt is given up and everything is read and decided again. A newer state always holds
 * the decisions of an older one, so the attempts converge; and since the documents are written
 * only by a run whose state write succeeded, a stale render never replaces a newer one. A run
 * that finds the documents differ from the state's render (a publisher died halfway) completes them.
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
  const stateAt = paths.state ?? options.target.statePath(paths.jwks);
  const { target } = options;
  const dryRun = options.dryRun ?? false;
  const now = (options.now ?? (() => new Date()))();
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    try {
      // Independent reads, at once: a republish that changes nothing costs one round trip.
      const [storedKeys, storedDiscovery, storedState] = await Promise.all([
        target.read(paths.jwks),
        target.read(paths.discovery),
        target.read(stateAt),
      ]);
      if (options.keepPublishedIssuer)
        refuseAnotherIssuer(storedDiscovery, issuer, target.locate(paths.discovery));
      const before = loadState(
        storedState?.body,
        target.locate(stateAt),
        storedKeys?.body,
        `keys.json at ${target.locate(paths.jwks)}`,
      );
      const { decision, jwks, discovery } = decideDocuments(options, issuer, before, now);
      const keysOutcome = outcome("keys.json", paths.jwks, target, storedKeys, jwks, keysReason(decision));
      const discoveryOutcome = outcome(
        "openid-configuration",
        paths.discovery,
        target,
        storedDiscovery,
        discovery,
        storedDiscovery ? "issuer or key algorithms changed" : "first publish",
      );
      const stateChanged = storedState === undefined || !sameDecisions(before, decision.state);
      const documentsStale = keysOutcome.action !== "unchanged" || discoveryOutcome.action !== "unchanged";
      if (!dryRun && (stateChanged || documentsStale)) {
        // The state write is the compare-and-swap over everything read: it succeeds only if no
        // other run wrote the state since this one read it, and so since it read the documents
        // (every document write follows a state write). It is made even when only the documents
        // are stale, so that what they are replaced with is the render of the newest state.
        await options.beforeDocuments?.checked;
        const providerArn = await options.oidcProviderArn;
        await Promise.all([
          target.write(
            stateAt,
            serializeState({
              ...decision.state,
              generation: before.generation + 1,
              ...(providerArn === undefined ? {} : { oidcProviderArn: providerArn }),
              ...(options.servedAt === undefined ? {} : { servedAt: options.servedAt }),
            }),
            stateWriteCondition(storedState?.version ?? null),
          ),
          options.beforeDocuments?.done,
        ]);
        const writeKeys = async () => {
          if (keysOutcome.action === "unchanged") return;
          await target.write(paths.jwks, jwks, writeCondition(storedKeys));
          keysOutcome.written = true;
        };
        const writeDiscovery = async () => {
          if (discoveryOutcome.action === "unchanged") return;
          await target.write(paths.discovery, discovery, writeCondition(storedDiscovery));
          discoveryOutcome.written = true;
        };
        // keys.json before the discovery document, so that it never points at keys not there
        // yet. Except on a first publish that nothing trusts yet, where both go at once: with no
        // discovery document read, its write is conditional on there still being none, so until
        // it lands no reader can be sent to keys.json, and a reader that fetches keys.json
        // early (its URL is predictable) can do so in either order. The one reader that
        // matters, STS, reads an issuer only for a provider that names it: there is none (the
        // caller looked), and publish registers one only after reading both documents back. If
        // one write fails, publish stops before that, and the next run finds the discovery
        // document and writes keys.json first, as on any other run.
        if (storedDiscovery === undefined && (await options.issuerUntrusted) === true) {
          const results = await Promise.allSettled([writeKeys(), writeDiscovery()]);
          // Both settled: a retry after a conflict never races a write of this attempt.
          for (const result of results) if (result.status === "rejected") throw result.reason;
        } else {
          await writeKeys();
          await writeDiscovery();
        }
      } else {
        await options.beforeDocuments?.done;
      }
      return documentsResult(issuer, dryRun, [keysOutcome, discoveryOutcome], decision);
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
 * What {@link publishDocuments} would decide and return on a stored state of version 2, when it
 * would write nothing: the decision leaves the state as it is, and the documents are its render
 * (`jwks`, `discovery`), which the caller must find stored (or served) byte for byte before it
 * takes `result` for what a publish did. Undefined when the decision changes the state, and
 * for a state that is missing, older or unreadable (a publish rebuilds it from keys.json).
 * Pure: no request, so that a republish can decide between its first reads and its last.
 */
export function unchangedDocuments(
  options: Omit<PublishDocumentsOptions, "paths"> & { paths: DocumentPaths & { state: string } },
  stateBody: string,
): { jwks: string; discovery: string; result: PublishDocumentsResult } | undefined {
  const { target, paths } = options;
  let issuer: string;
  let before: PublisherState;
  let decided: ReturnType<typeof decideDocuments>;
  try {
    issuer = validateIssuer(options.issuer);
    // No keys.json given: a state that is not of version 2 loads as an empty one, and changes.
    before = loadState(stateBody, target.locate(paths.state), undefined, target.locate(paths.jwks));
    decided = decideDocuments(options, issuer, before, (options.now ?? (() => new Date()))());
  } catch {
    return undefined; // a publish reports it
  }
  const { decision, jwks, discovery } = decided;
  if (before.generation === 0 || !sameDecisions(before, decision.state)) return undefined;
  const unchanged = (name: DocumentName, path: string, body: string) =>
    outcome(name, path, target, { body, version: "" }, body, "");
  return {
    jwks,
    discovery,
    result: documentsResult(
      issuer,
      options.dryRun ?? false,
      [
        unchanged("keys.json", paths.jwks, jwks),
        unchanged("openid-configuration", paths.discovery, discovery),
      ],
      decision,
    ),
  };
}

/** The next state decided from the one read, and the two documents it renders. */
function decideDocuments(
  options: Pick<PublishDocumentsOptions, "keys" | "emptyKidTwin" | "retainMs" | "rotation">,
  issuer: string,
  before: PublisherState,
  now: Date,
) {
  const decision = decideState(before, {
    cluster: options.keys,
    emptyKidTwin: options.emptyKidTwin ?? true,
    now,
    retainMs: options.retainMs ?? DEFAULT_RETAIN_MS,
    step: options.rotation,
  });
  return { decision, jwks: renderJwks(decision.state), discovery: renderDiscovery(issuer, decision.state) };
}

function documentsResult(
  issuer: string,
  dryRun: boolean,
  documents: [DocumentOutcome, DocumentOutcome],
  decision: StateDecision,
): PublishDocumentsResult {
  return {
    issuer,
    dryRun,
    documents,
    keys: keysOf(decision),
    changed: documents.some((document) => document.action !== "unchanged"),
    warnings: decision.warnings,
    ...(decision.state.rotation ? { rotation: decision.state.rotation } : {}),
    ...(decision.rotationChange ? { rotationChange: decision.rotationChange } : {}),
  };
}

function refuseAnotherIssuer(stored: StoredDocument | undefined, issuer: string, location: string): void {
  let published: unknown;
  try {
    published = stored === undefined ? undefined : (JSON.parse(stored.body) as { issuer?: unknown }).issuer;
  } catch {
    return; // not a discovery document: what is published is read and judged as before
  }
  if (typeof published !== "string" || published === issuer) return;
  throw new PublishError(
    "ERR_ISSUER_MISMATCH",
    `${location} is published for issuer ${quoteInput(published)}, and this run would publish it for ${issuer} (derived from the bucket and region); give --issuer ${quoteInput(published)} to keep the cluster's issuer (or --issuer ${issuer} to move it, which breaks every token the cluster signs until its own issuer changes too)`,
  );
}

/** How the state is written: never cached, and only over the version read (`null`: must not exist yet). */
export function stateWriteCondition(expectedVersion: string | null): ConditionalWrite {
  return { contentType: DOCUMENT_CONTENT_TYPE, cacheControl: "no-store", expectedVersion };
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

function keysReason(decision: StateDecision): string {
  const parts: string[] = [];
  if (decision.added.length > 0) parts.push(`added ${decision.added.join(", ")}`);
  if (decision.pruned.length > 0) parts.push(`removed ${decision.pruned.join(", ")} (retention passed)`);
  if (decision.retained.length > 0)
    parts.push(`kept ${decision.retained.join(", ")} until tokens they signed expire`);
  return parts.length > 0 ? parts.join("; ") : "formatting or empty-kid twin changed";
}
