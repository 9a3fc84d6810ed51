// What the bin requires (dist/bundle/irsa-anywhere.cjs): it runs the entry point's bundle
// (dist/bundle/start.cjs, from start.ts) and the chunks that requires, with V8's code cache, so
// that a cold start does not parse and compile them again (scripts/bundle-cli.mjs). Node 20 has no
// compile cache of its own (module.enableCompileCache came in Node 22).
//
// The cache never changes what runs. A cache file holds the exact bytes of the bundle it was made
// from, a header (the Node version and platform that made it, and a checksum of what follows), then
// V8's data; it is used only while the bundle holds those same bytes, for the same Node, and while
// the data matches its checksum. V8 itself checks little more than its own version and flags, and
// every Node 20 release has the same V8: data damaged on disk, or made by another Node 20, could
// otherwise crash every run (V8 aborts on data it cannot make sense of), and a crashed run never
// writes a fresh cache. Missing, stale, refused or unreadable, the bundle is compiled from its
// source as it would be anyway, and the cache is written afresh as the process exits: to a new file
// renamed into place, so that a reader never sees half of one, and not at all where the bundle's
// directory is not writable (a read-only npm install).
//
// Code V8 restores from a cache loses its dynamic import() on Node 20, so the bundler renames each
// import() of the bundles to Import(), given here, which imports from this file: the same folder,
// so every specifier resolves as it did. A bundle that still holds "import(" is required as usual.
//
// Arguments that may ask for a help page or --version (src/build-time-answers.ts) run without a
// cache, neither reading nor writing one: checking it needs node:crypto, which costs them more
// (about 4 ms, with the stream modules it loads) than compiling the little code they run.
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Script } from "node:vm";
import { mayHaveBuildTimeAnswer } from "./build-time-answers.js";

/** The parameters of the function a bundle's code runs in: Node's CommonJS wrapper's, and Import. */
const WRAPPER_HEAD = "(function (exports, require, module, __filename, __dirname, Import) {\n";
const WRAPPER_TAIL = "\n})";

type Require = (specifier: string) => unknown;
/** Node's Module class, as this file's own module holds it: node:module is not loaded at start. */
const Module = module.constructor as typeof import("node:module").Module;

const bundleDirectory = __dirname;
const withCache = !mayHaveBuildTimeAnswer(process.argv.slice(2));

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
  const cachedData = withCache ? cachedDataFor(source, cacheFile) : undefined;
  const script = new Script(`${WRAPPER_HEAD}${source.toString("utf8")}${WRAPPER_TAIL}`, {
    filename: file,
    // The wrapper's line: positions in stack traces stay those of the file (though Node's
    // --enable-source-maps does not map code compiled here back to the TypeScript).
    lineOffset: -1,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  if (withCache && (cachedData === undefined || script.cachedDataRejected === true)) {
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

/** What follows a bundle's bytes in its cache file: who made the data (48 bytes), and its SHA-256. */
const MADE_BY_BYTES = 48;
const HEADER_BYTES = MADE_BY_BYTES + 32;
const MADE_BY = `irsa-anywhere code cache 1 ${process.version} ${process.platform}-${process.arch}`;

function header(data: Uint8Array): Buffer {
  const made = Buffer.alloc(HEADER_BYTES, " ");
  made.write(MADE_BY.slice(0, MADE_BY_BYTES), "latin1");
  // A hash to tell data damaged on disk from what was written (not a defence against anyone:
  // whoever can write the cache can write the bundle). Native, so a third of a megabyte costs well
  // under a millisecond, where a checksum loop in JavaScript cost 3 ms of a start.
  // Required here, not at the top: a help page never gets this far, and never loads it.
  const { createHash } = require("node:crypto") as typeof import("node:crypto");
  createHash("sha256").update(data).digest().copy(made, MADE_BY_BYTES);
  return made;
}

/** V8's data from `cacheFile`, if the file was made from exactly `source`, by this Node, and is whole. */
function cachedDataFor(source: Buffer, cacheFile: string): Buffer | undefined {
  let cache: Buffer;
  try {
    cache = readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  const dataStart = source.length + HEADER_BYTES;
  if (cache.length <= dataStart || !cache.subarray(0, source.length).equals(source)) return undefined;
  const data = cache.subarray(dataStart);
  return cache.subarray(source.length, dataStart).equals(header(data)) ? data : undefined;
}

function writeCache(cacheFile: string, source: Buffer, script: Script): void {
  // The pid alone could be taken for good by a file a killed run left (a container's pid 1).
  const temporary = `${cacheFile}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  let fd: number;
  try {
    // First, so that a folder nobody may write to costs no serialising.
    fd = openSync(temporary, "wx", 0o644);
  } catch {
    return;
  }
  try {
    try {
      const data = script.createCachedData();
      writeAll(fd, source);
      writeAll(fd, header(data));
      writeAll(fd, data);
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
