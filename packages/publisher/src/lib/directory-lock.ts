import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import { fsAsync } from "@irsa-anywhere/errors";
import { PublishError } from "../errors.js";

const { mkdir, readFile, rename, rm, stat, writeFile } = fsAsync;

/** A lock older than this is taken over whoever holds it: no write holds it for more than moments. */
export const STALE_LOCK_MS = 30_000;
const LOCK_WAIT_MS = 10_000;

/** Who holds a lock, written into it, so that the next run can tell a dead owner from a busy one. */
interface LockOwner {
  pid: number;
  hostname: string;
  startedAt: string;
  /** Tells this holding from a later one by the same process. */
  token: string;
}

/** A held lock; `release` removes it only while it is still this holder's. */
export interface HeldLock {
  release(): Promise<void>;
}

/**
 * @internal Takes a lock directory, waiting up to 10 s for its holder. A lock whose owner is gone
 * (the same host, and its pid no longer runs) or that is older than {@link STALE_LOCK_MS} is taken
 * over at once: it is renamed away first, so of several runs that find it stale only one takes it,
 * and it is put back if it turns out to be a live holder's that replaced the stale one meanwhile.
 */
export async function acquireDirectoryLock(lockPath: string): Promise<HeldLock> {
  const owner: LockOwner = {
    pid: process.pid,
    hostname: hostname(),
    startedAt: new Date().toISOString(),
    token: randomBytes(8).toString("hex"),
  };
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await mkdir(lockPath);
      await writeFile(join(lockPath, "owner.json"), JSON.stringify(owner));
      return { release: () => releaseIfOurs(lockPath, owner.token) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new PublishError(
          "ERR_TARGET_UNWRITABLE",
          `cannot lock ${lockPath}: ${(error as Error).message}`,
        );
      }
    }
    const holder = await readOwner(lockPath);
    const age = await stat(lockPath).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (holderIsGone(holder) || age > STALE_LOCK_MS) {
      await takeOver(lockPath, holder?.token);
      continue;
    }
    if (Date.now() > deadline) {
      const who = holder
        ? `process ${holder.pid} on ${holder.hostname} (since ${holder.startedAt})`
        : "another publisher";
      throw new PublishError(
        "ERR_TARGET_UNWRITABLE",
        `${lockPath} has been held for ${Math.round(age / 1000)}s by ${who}; wait for it, or remove the directory if that process is not running`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 30));
  }
}

async function readOwner(lockPath: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(join(lockPath, "owner.json"), "utf8")) as LockOwner;
    return typeof owner.pid === "number" && typeof owner.token === "string" ? owner : undefined;
  } catch {
    return undefined; // being written, or gone: judged by its age
  }
}

function holderIsGone(holder: LockOwner | undefined): boolean {
  if (!holder || holder.hostname !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

async function takeOver(lockPath: string, staleToken: string | undefined): Promise<void> {
  const aside = `${lockPath}.stale-${randomBytes(6).toString("hex")}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return; // another run took it over first
  }
  const moved = await readOwner(aside);
  if (moved?.token !== staleToken) {
    // A live holder replaced the stale lock between the look and the rename: give it back.
    await rename(aside, lockPath).catch(() => undefined);
    return;
  }
  await rm(aside, { recursive: true, force: true });
}

async function releaseIfOurs(lockPath: string, token: string): Promise<void> {
  if ((await readOwner(lockPath))?.token !== token) return; // taken over: it is someone else's now
  await rm(lockPath, { recursive: true, force: true });
}
