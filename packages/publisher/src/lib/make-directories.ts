import { dirname } from "node:path";
import { fsAsync } from "@irsa-anywhere/errors";

const { mkdir, stat } = fsAsync;

/**
 * `mkdir -p`, one level at a time from the nearest directory that exists. Not
 * `mkdir(path, { recursive: true })`: on Node 20 that never returns when the kernel answers ENOENT
 * for a directory whose parent exists, as /proc and /sys do (`--out-dir /proc/x` hung publish,
 * spinning a core); here that ENOENT is an error like any other.
 */
export async function makeDirectories(directory: string): Promise<void> {
  const missing: string[] = [];
  for (let current = directory; ; current = dirname(current)) {
    const found = await stat(current).then(
      (stats) => stats,
      (error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return undefined;
        throw error;
      },
    );
    if (found !== undefined) break;
    missing.unshift(current);
    if (dirname(current) === current) break;
  }
  for (const level of missing) {
    await mkdir(level).catch((error: NodeJS.ErrnoException) => {
      // Another publisher may have made it in the meantime.
      if (error.code !== "EEXIST") throw error;
    });
  }
}
