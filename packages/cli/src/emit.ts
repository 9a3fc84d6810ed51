import { randomBytes } from "node:crypto";
import { rename as renameCallback, rm as rmCallback, writeFile as writeFileCallback } from "node:fs";
import { promisify } from "node:util";

// node:fs, not node:fs/promises: loading the latter costs `keys` 3 ms of a 40 ms cold start.
const writeFile = promisify(writeFileCallback);
const rename = promisify(renameCallback);
const rm = promisify(rmCallback);

/** Writes the command's data to stdout, or atomically to a file (write, then rename). */
export async function emit(data: string, outFile: string | undefined): Promise<void> {
  if (outFile === undefined || outFile === "-") {
    process.stdout.write(data);
    return;
  }
  const temporary = `${outFile}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(temporary, data, { mode: 0o644 });
    await rename(temporary, outFile);
  } catch (error) {
    await rm(temporary, { force: true });
    throw Object.assign(
      new Error(
        `cannot write ${outFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; check that its directory exists and is writable`,
      ),
      {
        code: "ERR_OUTPUT_UNWRITABLE",
        isInputError: true,
      },
    );
  }
}
