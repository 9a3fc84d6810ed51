import { randomBytes } from "node:crypto";
import { dirname, resolve } from "node:path";
import { fsAsync } from "@irsa-anywhere/errors";
import { CliError } from "./errors.js";
import { writeStandardOutput } from "./failure.js";

const { chmod, lstat, readlink, rename, rm, writeFile } = fsAsync;

/** As many links as Linux follows before it answers ELOOP. */
const MAX_LINKS = 40;

/**
 * Writes the command's data to stdout, or atomically to a file (write, then rename). A symlink
 * is written through: the file it points to is replaced, and the link stays (a rename onto the
 * link itself would replace the link with a regular file). Anything but a regular file at the
 * end (a directory, a device node, a FIFO, a socket) is refused, not replaced. The new file gets
 * `mode` (default 0644), e.g. the mode of the file it replaces.
 */
export async function emit(
  data: string,
  outFile: string | undefined,
  options: { mode?: number | undefined } = {},
): Promise<void> {
  if (outFile === undefined || outFile === "-") {
    writeStandardOutput(data);
    return;
  }
  const target = await writableTarget(outFile);
  const temporary = `${target}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(temporary, data, { mode: options.mode ?? 0o644, flag: "wx" });
    // The umask may have taken bits off a mode that was asked for.
    if (options.mode !== undefined) await chmod(temporary, options.mode);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw outputError(
      `cannot write ${outFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; check that its directory exists and is writable`,
    );
  }
}

/** The path to rename onto: the file at the end of any symlinks, which must be regular or absent. */
async function writableTarget(outFile: string): Promise<string> {
  let path = resolve(outFile);
  for (let links = 0; ; links++) {
    const stats = await lstat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw outputError(`cannot write ${outFile}: ${error.code ?? error.message}`);
    });
    if (stats === undefined || stats.isFile()) return path;
    if (stats.isSymbolicLink()) {
      if (links === MAX_LINKS)
        throw outputError(`cannot write ${outFile}: too many levels of symbolic links`);
      path = resolve(dirname(path), await readlink(path));
      continue;
    }
    const kind = stats.isDirectory()
      ? "a directory"
      : stats.isFIFO()
        ? "a FIFO"
        : stats.isSocket()
          ? "a socket"
          : stats.isCharacterDevice() || stats.isBlockDevice()
            ? "a device node"
            : "not a regular file";
    const where = path === resolve(outFile) ? "" : ` (through a symlink, ${path})`;
    throw outputError(
      `--out ${outFile} is ${kind}${where}; give the path of a regular file, or leave --out out to write to standard output`,
    );
  }
}

function outputError(message: string): CliError {
  return new CliError("ERR_OUTPUT_UNWRITABLE", message);
}
