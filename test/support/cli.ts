// Runs the built CLI as a user would: a separate process, real arguments, real exit codes.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The bin shim, which runs the entry point's bundle ({@link cliEntryBundlePath}), as a user runs it. */
export const cliPath = fileURLToPath(new URL("../../packages/cli/bin/irsa-anywhere.cjs", import.meta.url));
/** The entry point's bundle: missing until `pnpm run build`. */
export const cliEntryBundlePath = fileURLToPath(
  new URL("../../packages/cli/dist/bundle/irsa-anywhere.cjs", import.meta.url),
);
/** The full command line (yargs) alone, without the entry point's quick paths. */
export const fullCommandLinePath = fileURLToPath(
  new URL("../../packages/cli/dist/bundle/main.js", import.meta.url),
);

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: readonly string[],
  options: {
    input?: string;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    /** Start from an empty environment (only PATH) instead of this process's, so that no KUBECONFIG, AWS_PROFILE or HOME of the machine leaks in. */
    isolated?: boolean;
    /** The script to run instead of the bin; for example {@link fullCommandLinePath}. */
    entry?: string;
    /** Node options placed before the script, such as `--import` of a preload. */
    nodeOptions?: readonly string[];
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...(options.nodeOptions ?? []), options.entry ?? cliPath, ...args],
      {
        cwd: options.cwd,
        env: {
          ...(options.isolated ? { PATH: process.env.PATH } : process.env),
          NO_COLOR: "1",
          ...options.env,
        },
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}
