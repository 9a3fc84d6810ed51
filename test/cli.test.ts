import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, open, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliPath, runCli } from "./support/cli.js";
import { type TestKeyPair, writeKeyFiles } from "./support/keys.js";

let dir: string;
let rsa: TestKeyPair;
let ec: TestKeyPair;
const kid = (pair: TestKeyPair) =>
  createHash("sha256")
    .update(pair.publicKey.export({ type: "spki", format: "der" }))
    .digest("base64url");
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "irsa-cli-"));
  ({ rsa, ec } = await writeKeyFiles(dir));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("irsa-anywhere keys", () => {
  it("prints the JWKS of a public key on stdout and nothing on stderr", async () => {
    const result = await runCli(["keys", "--key", file("sa.pub")]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(result.stdout).keys.map((k: { kid: string }) => k.kid)).toEqual([kid(rsa), ""]);
  });

  it("never prints private material when given a private key", async () => {
    const result = await runCli(["keys", "--key", file("sa.key")]);
    expect(result.code).toBe(0);
    for (const member of ['"d"', '"p"', '"q"', '"dp"', '"dq"', '"qi"'])
      expect(result.stdout).not.toContain(member);
    expect(result.stdout).not.toContain("PRIVATE");
  });

  it("combines sources: a secret file, stdin and a PEM file, without the twin on request", async () => {
    const secret = await readFile(file("secret.json"), "utf8");
    const result = await runCli(["keys", "--secret-file", "-", "--key", file("ec.pub"), "--no-empty-kid"], {
      input: secret,
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).keys.map((k: { kid: string }) => k.kid)).toEqual([kid(rsa), kid(ec)]);
  });

  it("gives the same bytes on every run", async () => {
    const first = await runCli(["keys", "--key", file("sa.pub")]);
    const second = await runCli(["keys", "--key", file("sa.key")]);
    expect(second.stdout).toBe(first.stdout);
  });

  it("writes --out atomically and leaves no temporary file", async () => {
    const result = await runCli(["keys", "--key", file("sa.pub"), "--out", file("keys.json")]);
    expect(result).toMatchObject({ code: 0, stdout: "" });
    expect(JSON.parse(await readFile(file("keys.json"), "utf8")).keys[0].kid).toBe(kid(rsa));
    expect((await readdir(dir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });
});

describe("refused input: one line on stderr, exit 2, nothing on stdout", () => {
  it.each([
    ["an unreadable file", ["keys", "--key", "/nonexistent/sa.pub"], /cannot read/],
    ["an RSA key under 2048 bits", ["keys", "--key", "small.pub"], /2048/],
    ["an encrypted private key", ["keys", "--key", "encrypted.key"], /encrypted/],
    ["no key source", ["keys"], /key source/],
    ["an unknown option", ["keys", "--kee", "sa.pub"], /Unknown argument/],
    ["no command", [], /command/],
    [
      "an unknown command",
      ["frobnicate"],
      /^irsa-anywhere: unknown command frobnicate; see irsa-anywhere --help$/m,
    ],
    ["a misspelt command", ["keyz"], /unknown command keyz; did you mean keys\?; see irsa-anywhere --help/],
    ["an unknown option", ["keys", "--kee", "x"], /Unknown argument: kee; see irsa-anywhere keys --help/],
    ["an http issuer", ["discovery", "--issuer", "http://oidc.example.com"], /https/],
    ["an issuer with a trailing slash", ["discovery", "--issuer", "https://oidc.example.com/"], /slash/],
    [
      "publish without --out-dir",
      ["publish", "--issuer", "https://o.example.com", "--key", "sa.pub"],
      /--out-dir/,
    ],
    [
      "--out into a missing directory",
      ["keys", "--key", "sa.pub", "--out", "/nonexistent/dir/k.json"],
      /cannot write/,
    ],
    [
      "an option that takes one value, given twice",
      ["discovery", "--issuer", "https://a.example.com", "--issuer", "https://b.example.com"],
      /--issuer was given 2 times; give it once/,
    ],
    [
      "two output directories",
      ["publish", "--key", "sa.pub", "--issuer", "https://o.example.com", "--out-dir", "a", "--out-dir", "b"],
      /--out-dir was given 2 times/,
    ],
    [
      "two output files",
      ["keys", "--key", "sa.pub", "--out", "a.json", "--out", "b.json"],
      /--out was given 2/,
    ],
    ["a word for a switch", ["keys", "--key", "sa.pub", "--empty-kid=yes"], /--empty-kid is a switch/],
  ])("refuses %s", async (_name, args, reason) => {
    const result = await runCli(
      args.map((arg) =>
        (arg.endsWith(".pub") || arg.endsWith(".key")) && !arg.startsWith("/") ? file(arg) : arg,
      ),
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(reason);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe("irsa-anywhere discovery and publish", () => {
  it("prints the discovery document with the key's algorithm", async () => {
    const result = await runCli([
      "discovery",
      "--issuer",
      "https://oidc.example.com/prod",
      "--key",
      file("ec.pub"),
    ]);
    expect(result.code).toBe(0);
    const document = JSON.parse(result.stdout);
    expect(document.issuer).toBe("https://oidc.example.com/prod");
    expect(document.id_token_signing_alg_values_supported).toEqual(["ES384"]);
  });

  it("publishes into a directory, and a second run changes nothing", async () => {
    const site = file("site");
    const args = [
      "publish",
      "--issuer",
      "https://oidc.example.com/prod",
      "--key",
      file("sa.pub"),
      "--out-dir",
      site,
    ];
    const first = await runCli([...args, "--json"]);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).changed).toBe(true);
    const keys = JSON.parse(await readFile(join(site, "prod/keys.json"), "utf8"));
    expect(keys.keys[0].kid).toBe(kid(rsa));
    const discovery = JSON.parse(await readFile(join(site, "prod/.well-known/openid-configuration"), "utf8"));
    expect(discovery.jwks_uri).toBe("https://oidc.example.com/prod/keys.json");
    const second = await runCli(args);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/unchanged.*keys\.json/);
  });

  it("shows help with examples and the exit codes", async () => {
    const result = await runCli(["publish", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Examples:");
    expect(result.stdout).toContain("Exit codes");
  });

  it("prints its version", async () => {
    const result = await runCli(["--version"]);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it.runIf(existsSync("/dev/full"))(
    "says in one line, exit 1, when standard output cannot be written",
    async () => {
      for (const args of [
        ["keys", "--key", file("sa.pub")],
        ["discovery", "--issuer", "https://o.example.com"],
      ]) {
        const full = await open("/dev/full", "w");
        try {
          const child = spawn(process.execPath, [cliPath, ...args], { stdio: ["ignore", full.fd, "pipe"] });
          let stderr = "";
          child.stderr?.on("data", (chunk) => {
            stderr += chunk;
          });
          const code = await new Promise((resolve) => child.once("close", resolve));
          expect(code, args[0]).toBe(1);
          expect(stderr, args[0]).toBe("irsa-anywhere: cannot write to standard output: ENOSPC\n");
        } finally {
          await full.close();
        }
      }
    },
  );
});

describe("-o json / --output json, as aws and kubectl take it", () => {
  it("is --json for keygen", async () => {
    const result = await runCli(["keygen", "--out-dir", file("o-json"), "-o", "json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).kid).toMatch(/^[\w-]{43}$/);
  });

  it("is --json for doctor", async () => {
    const result = await runCli(
      ["doctor", "--issuer", "https://127.0.0.1:9/prod", "--no-aws", "--output", "json"],
      { isolated: true, env: { HOME: dir } },
    );
    expect(JSON.parse(result.stdout).checks.length).toBeGreaterThan(0);
  });

  it.each([
    ["publish", "--key", "sa.pub", "--issuer", "https://o.example.com", "--out-dir", "site"],
    ["doctor", "--issuer", "https://o.example.com", "--no-aws"],
    ["keygen", "--out-dir", "x"],
    ["rotate", "status", "--key", "sa.pub", "--issuer", "https://o.example.com", "--out-dir", "site"],
  ])("refuses another format for %s with one line, exit 2", async (...args) => {
    const result = await runCli([...args, "-o", "yaml"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `irsa-anywhere: -o/--output takes only json (the same as --json), not "yaml"; see irsa-anywhere ${args.slice(0, args[0] === "rotate" ? 2 : 1).join(" ")} --help\n`,
    );
  });
});
