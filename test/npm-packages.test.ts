// Every package as npm would publish it: scripts/pack.mjs packs them all once (pnpm pack, which
// turns workspace:* and catalog: into versions), and the tarballs alone are installed into empty
// folders, as a user installs them. The CLI then runs from there, its AWS SDK against moto and its
// Kubernetes client against the API test server, and every package's README example type-checks
// against the published .d.ts files. npm takes the public dependencies from its cache when it can
// (--prefer-offline); our own packages come from the tarballs only.
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, delimiter, dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";
import { type InstalledCliTargets, startInstalledCliTargets } from "./support/installed-cli.js";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
const packageDirs = readdirSync(join(root, "packages"));
const rootLicense = readFileSync(join(root, "LICENSE"), "utf8");
const npmInstall = ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"];

interface PackageJson {
  name: string;
  version: string;
  description?: string;
  license?: string;
  repository?: { type: string; url: string; directory: string };
  engines?: { node: string };
  files?: string[];
  bin?: Record<string, string>;
  exports?: Record<string, { types: string; default: string }>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

interface Packed {
  /** The folder under packages/. */
  dir: string;
  tarball: string;
  /** Where the tarball was unpacked: its `package/` folder. */
  unpacked: string;
  files: string[];
  manifest: PackageJson;
}

let work: string;
let packed: Packed[];
let targets: InstalledCliTargets;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "irsa-npm-packages-"));
  targets = await startInstalledCliTargets();
  // The current build, as other tests read it meanwhile; pack.mjs refuses one with stale files.
  const { stdout } = await run(process.execPath, [
    join(root, "scripts", "pack.mjs"),
    "--no-clean",
    "--out",
    join(work, "tarballs"),
  ]);
  packed = await Promise.all(
    stdout
      .trim()
      .split("\n")
      .map(async (tarball) => {
        const unpacked = join(work, "unpacked", basename(tarball, ".tgz"));
        await mkdir(unpacked, { recursive: true });
        await run("tar", ["-xzf", tarball, "-C", unpacked]);
        const packageDir = join(unpacked, "package");
        const files = (
          readdirSync(packageDir, { recursive: true, withFileTypes: true }) as import("node:fs").Dirent[]
        )
          .filter((entry) => entry.isFile())
          .map((entry) => join(entry.parentPath, entry.name).slice(packageDir.length + 1));
        const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as PackageJson;
        const dir = packageDirs.find(
          (name) =>
            JSON.parse(readFileSync(join(root, "packages", name, "package.json"), "utf8")).name ===
            manifest.name,
        );
        if (!dir) throw new Error(`no package under packages/ is named ${manifest.name}`);
        return { dir, tarball, unpacked: packageDir, files, manifest };
      }),
  );
}, 120_000);
afterAll(async () => {
  await targets?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const tarballOf = (name: string) => {
  const found = packed.find((p) => p.manifest.name === name);
  if (!found) throw new Error(`no tarball of ${name}`);
  return found.tarball;
};

describe("each package, packed", () => {
  it("is every package under packages/, and the CLI is named irsa-anywhere (npm install -g irsa-anywhere)", () => {
    expect(packed.map((p) => p.dir).sort()).toEqual([...packageDirs].sort());
    expect(packed.find((p) => p.dir === "cli")?.manifest.name).toBe("irsa-anywhere");
  });

  it.each(packageDirs)("%s carries what a registry and a user need", (dir) => {
    const { manifest, files } = packed.find((p) => p.dir === dir) as Packed;
    expect(manifest).toMatchObject({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      description: expect.any(String),
      license: "Apache-2.0",
      engines: { node: ">=20.19" },
      repository: {
        type: "git",
        url: expect.stringMatching(/^git\+https:\/\//),
        directory: `packages/${dir}`,
      },
      files: expect.any(Array),
    });
    expect(files).toContain("README.md");
    expect(readFileSync(join(packed.find((p) => p.dir === dir)?.unpacked ?? "", "LICENSE"), "utf8")).toBe(
      rootLicense,
    );
    const entry = manifest.exports?.["."];
    expect(entry && Object.keys(entry)).toEqual(["types", "default"]);
    expect(files).toContain(entry?.types.replace(/^\.\//, ""));
    expect(files).toContain(entry?.default.replace(/^\.\//, ""));
    for (const bin of Object.values(manifest.bin ?? {})) expect(files).toContain(bin.replace(/^\.\//, ""));
    expect(files.filter((file) => /\.test\.|(^|\/)test\//.test(file))).toEqual([]);
  });

  it("ships the CLI's help pages beside its entry point, which answers --help from them", () => {
    const { files } = packed.find((p) => p.dir === "cli") as Packed;
    expect(files).toContain("dist/bundle/answers.json");
  });

  it.each(packageDirs)("%s names only real versions of its dependencies", (dir) => {
    const { manifest } = packed.find((p) => p.dir === dir) as Packed;
    const ranges = [manifest.dependencies, manifest.peerDependencies, manifest.optionalDependencies].flatMap(
      (table) => Object.values(table ?? {}),
    );
    expect(ranges.filter((range) => /^(workspace|catalog):/.test(range))).toEqual([]);
  });

  it.each(packageDirs)("%s ships every source its declaration and source maps point at", (dir) => {
    const { unpacked, files } = packed.find((p) => p.dir === dir) as Packed;
    const maps = files.filter((file) => file.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(0);
    const dangling = maps.flatMap((map) => {
      const { sources, sourcesContent } = JSON.parse(readFileSync(join(unpacked, map), "utf8")) as {
        sources: string[];
        sourcesContent?: Array<string | null>;
      };
      // A bundle's map carries its sources inside it (sourcesContent); a tsc map points at files.
      return sources
        .filter(
          (source, index) =>
            typeof sourcesContent?.[index] !== "string" &&
            !existsSync(resolve(dirname(join(unpacked, map)), source)),
        )
        .map((source) => `${map} -> ${source}`);
    });
    expect(dangling).toEqual([]);
  });
});

describe("the tarballs installed into an empty folder", () => {
  let app: string;
  const bin = () => join(app, "node_modules", ".bin", "irsa-anywhere");
  const cli = (args: string[]) =>
    runCli(args, { entry: bin(), cwd: targets.dir, env: targets.env, isolated: true });

  beforeAll(async () => {
    app = join(work, "app");
    await mkdir(app);
    await writeFile(
      join(app, "package.json"),
      JSON.stringify({ name: "app", private: true, type: "module" }),
    );
    const typescript = (await import("typescript")).version;
    // The Node line of the engines field (@types/node@20), as the catalog pins it. @types/ws for
    // client-node's own .d.ts files (through isomorphic-ws), which name ws's types without
    // depending on them: any user of client-node who checks library types installs it too.
    const types = ["@types/node@20", "@types/ws"];
    await run("npm", [...npmInstall, ...packed.map((p) => p.tarball), `typescript@${typescript}`, ...types], {
      cwd: app,
    });
  }, 300_000);

  it("runs the CLI: --version, keys from a file", async () => {
    const version = await cli(["--version"]);
    expect(version.stdout.trim()).toBe(packed.find((p) => p.dir === "cli")?.manifest.version);
    const keys = await cli(["keys", "--key", "sa.pub"]);
    expect(keys.stderr).toBe("");
    expect(JSON.parse(keys.stdout).keys[0]).toMatchObject({ kty: "RSA", alg: "RS256" });
  });

  it("publishes into a directory through the chunk it ships beside the entry point", async () => {
    const args = [
      "publish",
      "--key",
      "sa.pub",
      "--issuer",
      "https://oidc.example.com/npm",
      "--out-dir",
      "site",
    ];
    const published = await cli([...args, "--json"]);
    expect(published.stderr).toBe("");
    expect(JSON.parse(published.stdout).documents.map((d: { action: string }) => d.action)).toEqual([
      "create",
      "create",
    ]);
  });

  it("loads the Kubernetes client it installed: keys --cluster-jwks", async () => {
    const keys = await cli(["keys", "--cluster-jwks", "--kubeconfig", "kubeconfig"]);
    expect(keys.stderr).toBe("");
    expect(JSON.parse(keys.stdout).keys[0]).toMatchObject({ kty: "RSA", alg: "RS256" });
  });

  it("loads the AWS SDK it installed: publish to S3", async () => {
    const args = ["publish", "--key", "sa.pub", "--bucket", targets.bucket, "--prefix", "npm", "--json"];
    const published = await cli([...args, "--public-read-policy"]);
    expect(published.stderr).toBe("");
    expect(JSON.parse(published.stdout).documents).toHaveLength(2);
  });

  it("imports every library, and each README's example type-checks against the published types", async () => {
    const libraries = packed.filter((p) => p.dir !== "cli");
    await mkdir(join(app, "readme"), { recursive: true });
    for (const { dir, unpacked } of libraries) {
      const readme = readFileSync(join(unpacked, "README.md"), "utf8");
      const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
      expect(example, `${dir}/README.md has a ts example`).toBeDefined();
      await writeFile(join(app, "readme", `${dir}.ts`), `${example}\nexport {};\n`);
    }
    await writeFile(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          types: ["node"],
          strict: true,
          // The published .d.ts files too: they must name nothing that is not installed.
          skipLibCheck: false,
          noEmit: true,
        },
        include: ["readme/*.ts"],
      }),
    );
    // tsc prints its errors on stdout: into the failure, where they explain it.
    const typeCheck = await run(join(app, "node_modules", ".bin", "tsc"), ["-p", "."], { cwd: app }).catch(
      (error: { stdout: string }) => error,
    );
    expect(typeCheck.stdout).toBe("");

    const imports = libraries.map(
      ({ manifest }) =>
        `console.log(${JSON.stringify(manifest.name)}, Object.keys(await import(${JSON.stringify(manifest.name)})).length);`,
    );
    await writeFile(join(app, "imports.mjs"), imports.join("\n"));
    const { stdout } = await run(process.execPath, ["imports.mjs"], { cwd: app });
    for (const { manifest } of libraries) expect(stdout).toMatch(new RegExp(`^${manifest.name} [1-9]`, "m"));

    // The keys README's example, as it stands (it has no types to strip), on the key in targets.dir.
    await writeFile(join(app, "keys-example.mjs"), readFileSync(join(app, "readme", "keys.ts"), "utf8"));
    const example = await run(process.execPath, [join(app, "keys-example.mjs")], { cwd: targets.dir });
    expect(JSON.parse(example.stdout).keys[0]).toMatchObject({ kty: "RSA" });
  }, 120_000);
});

describe("the README's install lines", () => {
  it("name the CLI's package and the tarball scripts/pack.mjs writes by default", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    expect(readme).toContain("npm install -g irsa-anywhere");
    expect(readme).toContain(`npm install -g dist/packages/${basename(tarballOf("irsa-anywhere"))}`);
    expect(readFileSync(join(root, "scripts", "pack.mjs"), "utf8")).toContain(
      'join(root, "dist", "packages")',
    );
  });
});

describe("npm install -g of the CLI's tarball alone", () => {
  it("puts a working irsa-anywhere on PATH (the CLI carries its own packages inside its bundle)", async () => {
    const prefix = join(work, "global");
    await run("npm", [...npmInstall, "--global", "--prefix", prefix, tarballOf("irsa-anywhere")]);
    const path = [join(prefix, "bin"), process.env.PATH].join(delimiter);
    const version = await run("irsa-anywhere", ["--version"], { env: { PATH: path } });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const keys = await run("irsa-anywhere", ["keys", "--cluster-jwks", "--kubeconfig", "kubeconfig"], {
      cwd: targets.dir,
      env: { PATH: path, HOME: targets.dir },
    });
    expect(JSON.parse(keys.stdout).keys[0]).toMatchObject({ kty: "RSA" });
  }, 300_000);
});

describe("@irsa-anywhere/keys installed alone", () => {
  it("turns a PEM into a JWKS with no Kubernetes client and no AWS SDK installed", async () => {
    const alone = join(work, "keys-alone");
    await mkdir(alone);
    await writeFile(
      join(alone, "package.json"),
      JSON.stringify({ name: "alone", private: true, type: "module" }),
    );
    await run("npm", [...npmInstall, tarballOf("@irsa-anywhere/errors"), tarballOf("@irsa-anywhere/keys")], {
      cwd: alone,
    });
    const program = `import { buildJwks, publicKeysFromPem, serializeJwks } from "@irsa-anywhere/keys";
import { readFileSync } from "node:fs";
process.stdout.write(serializeJwks(buildJwks(publicKeysFromPem(readFileSync(process.argv[2], "utf8"), "sa.pub"))));
`;
    await writeFile(join(alone, "main.mjs"), program);
    const { stdout } = await run(process.execPath, ["main.mjs", join(targets.dir, "sa.pub")], { cwd: alone });
    expect(JSON.parse(stdout).keys[0]).toMatchObject({ kty: "RSA", alg: "RS256" });

    const modules = join(alone, "node_modules");
    expect(existsSync(join(modules, "@irsa-anywhere", "keys"))).toBe(true);
    expect(existsSync(join(modules, "@kubernetes", "client-node"))).toBe(false);
    expect(existsSync(join(modules, "@irsa-anywhere", "kube"))).toBe(false);
    expect(existsSync(join(modules, "@aws-sdk"))).toBe(false);
  }, 300_000);
});
