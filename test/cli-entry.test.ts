// The CLI's entry point answers some arguments without the full command line (yargs): the help
// pages and --version kept at build time, and the everyday forms of `keys` and `discovery`. A user must not be
// able to tell which path ran: for every form here the bin and the full command line alone
// (dist/bundle/main.js) print the same bytes, write the same file and exit with the same code.
// What differs, and is checked too, is whether the full command line was loaded at all.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, cliPath, fullCommandLinePath, runCli } from "./support/cli.js";
import { pem, type TestKeyPair, writeKeyFiles } from "./support/keys.js";
import { runCliWatchingModules } from "./support/loaded-modules.js";

let dir: string;
const file = (name: string) => join(dir, name);
let rsa: TestKeyPair;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "irsa-entry-"));
  ({ rsa } = await writeKeyFiles(dir));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const loadsFullCommandLine = (loaded: readonly string[]) =>
  loaded.some((url) => url.endsWith("/dist/bundle/main.js"));

/** Runs the bin, watching what it loads, and the full command line alone; FILE stands for a file in the temp dir, OUT for a fresh output file of each run. */
async function runBoth(template: readonly string[], input?: string) {
  const expand = (out: string) =>
    template.map((word) =>
      word
        .replace(/^(--[a-z-]+=)?FILE:(.+)$/, (_, flag = "", name) => `${flag}${file(name)}`)
        .replace("OUT", out),
    );
  const common = { cwd: dir, ...(input === undefined ? {} : { input }) };
  const viaBin = await runCliWatchingModules(expand(file("bin.out")), common);
  const viaFull = await runCli(expand(file("full.out")), { ...common, entry: fullCommandLinePath });
  // Without this, "did not load main.js" would hold just as well if the hooks had never run.
  expect(viaBin.loaded.some((url) => url.endsWith("/dist/bundle/irsa-anywhere.cjs"))).toBe(true);
  const written = async (name: string) =>
    existsSync(file(name)) ? readFile(file(name), "utf8").finally(() => rm(file(name))) : undefined;
  const strip = ({ code, stdout, stderr }: CliResult) => ({ code, stdout, stderr });
  return {
    bin: { ...strip(viaBin), written: await written("bin.out") },
    full: { ...strip(viaFull), written: await written("full.out") },
    loadedFullCommandLine: loadsFullCommandLine(viaBin.loaded),
  };
}

