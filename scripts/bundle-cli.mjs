// Bundles the CLI. Node spends most of a cold start resolving and compiling modules, so one file
// starts about twice as fast as the same code spread over a hundred. These builds make the npm
// package:
//
// - dist/bundle/main.js, the full command line (yargs) and every command (src/commands/), with the
//   packages a command needs in chunks of their own, loaded by its handler's dynamic import: a quick
//   command never parses a heavy one.
// - dist/bundle/start.cjs, the entry point: the help pages and --version as main.js
//   printed them at build time (src/build-time-answers.ts; kept in dist/bundle/answers.json and
//   read only for arguments of their shape), the everyday forms of `keys` and `discovery`
//   (src/plain-commands.ts) and the code they need, in one file with no chunks, since each
//   further module costs a cold start a millisecond or two. Everything else it hands to main.js.
//   It is CommonJS, the one exception to ESM in this project: an ES module as the entry point
//   makes Node start its module loader, about 6 ms, a seventh of bare Node's whole start-up and
//   the difference between `keys` meeting its cold-start goal or not (bench/cold-start.mjs).
//   The packages it bundles stay ESM; only this artifact is CommonJS.
// - dist/bundle/publish-directory.cjs, `publish --out-dir` for the entry point (src/publish-directory.ts):
//   the publisher and the code it needs, minus the AWS SDK, in one CommonJS file the entry point
//   requires only for that command, so that `keys` never parses it. It repeats the few packages
//   the entry point holds too (errors, keys); a second file sharing them would cost every run of
//   `keys` a module load.
// - dist/bundle/publish-bucket.cjs, `publish --bucket` for the entry point (src/publish-bucket.ts):
//   the same for a bucket, with the code for S3, CloudFront and IAM, the AWS SDK required by name.
// - dist/bundle/irsa-anywhere.cjs, what the bin requires (src/code-cache.ts): it runs start.cjs and
//   the chunks with V8's code cache, kept beside them, which saves compiling them on each start.
//
// The AWS SDK, the Kubernetes client and the YAML parser stay external: they are imported only by
// the commands and inputs that need them.
//
// A third build, not in the npm package, is for hosts with no npm and no network (air-gapped
// admin hosts): the standalone file, dist/standalone/irsa-anywhere.cjs, the same entry point with
// everything inside it, the full command line, the AWS SDK, the Kubernetes client and YAML
// included; `node irsa-anywhere.cjs` runs it from any folder (the npm package installs those
// dependencies instead), with the help pages inside it too. Its size is printed here and stated in
// the README.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { build } from "esbuild";

const standalonePath = "packages/cli/dist/standalone/irsa-anywhere.cjs";

/**
 * An ES module loads a CommonJS one synchronously with `createRequire(import.meta.url)(name)`
 * (packages/iam's partition data does), or, for the AWS SDK, with
 * `loadAwsSdk(import.meta.url, name)` (packages/iam's aws-sdk.ts). esbuild follows neither call,
 * and in CommonJS output `import.meta` is empty; but there the module's own `require` is the same
 * function, and a call esbuild follows, so the dependency lands inside the file. A call to
 * loadAwsSdk whose name is not a string literal would load nothing here: the build stops on it.
 */
const requireInCommonJs = {
  name: "require-in-commonjs",
  setup(build) {
    build.onLoad({ filter: /[\\/]packages[\\/][^\\/]+[\\/]dist[\\/].+\.js$/ }, async ({ path }) => {
      const contents = (await readFile(path, "utf8"))
        .replace(/\bcreateRequire\(import\.meta\.url\)\(/g, "require(")
        .replace(/\bloadAwsSdk\(\s*import\.meta\.url\s*,\s*("@aws-sdk\/[a-z0-9-]+")\s*\)/g, "require($1)");
      if (/\bloadAwsSdk\(\s*import\.meta\.url/.test(contents)) {
        throw new Error(
          `${path}: loadAwsSdk(import.meta.url, ...) with a name that is not a literal "@aws-sdk/..." string`,
        );
      }
      return { contents, loader: "js" };
    });
  },
};

/**
 * A dependency's own source map points at sources its npm package does not ship (kubernetes-models'
 * src/*.ts): esbuild would chain to them and leave the bundle's map naming files nobody has.
 * Without the comment, the map holds the dependency's JavaScript itself, which it carries inside.
 */
const dependencyCodeAsItsOwnSource = {
  name: "dependency-code-as-its-own-source",
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/].+\.[cm]?js$/ }, async ({ path }) => ({
      contents: (await readFile(path, "utf8")).replace(/^\/\/# sourceMappingURL=.*$/gm, ""),
      loader: "js",
    }));
  },
};

/**
 * For the bundles src/code-cache.ts runs: each import() becomes Import(), the function it hands
 * them, since code V8 restores from its cache loses import() on Node 20. Same length, so that the
 * source map still points where it did; the build stops if the name is taken already.
 */
const importThroughCodeCache = {
  name: "import-through-code-cache",
  setup(build) {
    build.initialOptions.metafile = true;
    build.onEnd(async (result) => {
      if (result.errors.length > 0) return;
      const file = build.initialOptions.outfile;
      const code = await readFile(file, "utf8");
      if (/(?<![\w$.])Import(?![\w$])/.test(code)) throw new Error(`${file} uses the name Import already`);
      // As many as esbuild left in, so that no "import(" in a string is taken for one.
      const imports = Object.values(result.metafile.outputs)
        .flatMap((output) => output.imports)
        .filter((record) => record.kind === "dynamic-import" && record.external).length;
      const rewritten = code.replace(/(?<![\w$.])import\(/g, "Import(");
      const count = rewritten.split("Import(").length - 1;
      if (count !== imports)
        throw new Error(`${file}: ${count} import( in the code, ${imports} dynamic imports`);
      await writeFile(file, rewritten);
    });
  },
};

// Chunk names carry content hashes: clear the old ones so that stale chunks never pile up.
rmSync("packages/cli/dist/bundle", { recursive: true, force: true });
rmSync("packages/cli/dist/standalone", { recursive: true, force: true });

const { version } = JSON.parse(readFileSync("packages/cli/package.json", "utf8"));

const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20.19",
  external: ["@aws-sdk/*", "@kubernetes/client-node", "yaml"],
  define: { IRSA_ANYWHERE_VERSION: JSON.stringify(version) },
  minify: true,
  sourcemap: true,
  logLevel: "warning",
};

