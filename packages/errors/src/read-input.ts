import { constants } from "node:fs";
import { close, fstat, open, read } from "./fs-async.js";
import { InputError } from "./input-error.js";

/**
 * The most each kind of input may hold. Each is far above any real input of its kind, and low
 * enough that refusing a bigger one costs neither memory nor time.
 */
export const INPUT_LIMITS = {
  /** PEM keys or certificates (`--key`, `--next-key`, TLS files, a CA file): a CA bundle of a whole OS is about 250 KiB. */
  pem: 1024 * 1024,
  /** A Secret manifest (`--secret-file`): Kubernetes caps a secret at 1 MiB; -o json adds base64 and metadata. */
  manifest: 4 * 1024 * 1024,
  /** A published document or state file read back (keys.json holds at most 100 keys of ~1 KiB). */
  document: 1024 * 1024,
  /** A kubeconfig: a few KiB per cluster, even with certificates embedded. */
  kubeconfig: 4 * 1024 * 1024,
} as const;

export interface ReadInputOptions {
  /** The most bytes the input may hold, e.g. `INPUT_LIMITS.pem`. */
  maxBytes: number;
  /** What the input is, for messages: "--key", "the TLS certificate". */
  what: string;
  /** Standard input, read when the file is `-`; without it, `-` is a file name. */
  stdin?: AsyncIterable<Uint8Array> | undefined;
}

/**
 * Reads a user's input file as UTF-8 text, within a size cap, and only from a regular file (or
 * standard input as `-`): a FIFO with no writer, `/dev/zero` or a directory is refused at once
 * instead of blocking for ever or filling memory.
 *
 * @throws {InputError} `ERR_INPUT_UNREADABLE` (no such file, no permission, not a regular file) or
 *   `ERR_INPUT_TOO_LARGE`.
 *
 * @example
 * const pem = await readInput("sa.pub", { maxBytes: INPUT_LIMITS.pem, what: "--key" });
 */
export async function readInput(file: string, options: ReadInputOptions): Promise<string> {
  if (file === "-" && options.stdin !== undefined) return readStream(options.stdin, options);
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, for ever. The
    // type is then checked on what was opened, so no rename in between can swap the file.
    fd = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    throw unreadable(file, options, error);
  }
  try {
    const stats = await fstat(fd);
    if (!stats.isFile()) {
      const kind = stats.isDirectory()
        ? "a directory"
        : stats.isFIFO()
          ? "a named pipe"
          : stats.isCharacterDevice() || stats.isBlockDevice()
            ? "a device"
            : stats.isSocket()
              ? "a socket"
              : "not a regular file";
      throw new InputError(
        "ERR_INPUT_UNREADABLE",
        `cannot read ${options.what} ${file}: it is ${kind}; give a regular file, or - for standard input`,
      );
    }
    if (stats.size > options.maxBytes) throw tooLarge(file, options);
    // The size can change after fstat: read at most one byte past the cap, never more.
    const buffer = Buffer.alloc(Math.min(stats.size, options.maxBytes) + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await read(fd, buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > options.maxBytes) throw tooLarge(file, options);
    return buffer.toString("utf8", 0, length);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw unreadable(file, options, error);
  } finally {
    await close(fd).catch(() => undefined);
  }
}

async function readStream(stream: AsyncIterable<Uint8Array>, options: ReadInputOptions): Promise<string> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of stream) {
    length += chunk.length;
    // Refused as soon as the cap is passed; the rest of the stream is never read.
    if (length > options.maxBytes) throw tooLarge("-", options);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, length).toString("utf8");
}

function displayName(file: string): string {
  return file === "-" ? "standard input" : file;
}

function tooLarge(file: string, options: ReadInputOptions): InputError {
  return new InputError(
    "ERR_INPUT_TOO_LARGE",
    `${options.what} ${displayName(file)} is larger than ${formatBytes(options.maxBytes)}, more than any real one; check that it is the right file`,
  );
}

function unreadable(file: string, options: ReadInputOptions, error: unknown): InputError {
  const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  const hint =
    reason === "ENOENT"
      ? "ENOENT (no such file); check the path"
      : reason === "EACCES"
        ? "EACCES (permission denied)"
        : reason;
  return new InputError("ERR_INPUT_UNREADABLE", `cannot read ${options.what} ${displayName(file)}: ${hint}`, {
    cause: error,
  });
}

function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}
