import { type FSWatcher, watch } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, dirname } from "node:path";

/** @internal */
export interface FileWatch {
  close(): void;
}

/**
 * @internal Calls `onChange` soon after any of `files` may have changed. The directories are
 * watched, not the files: editors and Kubernetes secret volumes replace a file (or the `..data`
 * symlink above it) instead of writing into it, which a watch on the old file never sees. Where
 * `fs.watch` sees nothing (network filesystems, some containers), a poll of each file's identity,
 * size and times every `intervalMs` catches the change. `onChange` must tolerate false alarms: it
 * is told that something may have changed, not what.
 */
export function watchFiles(
  files: readonly string[],
  onChange: () => void,
  options: { intervalMs: number; debounceMs?: number },
): FileWatch {
  const debounceMs = options.debounceMs ?? 100;
  let closed = false;
  let debounce: NodeJS.Timeout | undefined;
  const trigger = () => {
    if (closed) return;
    clearTimeout(debounce);
    debounce = setTimeout(onChange, debounceMs);
    debounce.unref();
  };
  const names = new Set(files.map((file) => basename(file)));
  const watchers: FSWatcher[] = [];
  for (const directory of new Set(files.map((file) => dirname(file)))) {
    try {
      const watcher = watch(directory, { persistent: false }, (_event, name) => {
        // `..data` is the symlink a Kubernetes secret or ConfigMap volume swaps on every update.
        if (name === null || names.has(name) || name.startsWith("..")) trigger();
      });
      watcher.on("error", () => watcher.close());
      watchers.push(watcher);
    } catch {
      // A directory that does not exist (yet) is left to the poll.
    }
  }
  // Signatures as of now, before any change this watch is meant to catch can happen.
  let last: Promise<string[]> = Promise.all(files.map(fileSignature));
  let polling = false;
  const poll = setInterval(async () => {
    if (polling) return;
    polling = true;
    try {
      const before = await last;
      const now = Promise.all(files.map(fileSignature));
      last = now;
      if ((await now).some((signature, index) => signature !== before[index])) trigger();
    } finally {
      polling = false;
    }
  }, options.intervalMs);
  poll.unref();
  return {
    close() {
      closed = true;
      clearInterval(poll);
      clearTimeout(debounce);
      for (const watcher of watchers) watcher.close();
    },
  };
}

/** What changes when a file is written or replaced (following symlinks, as a reader does). */
async function fileSignature(file: string): Promise<string> {
  try {
    const info = await stat(file, { bigint: true });
    return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
  } catch (error) {
    return `missing:${(error as NodeJS.ErrnoException).code ?? ""}`;
  }
}
