// Bundles the CLI into one file. Node spends most of a cold start resolving and compiling
// modules, so one file starts about twice as fast as the same code spread over a hundred.
// The AWS SDK, the Kubernetes client and the YAML parser stay external: they are imported
// only by the commands and inputs that need them.
import { readFileSync, rmSync } from "node:fs";
import { build } from "esbuild";

// Chunk names carry content hashes: clear the old ones so that stale chunks never pile up.
rmSync("packages/cli/dist/bundle", { recursive: true, force: true });

const { version } = JSON.parse(readFileSync("packages/cli/package.json", "utf8"));

await build({
  entryPoints: { "irsa-anywhere": "packages/cli/dist/main.js" },
  outdir: "packages/cli/dist/bundle",
  // Each command's code (and the libraries only it uses) goes in a chunk of its own, loaded by
  // the command's dynamic import: a quick command never parses the code of a heavy one.
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20.19",
  external: ["@aws-sdk/*", "@kubernetes/client-node", "yaml"],
  define: { IRSA_ANYWHERE_VERSION: JSON.stringify(version) },
  minify: true,
  sourcemap: true,
  logLevel: "warning",
});
