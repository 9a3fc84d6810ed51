import { createHash, randomBytes } from "node:crypto";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { INPUT_LIMITS, readInput } from "@irsa-anywhere/keys";
import { PublishError } from "./errors.js";
import { makeDirectories } from "./lib/make-directories.js";
import type { ConditionalWrite, PublishTarget, StoredDocument } from "./target.js";

/** A lock older than this was left by a process that died; it is broken. */
const STALE_LOCK_MS = 30_000;
const LOCK_WAIT_MS = 10_000;

/**
 * Publishes into a local directory that any static web host can serve. Each write goes to a
 * temporary file that is renamed over the old one, so a reader sees the old or the new document,
 * never half of one; a lock directory makes the compare-and-swap safe between processes.
 *
 * @example
 * await publish({ issuer, keys, target: directoryTarget("./site") });
 */
export function directoryTarget(directory: string): PublishTarget {
  const root = resolve(directory);
  const lockPath = join(root, ".irsa-anywhere.lock");
  return {
    description: `directory ${directory}`,
    locate: (path) => join(root, path),
    async read(path) {
      let body: string;
      try {
        // Capped, and a FIFO or device put where a document belongs is refused rather than waited on.
        body = await readInput(join(root, path), {
          maxBytes: INPUT_LIMITS.document,
          what: "the published file",
        });
      } catch (error) {
        // ENOTDIR: a file where a directory of the path should be; the document is not there either.
        const code = errnoOf(error);
        if (code === "ENOENT" || code === "ENOTDIR") return undefined;
        throw new PublishError("ERR_TARGET_UNREADABLE", (error as Error).message, { cause: error });
      }
      return { body, version: contentVersion(body) } satisfies StoredDocument;
    },
    async write(path, body, options) {
      const file = join(root, path);
      await ensureDirectory(dirname(file));
      await withLock(lockPath, async () => {
        const current = await readVersion(file);
        if (current !== options.expectedVersion) {
          throw new PublishError("ERR_PRECONDITION_FAILED", `${file} changed since it was read`);
        }
        const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`;
        try {
          await writeFile(temporary, body, { mode: 0o644 });
          await rename(temporary, file);
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
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await mkdir(lockPath);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new PublishError(
          "ERR_TARGET_UNWRITABLE",
          `cannot lock ${lockPath}: ${(error as Error).message}`,
        );
      }
      const age = await stat(lockPath).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > STALE_LOCK_MS) {
        await rm(lockPath, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new PublishError(
          "ERR_TARGET_UNWRITABLE",
          `${lockPath} has been held for ${Math.round(age / 1000)}s by another publisher; wait for it, or remove the directory if no publisher is running`,
        );
      }
      await sleep(20 + Math.random() * 30);
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockPath, { recursive: true, force: true });
  }
}
