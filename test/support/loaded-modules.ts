// Which modules a Node process loads: a preload registers a module resolve hook that appends
// every URL it resolves to a file (hooks run on their own thread in Node 20, hence the file), and
// adds require.cache at exit for CommonJS required from CommonJS, which the hooks do not see.
// Used by the tests (runCliWatchingModules) and by bench/cold-start.mjs.
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type CliResult, runCli } from "./cli.js";

const resolveHook = `
import { appendFileSync } from "node:fs";
let logFile;
export function initialize(data) { logFile = data.logFile; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(logFile, result.url + "\\n");
  return result;
}
`;

const preload = (hooksUrl: string, logFile: string) => `
import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";
import { pathToFileURL } from "node:url";
register(${JSON.stringify(hooksUrl)}, { data: { logFile: ${JSON.stringify(logFile)} } });
const require = createRequire(import.meta.url);
process.on("exit", () => {
  const paths = Object.keys(require.cache).map((path) => pathToFileURL(path).href);
  appendFileSync(${JSON.stringify(logFile)}, paths.map((url) => url + "\\n").join(""));
});
`;

/**
 * Writes the hook and the preload into dir (which must exist and be private to this watch) and
 * returns the Node options that load them and a function that reads what was loaded so far.
 */
export function watchLoadedModules(dir: string): { nodeOptions: string[]; loaded: () => string[] } {
  const hooksFile = join(dir, "resolve-hook.mjs");
  const preloadFile = join(dir, "preload.mjs");
  const logFile = join(dir, "loaded-modules.txt");
  writeFileSync(hooksFile, resolveHook);
  writeFileSync(preloadFile, preload(pathToFileURL(hooksFile).href, logFile));
  writeFileSync(logFile, "");
  return {
    nodeOptions: ["--import", pathToFileURL(preloadFile).href],
    loaded: () => readFileSync(logFile, "utf8").split("\n").filter(Boolean),
  };
}

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
