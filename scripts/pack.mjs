// Packs every package under packages/ into an npm tarball, as it would be published:
//
//   node scripts/pack.mjs [--out DIR] [--no-clean]
//
// By default it starts from a clean build (every dist/ and tsbuildinfo removed, then `pnpm run
// build`): `tsc -b` never deletes the output of a source that is gone, and such a stale file would
// otherwise be shipped. `--no-clean` packs the current build instead (the tests do, since other
// tests read dist/ meanwhile), and refuses one that holds such a file. `pnpm pack` turns each
// `workspace:*` and `catalog:` into a real version. Prints each tarball's path, one a line.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";

const root = resolve(import.meta.dirname, "..");
const { values } = parseArgs({
  options: {
    out: { type: "string", default: join(root, "dist", "packages") },
    "no-clean": { type: "boolean" },
  },
});
const out = resolve(values.out);
const packages = readdirSync(join(root, "packages")).map((name) => join(root, "packages", name));

if (!values["no-clean"]) {
  for (const dir of packages) {
    rmSync(join(dir, "dist"), { recursive: true, force: true });
    rmSync(join(dir, "tsconfig.tsbuildinfo"), { force: true });
  }
  execFileSync("pnpm", ["run", "--silent", "build"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
}

const stale = packages.flatMap((dir) => staleOutputs(dir).map((file) => relative(root, file)));
if (stale.length > 0) {
  process.stderr.write(
    `pack: the build holds output of sources that are gone (${stale.join(", ")}); run node scripts/pack.mjs without --no-clean\n`,
  );
  process.exit(1);
}

mkdirSync(out, { recursive: true });
for (const dir of packages) {
  const before = new Set(readdirSync(out));
  execFileSync("pnpm", ["pack", "--pack-destination", out], {
    cwd: dir,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const made = readdirSync(out).filter((file) => file.endsWith(".tgz") && !before.has(file));
  // A tarball of the same name and version is replaced in place, so it is found by its name.
  const { name, version } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const expected = `${name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`;
  if (!made.includes(expected) && !existsSync(join(out, expected))) {
    throw new Error(`pnpm pack wrote no ${expected} for ${relative(root, dir)}`);
  }
  process.stdout.write(`${join(out, expected)}\n`);
}

/**
 * The files tsc wrote under dist/ whose source under src/ no longer exists. The bundles
 * (scripts/bundle-cli.mjs) are rewritten whole by every build, so they cannot be stale.
 */
function staleOutputs(dir) {
  const dist = join(dir, "dist");
  if (!existsSync(dist)) return [];
  return readdirSync(dist, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => !/^(bundle|standalone)\//.test(relative(dist, file)))
    .filter((file) => {
      const source = relative(dist, file).replace(/\.(js|js\.map|d\.ts|d\.ts\.map)$/, ".ts");
      return !existsSync(join(dir, "src", source));
    });
}