await build({
  ...common,
  entryPoints: { main: "packages/cli/dist/main.js" },
  outdir: "packages/cli/dist/bundle",
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  // CommonJS dependencies bundled into ES modules (node-forge, for the webhook's certificates)
  // require Node's built-ins; an ES module has no `require` of its own, so each file gets one.
  banner: {
    js: 'import { createRequire as createRequireForBundle } from "node:module"; const require = createRequireForBundle(import.meta.url);',
  },
  plugins: [dependencyCodeAsItsOwnSource],
});

const answers = JSON.stringify(await buildTimeAnswers());
const { BUILD_TIME_ANSWERS_FILE } = await import("../packages/cli/dist/build-time-answers.js");
writeFileSync(`packages/cli/dist/bundle/${BUILD_TIME_ANSWERS_FILE}`, answers);

/** The entry point's requires of src/publish-directory.ts and src/publish-bucket.ts, pointed at their chunks. */
const publishChunks = {
  name: "publish-chunks",
  setup(build) {
    build.onResolve({ filter: /^\.\/publish-(directory|bucket)\.js$/ }, ({ path }) => ({
      path: path.replace(/\.js$/, ".cjs"),
      external: true,
    }));
  },
};

await build({
  ...common,
  entryPoints: ["packages/cli/dist/start.js"],
  outfile: "packages/cli/dist/bundle/start.cjs",
  format: "cjs",
  external: [...common.external, "./main.js"],
  define: { ...common.define, IRSA_ANYWHERE_ANSWERS: "null" },
  plugins: [publishChunks, importThroughCodeCache],
});

for (const chunk of ["publish-directory", "publish-bucket"]) {
  await build({
    ...common,
    entryPoints: [`packages/cli/dist/${chunk}.js`],
    outfile: `packages/cli/dist/bundle/${chunk}.cjs`,
    format: "cjs",
    // The AWS SDK stays external, required by name (publish-directory never loads it).
    plugins: [requireInCommonJs, importThroughCodeCache],
  });
}

// What the bin requires: runs start.cjs and its chunks with V8's code cache (src/code-cache.ts).
await build({
  ...common,
  entryPoints: ["packages/cli/dist/code-cache.js"],
  outfile: "packages/cli/dist/bundle/irsa-anywhere.cjs",
  format: "cjs",
});

await build({
  ...common,
  entryPoints: ["packages/cli/dist/start.js"],
  outfile: standalonePath,
  format: "cjs",
  external: [],
  sourcemap: false,
  define: { ...common.define, IRSA_ANYWHERE_ANSWERS: answers },
  plugins: [requireInCommonJs],
});
const megabytes = (statSync(standalonePath).size / 1024 / 1024).toFixed(1);
console.log(`${standalonePath}: ${megabytes} MB, every dependency inside`);

/**
 * Runs the full command line for `--version` and every help page, and keeps what it printed,
 * keyed by src/build-time-answers.ts's own answerKey. The commands are the ones the top-level help
 * lists, and their own commands those each one's page lists, so a new command gets its page
 * without a change here.
 */
async function buildTimeAnswers() {
  // tsc has compiled it by now (pnpm run build runs tsc -b first).
  const { answerKey, mayHaveBuildTimeAnswer } = await import("../packages/cli/dist/build-time-answers.js");
  const run = (argv) => {
    const result = spawnSync(process.execPath, ["packages/cli/dist/bundle/main.js", ...argv], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    if (result.status !== 0 || result.stderr !== "") {
      throw new Error(`irsa-anywhere ${argv.join(" ")} failed while bundling:\n${result.stderr}`);
    }
    return result.stdout;
  };
  const topHelp = run(["--help"]);
  const commandsSection = topHelp.split("\n\n").find((block) => block.startsWith("Commands:")) ?? "";
  const commands = [...commandsSection.matchAll(/^ {2}irsa-anywhere (\S+)/gm)].map((match) => match[1]);
  if (commands.length === 0) throw new Error("found no commands in the output of irsa-anywhere --help");
  const answers = {};
  for (const argv of [["--version"], ["--help"], ["-h"]]) answers[answerKey(argv)] = run(argv);
  // A command's own commands (the phases of rotate) are listed on its page the same way.
  const forms = commands.map((command) => [command]);
  for (const form of forms) {
    const page = run([...form, "--help"]);
    answers[answerKey([...form, "--help"])] = page;
    answers[answerKey([...form, "-h"])] = page;
    if (form.length > 1) continue;
    const section = page.split("\n\n").find((block) => block.startsWith("Commands:")) ?? "";
    const pattern = new RegExp(`^ {2}irsa-anywhere ${form[0]} (\\S+)`, "gm");
    for (const match of section.matchAll(pattern)) forms.push([form[0], match[1]]);
  }
  // The entry point reads the answers only for arguments of these shapes.
  const unreachable = Object.keys(answers).filter((key) => !mayHaveBuildTimeAnswer(key.split("\0")));
  if (unreachable.length > 0) throw new Error(`answers the entry point would never read: ${unreachable}`);
  return answers;
}
