// Runs the CLI and reports which modules it loaded (see bench/lib/loaded-modules.mjs).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { watchLoadedModules } from "../../bench/lib/loaded-modules.mjs";
import { type CliResult, runCli } from "./cli.js";

/** Runs the CLI as {@link runCli} does and returns, beside its result, the URL of every module it loaded. */
export async function runCliWatchingModules(
  args: readonly string[],
  options: Parameters<typeof runCli>[1] = {},
): Promise<CliResult & { loaded: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), "irsa-modules-"));
  try {
    const watch = watchLoadedModules(dir);
    const result = await runCli(args, {
      ...options,
      nodeOptions: [...watch.nodeOptions, ...(options.nodeOptions ?? [])],
    });
    return { ...result, loaded: watch.loaded() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
