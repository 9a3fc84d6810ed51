// What the bin requires (dist/bundle/irsa-anywhere.cjs): it runs the entry point's bundle
// (dist/bundle/start.cjs, from start.ts) and the chunks that requires, with V8's code cache, so
// that a cold start does not parse and compile them again (scripts/bundle-cli.mjs). Node 20 has no
// compile cache of its own (module.enableCompileCache came in Node 22).
//
// The cache never changes what runs. A cache file holds the exact bytes of the bundle it was made
// from, followed by V8's data, and is used only while the bundle holds those same bytes; V8 itself
// refuses data of another Node version or other V8 flags. Missing, stale, refused or unreadable, the
// bundle is compiled from its source as it would be anyway, and the cache is written afresh as the
// process exits: to a new file renamed into place, so that a reader never sees half of one, and not
// at all where the bundle's directory is not writable (a read-only npm install).
//
// Code V8 restores from a cache loses its dynamic import() on Node 20, so the bundler renames each
// import() of the bundles to Import(), given here, which imports from this file: the same folder,
// so every specifier resolves as it did. A bundle that still holds "import(" is required as usual.
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Script } from "node:vm";

/** The parameters of the function a bundle's code runs in: Node's CommonJS wrapper's, and Import. */
const WRAPPER_HEAD = "(function (exports, require, module, __filename, __dirname, Import) {\n";
const WRAPPER_TAIL = "\n})";

type Require = (specifier: string) => unknown;
/** Node's Module class, as this file's own module holds it: node:module is not loaded at start. */
const Module = module.constructor as typeof import("node:module").Module;

const bundleDirectory = __dirname;

/**
 * The module.exports of the bundle `name` (e.g. "start.cjs") of this folder, run once. Its
 * require() of another bundle of this folder ("./publish-directory.cjs") comes back here. Each is
 * kept in require.cache, as if required, so that whoever looks there sees what was loaded.
 */
function requireBundle(name: string): unknown {
  const file = join(bundleDirectory, name);
  const loaded = require.cache[file];
  if (loaded !== undefined) return loaded.exports;
  const source = readFileSync(file);
  // A bundle built without that renaming runs as Node runs any file: right, if not faster.
  if (source.includes("import(")) return (require as Require)(file);
  const cacheFile = `${file}.cache`;
  const cachedData = cachedDataFor(source, cacheFile);
  const script = new Script(`${WRAPPER_HEAD}${source.toString("utf8")}${WRAPPER_TAIL}`, {
    filename: file,
    // The wrapper's line: positions in stack traces and source maps stay those of the file.
    lineOffset: -1,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  if (cachedData === undefined || script.cachedDataRejected === true) {
    // At exit, so that the cache holds the functions this run compiled, not only the top level.
    process.once("exit", () => writeCache(cacheFile, source, script));
  }
  const bundle = new Module(file, module);
  bundle.filename = file;
  require.cache[file] = bundle;
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run(bundle.exports, requireFromBundle, bundle, file, bundleDirectory, importFromBundle);
  bundle.loaded = true;
  return bundle.exports;
}

function requireFromBundle(specifier: string): unknown {
  const bundle = /^\.\/([^/]+\.cjs)$/.exec(specifier);
  return bundle === null ? (require as Require)(specifier) : requireBundle(bundle[1] as string);
}

function importFromBundle(specifier: string): Promise<unknown> {
  return import(specifier);
}

/** V8's data from `cacheFile`, if the file was made from exactly `source`. */
function cachedDataFor(source: Buffer, cacheFile: string): Buffer | undefined {
  let cache: Buffer;
  try {
    cache = readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  if (cache.length <= source.length || !cache.subarray(0, source.length).equals(source)) return undefined;
  return cache.subarray(source.length);
}

function writeCache(cacheFile: string, source: Buffer, script: Script): void {
  const temporary = `${cacheFile}.${process.pid}.tmp`;
  let fd: number;
  try {
    // First, so that a folder nobody may write to costs no serialising.
    fd = openSync(temporary, "wx", 0o644);
  } catch {
    return;
  }
  try {
    try {
      writeAll(fd, source);
      writeAll(fd, script.createCachedData());
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, cacheFile);
  } catch {
    try {
      unlinkSync(temporary);
    } catch {
      // Gone already, or not ours to remove: the next run writes its own.
    }
  }
}

function writeAll(fd: number, data: Uint8Array): void {
  for (let written = 0; written < data.length; ) written += writeSync(fd, data, written);
}

requireBundle("start.cjs");
