// `keys --out` and `discovery --out`: written atomically, through a symlink, never over
// something that is not a regular file.
import { execFile } from "node:child_process";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";
import { writeKeyFiles } from "./support/keys.js";

let dir: string;
const file = (name: string) => join(dir, name);
const keysTo = (out: string) => runCli(["keys", "--key", file("sa.pub"), "--out", out]);
const temporaries = async (...dirs: string[]) =>
  (await Promise.all(dirs.map((d) => readdir(d)))).flat().filter((name) => name.endsWith(".tmp"));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "irsa-out-"));
  await writeKeyFiles(dir);
  await mkdir(file("site"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("--out through a symlink", () => {
  it("replaces the file the link points to, and keeps the link", async () => {
    await writeFile(file("site/keys.json"), "old");
    await symlink("site/keys.json", file("keys-link.json"));
    const result = await keysTo(file("keys-link.json"));
    expect(result).toMatchObject({ code: 0, stdout: "", stderr: "" });
    expect((await lstat(file("keys-link.json"))).isSymbolicLink()).toBe(true);
    expect(await readlink(file("keys-link.json"))).toBe("site/keys.json");
    expect(JSON.parse(await readFile(file("site/keys.json"), "utf8")).keys).toHaveLength(2);
    expect(await temporaries(dir, file("site"))).toEqual([]);
  });

  it("follows a chain of links, and creates the file a dangling link names", async () => {
    await symlink("site/new.json", file("dangling.json"));
    await symlink("dangling.json", file("chain.json"));
    const result = await runCli([
      "discovery",
      "--issuer",
      "https://oidc.example.com/prod",
      "--key",
      file("sa.pub"),
      "--out",
      file("chain.json"),
    ]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect((await lstat(file("chain.json"))).isSymbolicLink()).toBe(true);
    expect((await lstat(file("dangling.json"))).isSymbolicLink()).toBe(true);
    expect(JSON.parse(await readFile(file("site/new.json"), "utf8")).issuer).toBe(
      "https://oidc.example.com/prod",
    );
  });
});

describe("--out that is not a regular file: exit 2, one line, left as it was", () => {
  it("refuses a directory", async () => {
    const result = await keysTo(file("site"));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--out .*site is a directory; give the path of a regular file/);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("refuses a FIFO, without opening it", async () => {
    await promisify(execFile)("mkfifo", [file("fifo")]);
    const result = await keysTo(file("fifo"));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is a FIFO/);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect((await lstat(file("fifo"))).isFIFO()).toBe(true);
  });

  it("refuses a device node behind a symlink, and keeps the link", async () => {
    await symlink("/dev/null", file("null-link"));
    const result = await keysTo(file("null-link"));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is a device node \(through a symlink, \/dev\/null\)/);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(await readlink(file("null-link"))).toBe("/dev/null");
    expect(await temporaries(dir)).toEqual([]);
  });
});
