import { UsageError } from "./usage-error.js";

/** Makes the directory a private key goes into, if it is not there. */
export async function makeKeyDirectory(dir: string): Promise<void> {
  // A new directory for a private key is the owner's alone. Only the last level is made: a
  // recursive mkdir never returns on Node 20 where the kernel answers ENOENT under an existing
  // parent (/proc, /sys), and a mistyped parent is better named than made.
  const { mkdir } = await import("node:fs/promises");
  await mkdir(dir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "EEXIST") return;
    throw new UsageError(
      `cannot create ${dir}: ${error.code ?? error.message}; check that its parent directory exists and is writable`,
    );
  });
}

/** Creates every file or none: an existing file is never overwritten, a failure removes what was made. */
export async function writeNewFiles(files: Array<[string, string, number]>): Promise<void> {
  const { open, rm } = await import("node:fs/promises");
  const made: string[] = [];
  try {
    for (const [file, content, mode] of files) {
      const handle = await open(file, "wx", mode);
      made.push(file);
      try {
        await handle.writeFile(content);
      } finally {
        await handle.close();
      }
    }
  } catch (error) {
    await Promise.all(made.map((file) => rm(file, { force: true })));
    const code = (error as NodeJS.ErrnoException).code;
    const file = (error as NodeJS.ErrnoException).path ?? "the file";
    throw new UsageError(
      code === "EEXIST"
        ? `${file} already exists; choose another place, or move it away (a signing key is never overwritten)`
        : `cannot write ${file}: ${code ?? (error as Error).message}; check that the directory exists and is writable`,
    );
  }
}
