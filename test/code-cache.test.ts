// The entry point runs its bundles with V8's code cache (packages/cli/src/code-cache.ts). A cache
// must only ever make a start faster: missing, made for other bytes, corrupt or impossible to
// write, the CLI prints the same bytes and exits the same way. Each case runs a copy of the built
// bundles, so that changing them here never disturbs the other tests.
import { cpSync, mkdirSync, symlinkSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEntryBundlePath, runCli } from "./support/cli.js";
import { writeKeyFiles } from "./support/keys.js";

const builtBundles = dirname(cliEntryBundlePath);
let dir: string;
let copies = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "irsa-code-cache-"));
  await writeKeyFiles(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh copy of the built bundles, without any cache, that still finds the CLI's dependencies. */
function copyOfBundles(): string {
  const root = join(dir, `copy-${++copies}`);
  const bundles = join(root, "dist", "bundle");
  mkdirSync(root);
  cpSync(builtBundles, bundles, { recursive: true, filter: (path) => !path.endsWith(".cache") });
  symlinkSync(join(builtBundles, "..", "..", "node_modules"), join(root, "node_modules"));
  return bundles;
}

const caches = async (bundles: string) => (await readdir(bundles)).filter((name) => name.includes(".cache"));

const forms = {
  keys: ["keys", "--key", "sa.pub"],
  publish: "publish --key sa.pub --issuer https://oidc.example.com/prod --out-dir SITE --dry-run".split(" "),
  // Not a quick form: handed to the full command line through the bundle's import().
  mistake: ["keys"],
  version: ["--version"],
  help: ["publish", "--help"],
};

async function run(bundles: string, form: keyof typeof forms) {
  const args = forms[form].map((word) => (word === "SITE" ? join(dir, "site") : word));
  return runCli(args, { cwd: dir, entry: join(bundles, "irsa-anywhere.cjs") });
}

describe("the code cache of the entry point's bundles", () => {
  it("is written by a first run and read by the next, which prints the same", async () => {
    const bundles = copyOfBundles();
    const first = await Promise.all([run(bundles, "keys"), run(bundles, "publish"), run(bundles, "mistake")]);
    expect(first.map((result) => result.code)).toEqual([0, 0, 2]);
    expect(await caches(bundles)).toEqual(["publish-directory.cjs.cache", "start.cjs.cache"]);
    const again = await Promise.all([run(bundles, "keys"), run(bundles, "publish"), run(bundles, "mistake")]);
    expect(again).toEqual(first);
  });

  it("is not written by a help page or --version, which run without one", async () => {
    const bundles = copyOfBundles();
    const pages = [await run(bundles, "version"), await run(bundles, "help")];
    expect(pages.map((result) => result.code)).toEqual([0, 0]);
    expect(await caches(bundles)).toEqual([]);
    expect((await run(bundles, "keys")).code).toBe(0);
    expect(await caches(bundles)).toEqual(["start.cjs.cache"]);
    expect([await run(bundles, "version"), await run(bundles, "help")]).toEqual(pages);
  });

  it("made for other bytes of the same length, is not used", async () => {
    const bundles = copyOfBundles();
    expect((await run(bundles, "keys")).stdout).toContain('"use": "sig"');
    const start = join(bundles, "start.cjs");
    const source = await readFile(start, "utf8");
    // V8 tells its data from another source by the length alone: this one would pass.
    expect(source).toContain('use:"sig"');
    await writeFile(start, source.replace('use:"sig"', 'use:"enc"'));
    expect((await readFile(start)).length).toBe(Buffer.byteLength(source));
    const again = await run(bundles, "keys");
    expect(again.stdout).toContain('"use": "enc"');
    expect(again.stdout).not.toContain('"use": "sig"');
  });

  it.each([
    { name: "V8 data that is garbage", corrupt: (data: Buffer) => Buffer.alloc(data.length, 0x5a) },
    { name: "V8 data cut short", corrupt: (data: Buffer) => data.subarray(0, data.length >> 1) },
    {
      // V8 takes data damaged in its middle for its own and may abort the process on it (exit
      // 133, every run, even --version): the header's checksum must catch it first.
      name: "200 bytes damaged in the middle of V8's data, the length kept",
      corrupt: (data: Buffer) => {
        const damaged = Buffer.from(data);
        damaged.fill(0x41, damaged.length >> 1, (damaged.length >> 1) + 200);
        return damaged;
      },
    },
    {
      name: "a header naming another Node",
      corrupt: (data: Buffer) => {
        const other = Buffer.from(data);
        other.write("irsa-anywhere code cache 1 v20.0.0 ", "latin1");
        return other;
      },
    },
  ])("holding $name, is refused and written again", async ({ corrupt }) => {
    const bundles = copyOfBundles();
    const expected = await run(bundles, "keys");
    const cacheFile = join(bundles, "start.cjs.cache");
    const cache = await readFile(cacheFile);
    const sourceLength = (await readFile(join(bundles, "start.cjs"))).length;
    const broken = Buffer.concat([cache.subarray(0, sourceLength), corrupt(cache.subarray(sourceLength))]);
    await writeFile(cacheFile, broken);
    expect(await run(bundles, "keys")).toEqual(expected);
    expect(await readFile(cacheFile)).not.toEqual(broken);
    expect(await run(bundles, "mistake")).toMatchObject({ code: 2 });
  });

  it("is not used for a bundle that still holds import(), which runs as Node runs it", async () => {
    const bundles = copyOfBundles();
    const chunk = join(bundles, "publish-directory.cjs");
    await writeFile(chunk, (await readFile(chunk, "utf8")).replaceAll("Import(", "import("));
    // A secret in YAML: the chunk imports the YAML parser.
    await writeFile(join(dir, "secret.yaml"), "apiVersion: v1\nkind: Secret\ndata:\n  tls.crt: bm9uZQ==\n");
    const args = [
      "publish",
      "--secret-file",
      "secret.yaml",
      "--issuer",
      "https://oidc.example.com/prod",
      "--out-dir",
      "site",
    ];
    const expected = await runCli(args, { cwd: dir, entry: join(copyOfBundles(), "irsa-anywhere.cjs") });
    expect(expected).toMatchObject({ code: 2, stderr: expect.stringContaining("secret.yaml tls.crt") });
    for (let round = 0; round < 2; round++) {
      expect(await runCli(args, { cwd: dir, entry: join(bundles, "irsa-anywhere.cjs") })).toEqual(expected);
    }
    expect(await caches(bundles)).toEqual(["start.cjs.cache"]);
  });

  it("that cannot be read or written, changes nothing and leaves nothing behind", async () => {
    const bundles = copyOfBundles();
    const expected = await Promise.all([run(copyOfBundles(), "keys"), run(copyOfBundles(), "publish")]);
    // A directory where each cache belongs: reading it fails, and so does renaming onto it.
    for (const name of ["start.cjs.cache", "publish-directory.cjs.cache"]) {
      mkdirSync(join(bundles, name));
      await writeFile(join(bundles, name, "keep"), "");
    }
    for (let round = 0; round < 2; round++) {
      expect(await Promise.all([run(bundles, "keys"), run(bundles, "publish")])).toEqual(expected);
    }
    expect(await caches(bundles)).toEqual(["publish-directory.cjs.cache", "start.cjs.cache"]);
  });
});

describe("the help pages kept beside the entry point's bundle (answers.json)", () => {
  it.each([
    { name: "missing", damage: (_: Buffer): Buffer | undefined => undefined },
    {
      name: "cut short",
      damage: (answers: Buffer): Buffer | undefined => answers.subarray(0, answers.length >> 1),
    },
    { name: "other JSON", damage: (_: Buffer): Buffer | undefined => Buffer.from("null") },
    {
      name: "pages that are not text",
      damage: (answers: Buffer): Buffer | undefined =>
        Buffer.from(
          JSON.stringify(
            Object.fromEntries(Object.keys(JSON.parse(answers.toString())).map((key) => [key, 5])),
          ),
        ),
    },
  ])("when $name, are printed by the full command line all the same", async ({ damage }) => {
    const bundles = copyOfBundles();
    const expected = [await run(bundles, "version"), await run(bundles, "help")];
    expect(expected.map((result) => result.code)).toEqual([0, 0]);
    expect(expected[1]?.stdout).toContain("--out-dir");
    const answersFile = join(bundles, "answers.json");
    const kept = damage(await readFile(answersFile));
    await rm(answersFile);
    if (kept !== undefined) await writeFile(answersFile, kept);
    expect([await run(bundles, "version"), await run(bundles, "help")]).toEqual(expected);
  });
});
