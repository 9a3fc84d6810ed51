import { createHash, randomBytes } from "node:crypto";
import { dirname, join, posix, resolve } from "node:path";
import { fsAsync, INPUT_LIMITS, readInput } from "@irsa-anywhere/errors";
import { PublishError } from "./errors.js";
import { acquireDirectoryLock } from "./lib/directory-lock.js";
import { makeDirectories } from "./lib/make-directories.js";
import type { ConditionalWrite, PublishTarget, StoredDocument } from "./target.js";

const { rename, rm, writeFile } = fsAsync;

/** Paths the directory target keeps outside the served directory (see `statePath`). */
const STATE_PATH = "irsa-anywhere-state:";
/** What a version read from the state's old place, inside the served directory, starts with. */
const LEGACY_VERSION = "in-directory:";

/**
 * Publishes into a local directory that any static web host can serve. Each write goes to a
 * temporary file that is renamed over the old one, so a reader sees the old or the new document,
 * never half of one; a lock directory makes the compare-and-swap safe between processes.
 *
 * The publisher's private state is kept beside the directory, never in it, so that a static host
 * serving the directory cannot publish it: for `./site`, in `./site.irsa-anywhere-state/`
 * (`stateDirectory` chooses another place). A state an earlier version kept inside the directory
 * is read once from there, and removed when its successor is written.
 *
 * @example
 * const keys = publicKeysFromPem(await readFile("sa.pub", "utf8"), "sa.pub");
 * await publish({ issuer: "https://oidc.example.com/prod", keys, target: directoryTarget("./site") });
 */
export function directoryTarget(
  directory: string,
  options: { stateDirectory?: string | undefined } = {},
): PublishTarget {
  const root = resolve(directory);
  const stateRoot = resolve(options.stateDirectory ?? `${root}.irsa-anywhere-state`);
  // Beside the directory, like the state: a static host serving it never shows who holds the lock.
  const lockPath = `${root}.irsa-anywhere.lock`;
  const fileOf = (path: string) =>
    path.startsWith(STATE_PATH) ? join(stateRoot, path.slice(STATE_PATH.length)) : join(root, path);
  /** Where an earlier version kept the state of the same issuer: beside its keys.json. */
  const legacyStateOf = (path: string) =>
    join(root, dirname(path.slice(STATE_PATH.length)), ".irsa-anywhere-state.json");

  async function readFileAt(file: string): Promise<string | undefined> {
    try {
      // Capped, and a FIFO or device put where a document belongs is refused rather than waited on.
      return await readInput(file, { maxBytes: INPUT_LIMITS.document, what: "the published file" });
    } catch (error) {
      // ENOTDIR: a file where a directory of the path should be; the document is not there either.
      const code = errnoOf(error);
      if (code === "ENOENT" || code === "ENOTDIR") return undefined;
      throw new PublishError("ERR_TARGET_UNREADABLE", (error as Error).message, { cause: error });
    }
  }

  return {
    description: `directory ${directory}`,
    locate: fileOf,
    statePath: (jwksPath) => `${STATE_PATH}${posix.join(posix.dirname(jwksPath), "state.json")}`,
    async read(path) {
      const body = await readFileAt(fileOf(path));
      if (body !== undefined) return { body, version: contentVersion(body) } satisfies StoredDocument;
      if (!path.startsWith(STATE_PATH)) return undefined;
      const legacy = await readFileAt(legacyStateOf(path));
      return legacy === undefined
        ? undefined
        : { body: legacy, version: `${LEGACY_VERSION}${contentVersion(legacy)}` };
    },
    async write(path, body, options) {
      const file = fileOf(path);
      const fromLegacy = options.expectedVersion?.startsWith(LEGACY_VERSION) === true;
      await ensureDirectory(dirname(file));
      await ensureDirectory(dirname(root)); // the lock's place
      await withLock(lockPath, async () => {
        const current = await readVersion(file);
        const legacy = fromLegacy ? await readVersion(legacyStateOf(path)) : null;
        const holds = fromLegacy
          ? current === null && `${LEGACY_VERSION}${legacy}` === options.expectedVersion
          : current === options.expectedVersion;
        if (!holds) {
          throw new PublishError("ERR_PRECONDITION_FAILED", `${file} changed since it was read`);
        }
        const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`;
        try {
          await writeFile(temporary, body, { mode: path.startsWith(STATE_PATH) ? 0o600 : 0o644 });
          await rename(temporary, file);
          // Its successor is written: the state no longer sits where a static host serves it.
          if (fromLegacy) await rm(legacyStateOf(path), { force: true });
        } catch (error) {
          await rm(temporary, { force: true });
          throw new PublishError(
            "ERR_TARGET_UNWRITABLE",
            `cannot write ${file}: ${(error as Error).message}`,
          );
        }
      });
    },
  };
}

/** @internal The version of a file's content, so that a directory behaves like a store with ETags. */
export function contentVersion(body: string): string {
  return createHash("sha256").update(body).digest("hex");
}

async function readVersion(file: string): Promise<ConditionalWrite["expectedVersion"]> {
  try {
    return contentVersion(
      await readInput(file, { maxBytes: INPUT_LIMITS.document, what: "the published file" }),
    );
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return null;
    throw error;
  }
}

/** The system error code of a failed read, whether raw or as readInput's error (its cause). */
function errnoOf(error: unknown): string | undefined {
  const e = error as { code?: unknown; cause?: { code?: unknown } };
  if (typeof e.cause?.code === "string") return e.cause.code;
  return typeof e.code === "string" ? e.code : undefined;
}

async function ensureDirectory(directory: string): Promise<void> {
  try {
    await makeDirectories(directory);
  } catch (error) {
    throw new PublishError(
      "ERR_TARGET_UNWRITABLE",
      `cannot create ${directory}: ${(error as Error).message}`,
    );
  }
}

async function withLock<T>(lockPath: string, work: () => Promise<T>): Promise<T> {
  const lock = await acquireDirectoryLock(lockPath);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}