describe("keys: the everyday forms run without the full command line, with the same result", () => {
  it.each([
    { args: ["keys", "--key", "FILE:sa.pub"], code: 0 },
    { args: ["keys", "--key=FILE:sa.pub"], code: 0 },
    { args: ["keys", "--key", "FILE:sa.pub", "--key", "FILE:ec.pub"], code: 0 },
    { args: ["keys", "--key", "FILE:sa.key"], code: 0 },
    { args: ["keys", "--secret-file", "FILE:secret.json", "--no-empty-kid"], code: 0 },
    { args: ["keys", "--key", "FILE:ec.pub", "--secret-file=FILE:secret.json", "--empty-kid"], code: 0 },
    { args: ["keys", "--key", "-"], input: "stdin", code: 0 },
    { args: ["keys", "--key", "FILE:sa.pub", "--out", "OUT"], code: 0 },
    { args: ["keys", "--out=OUT", "--key", "FILE:sa.pub"], code: 0 },
    { args: ["keys", "--key", "FILE:sa.pub", "--out", "-"], code: 0 },
    { args: ["keys", "--key", "FILE:missing.pub"], code: 2 },
    { args: ["keys", "--key", "FILE:small.pub"], code: 2 },
    { args: ["keys", "--key", "FILE:encrypted.key"], code: 2 },
    { args: ["keys", "--key", "FILE:sa.pub", "--key", "FILE:sa.pub"], code: 0 },
    { args: ["keys", "--key", "-", "--secret-file", "-"], code: 2 },
    { args: ["keys", "--key", "FILE:sa.pub", "--out", "FILE:no-such-dir/keys.json"], code: 2 },
  ])("$args", async ({ args, input, code }) => {
    const both = await runBoth(args, input === "stdin" ? pem(rsa.publicKey, "spki") : undefined);
    expect(both.bin).toEqual(both.full);
    expect(both.bin.code).toBe(code);
    if (code === 0) expect(both.bin.stdout + (both.bin.written ?? "")).toContain('"kid"');
    else expect(both.bin.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(both.loadedFullCommandLine).toBe(false);
  });
});

describe("discovery: the everyday forms run without the full command line, with the same result", () => {
  const issuer = "https://oidc.example.com/prod";
  it.each([
    { args: ["discovery", "--issuer", issuer, "--key", "FILE:sa.pub"], code: 0 },
    { args: ["discovery", `--issuer=${issuer}`, "--key=FILE:ec.pub"], code: 0 },
    { args: ["discovery", "--issuer", issuer], code: 0 },
    { args: ["discovery", "--issuer", issuer, "--secret-file", "FILE:secret.json", "--out", "OUT"], code: 0 },
    {
      args: ["discovery", "--key", "FILE:sa.pub", "--issuer", issuer, "--jwks-uri", `${issuer}/jwks`],
      code: 0,
    },
    { args: ["discovery", "--issuer", "http://oidc.example.com", "--key", "FILE:sa.pub"], code: 2 },
    { args: ["discovery", "--issuer", `${issuer}/`, "--key", "FILE:sa.pub"], code: 2 },
    { args: ["discovery", "--issuer", issuer, "--key", "FILE:missing.pub"], code: 2 },
  ])("$args", async ({ args, code }) => {
    const both = await runBoth(args);
    expect(both.bin).toEqual(both.full);
    expect(both.bin.code).toBe(code);
    if (code === 0) expect(both.bin.stdout + (both.bin.written ?? "")).toContain('"jwks_uri"');
    else expect(both.bin.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(both.loadedFullCommandLine).toBe(false);
  });
});

describe("discovery: every other form goes to the full command line", () => {
  it.each([
    { args: ["discovery"], code: 2 },
    { args: ["discovery", "--key", "FILE:sa.pub"], code: 2 },
    { args: ["discovery", "--issuer"], code: 2 },
    {
      args: ["discovery", "--issuer", "https://a.example.com", "--issuer", "https://b.example.com"],
      code: 2,
    },
    { args: ["discovery", "--issuer", "https://oidc.example.com", "--empty-kid"], code: 2 },
    { args: ["discovery", "--issuer", "https://oidc.example.com", "--help"], code: 0 },
  ])("$args", async ({ args, code }) => {
    const both = await runBoth(args);
    expect(both.bin).toEqual(both.full);
    expect(both.bin.code).toBe(code);
    expect(both.loadedFullCommandLine).toBe(true);
  });
});

describe("keys: every other form goes to the full command line", () => {
  it.each([
    { args: ["keys"], code: 2 },
    { args: ["keys", "--key"], code: 2 },
    { args: ["keys", "--key", "FILE:sa.pub", "--bogus"], code: 2 },
    { args: ["keys", "--key", "FILE:sa.pub", "extra"], code: 2 },
    { args: ["keys", "--key", "--no-empty-kid"], code: 2 },
    { args: ["keys", "--key", "FILE:sa.pub", "--namespace", "other"], code: 0 },
    { args: ["keys", "--key", "FILE:sa.pub", "--no-empty-kid", "--empty-kid"], code: 0 },
    { args: ["keys", "--key", "FILE:sa.pub", "--empty-kid=false"], code: 0 },
    { args: ["keys", "--key", "FILE:sa.pub", "--log-format", "json"], code: 0 },
    { args: ["keys", "--key", "FILE:sa.pub", "--help"], code: 0 },
    { args: ["keys", "--key", "FILE:sa.pub", "--", "x"], code: 0 },
    { args: ["keys", "--key", "FILE:sa.pub", "--out", "OUT", "--out", "OUT"], code: 2 },
    { args: ["--version", "keys"], code: 0 },
  ])("$args", async ({ args, code }) => {
    const both = await runBoth(args);
    expect(both.bin).toEqual(both.full);
    expect(both.bin.code).toBe(code);
    expect(both.loadedFullCommandLine).toBe(true);
  });
});

describe("help pages and --version come from the build, unchanged", () => {
  let commands: string[];
  let phases: string[];
  beforeAll(async () => {
    const help = await runCli(["--help"], { entry: fullCommandLinePath });
    commands = [...help.stdout.matchAll(/^ {2}irsa-anywhere (\S+)/gm)].map((match) => match[1] as string);
    const rotate = await runCli(["rotate", "--help"], { entry: fullCommandLinePath });
    const rotateCommands = rotate.stdout.split("\n\n").find((block) => block.startsWith("Commands:")) ?? "";
    phases = [...rotateCommands.matchAll(/^ {2}irsa-anywhere rotate (\S+)/gm)].map(
      (match) => match[1] as string,
    );
  });

  it("knows every command the top-level help lists", () => {
    expect(commands).toEqual(expect.arrayContaining(["keys", "publish", "doctor", "serve", "rotate"]));
    expect(phases).toEqual(["status", "prepare", "confirm", "prune", "withdraw"]);
  });

  it("prints the same pages as the full command line, without loading it", async () => {
    const forms = [
      ["--help"],
      ["-h"],
      ["--version"],
      ...commands.flatMap((c) => [
        [c, "--help"],
        [c, "-h"],
      ]),
      ...phases.flatMap((p) => [
        ["rotate", p, "--help"],
        ["rotate", p, "-h"],
      ]),
    ];
    for (const args of forms) {
      const both = await runBoth(args);
      expect(both.bin, args.join(" ")).toEqual(both.full);
      expect(both.bin.code, args.join(" ")).toBe(0);
      expect(both.bin.stdout.length, args.join(" ")).toBeGreaterThan(0);
      expect(both.loadedFullCommandLine, args.join(" ")).toBe(false);
    }
  });

  it("runs as an executable through its shebang, as npm links it", async () => {
    const { stdout } = await promisify(execFile)(cliPath, ["--version"]);
    expect(stdout).toBe((await runCli(["--version"], { entry: fullCommandLinePath })).stdout);
  });
});
