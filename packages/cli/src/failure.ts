import { writeSync } from "node:fs";
import { type Fault, IrsaAnywhereError } from "@irsa-anywhere/errors";
import { EXIT_FAILURE, EXIT_USAGE } from "./exit-codes.js";
import { paint } from "./terminal.js";

let jsonFailures = false;

/** With `--log-format json`, a failure is one JSON line too, so that a job's log collector can read it. */
export function reportFailuresAsJson(): void {
  jsonFailures = true;
}

/** One line on stderr and the exit code; the CLI's entry points are the only callers of exit. */
export function failWith(message: string, code: number): never {
  if (jsonFailures) {
    const entry = {
      time: new Date().toISOString(),
      level: "error",
      action: "failed",
      message,
      exitCode: code,
    };
    process.stderr.write(`${JSON.stringify(entry)}\n`);
  } else {
    process.stderr.write(`${paint(process.stderr, 31, "irsa-anywhere:")} ${message}\n`);
  }
  process.exit(code);
}

/** The one place a fault becomes an exit code (README.md, "Exit codes"). */
const exitCodes: Readonly<Record<Fault, number>> = {
  input: EXIT_USAGE,
  environment: EXIT_FAILURE,
};

/**
 * The exit code of an error of our packages, by whose fault it is; `undefined` for anything
 * else, which is a bug.
 */
export function exitCodeFor(error: unknown): number | undefined {
  return error instanceof IrsaAnywhereError ? exitCodes[error.fault] : undefined;
}

/**
 * Errors of our packages get their one line and the exit code {@link exitCodeFor} gives them.
 * Anything else is a bug and shows in full.
 */
export function reportError(error: unknown): never {
  const exitCode = exitCodeFor(error);
  if (exitCode !== undefined) failWith((error as Error).message, exitCode);
  process.stderr.write(`irsa-anywhere: unexpected error, please report it:\n`);
  console.error(error);
  process.exit(EXIT_FAILURE);
}

/**
 * Standard output that cannot be written (a full disk, a reader that went away) is a run-time
 * failure with one line, not an unhandled stream error with a stack trace.
 */
export function reportOutputErrors(): void {
  process.stdout.on("error", failedOutput);
}

function failedOutput(error: NodeJS.ErrnoException): never {
  // A reader that stopped reading (| head) has what it wanted; nothing to tell it.
  if (error.code === "EPIPE") process.exit(EXIT_FAILURE);
  failWith(`cannot write to standard output: ${error.code ?? error.message}`, EXIT_FAILURE);
}

/**
 * Writes a command's data to standard output with synchronous writes, as process.stdout does on
 * Linux, but without the stream: creating process.stdout loads Node's stream modules (and net and
 * tty for a pipe or a terminal), a few ms of a cold start of `keys` (bench/cold-start.mjs). A
 * failed write ends the run as {@link reportOutputErrors} says; what a non-blocking descriptor
 * cannot take at once (EAGAIN) goes through the stream, which waits for it.
 */
export function writeStandardOutput(data: string): void {
  const bytes = Buffer.from(data);
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(1, bytes, written);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EAGAIN") failedOutput(error as NodeJS.ErrnoException);
    if (process.stdout.listenerCount("error") === 0) reportOutputErrors();
    process.stdout.write(bytes.subarray(written));
  }
}
