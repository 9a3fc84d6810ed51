// The CLI's entry point answers some arguments without the full command line (yargs): the help
// pages and --version kept at build time, and the everyday forms of `keys` and `discovery`. A user must not be
// able to tell which path ran: for every form here the bin and the full command line alone
// (dist/bundle/main.js) print the same bytes, write the same file and exit with the same code.
// What differs, and is checked too, is whether the full command line was loaded at all.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, cliPath, fullCommandLinePath, runCli } from "./support/cli.js";
import { pem, type TestKeyPair, writeKeyFiles } from "./support/keys.js";
import { runCliWatchingModules } from "./support/loaded-modules.js";
import { awsTestEnv, type MotoServer, s3TestClientConfig, startMoto } from "./support/moto.js";

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

/**
 * Each step printed the same through the bin as through the full command line, without loading
 * it but with its publish chunk; the last one exited `code`, saying `says` on stdout or, failing,
 * one line on stderr.
 */
function expectQuickSteps(
  results: readonly {
    bin: CliResult;
    full: CliResult;
    loadedFullCommandLine: boolean;
    loadedChunk: boolean;
  }[],
  code: number,
  says: string | undefined,
) {
  for (const result of results) {
    expect(result.bin).toEqual(result.full);
    expect(result.loadedFullCommandLine).toBe(false);
    expect(result.loadedChunk).toBe(true);
  }
  const last = results.at(-1);
  expect(last?.bin.code).toBe(code);
  if (says !== undefined) expect(last?.bin.stdout).toContain(says);
  else expect(last?.bin.stderr.trimEnd().split("\n")).toHaveLength(1);
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

describe("publish --out-dir: the everyday forms run without the full command line, with the same result", () => {
  const issuer = "https://oidc.example.com/prod";
  const publish = (...more: string[]) => ["publish", "--issuer", issuer, "--out-dir", "site", ...more];
  // Each path publishes into a directory of its own; what differs between them is only that
  // directory's name in what they print, and the time in a key's retention.
  let round = 0;
  const same = (text: string, site: string) =>
    text.replaceAll(site, "SITE").replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, "TIME");

  async function files(root: string): Promise<Record<string, string>> {
    const found: Record<string, string> = {};
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      found[relative(root, path)] = same(await readFile(path, "utf8"), root);
    }
    return found;
  }

  /** Runs each step through the bin and through the full command line, each path in its own directory. */
  async function runSteps(steps: readonly (readonly string[])[]) {
    round++;
    const cwd = { bin: join(dir, `publish-bin-${round}`), full: join(dir, `publish-full-${round}`) };
    await Promise.all([mkdir(cwd.bin), mkdir(cwd.full)]);
    const results = [];
    for (const step of steps) {
      const args = step.map((word) =>
        word.replace(/^(--[a-z-]+=)?FILE:(.+)$/, (_, flag = "", name) => `${flag}${file(name)}`),
      );
      const viaBin = await runCliWatchingModules(args, { cwd: cwd.bin });
      const viaFull = await runCli(args, { cwd: cwd.full, entry: fullCommandLinePath });
      const strip = ({ code, stdout, stderr }: CliResult, site: string) => ({
        code,
        stdout: same(stdout, site),
        stderr: same(stderr, site),
      });
      results.push({
        bin: strip(viaBin, cwd.bin),
        full: strip(viaFull, cwd.full),
        loadedFullCommandLine: loadsFullCommandLine(viaBin.loaded),
        loadedChunk: viaBin.loaded.some((url) => url.endsWith("/dist/bundle/publish-directory.cjs")),
      });
    }
    return { results, files: { bin: await files(cwd.bin), full: await files(cwd.full) } };
  }

  it.each([
    { name: "first publish", steps: [publish("--key", "FILE:sa.pub")], code: 0, says: "created" },
    {
      name: "a republish that changes nothing",
      steps: [publish("--key", "FILE:sa.pub"), publish("--key=FILE:sa.pub")],
      code: 0,
      says: "unchanged",
    },
    {
      name: "a rotation: the old key kept for the retention",
      steps: [publish("--key", "FILE:sa.pub"), publish("--key", "FILE:ec.pub")],
      code: 0,
      says: "kept until TIME",
    },
    {
      name: "a rotation past a retention of none",
      steps: [publish("--key", "FILE:sa.pub"), publish("--key", "FILE:ec.pub", "--retain", "0s")],
      code: 0,
      says: "removed (retention passed)",
    },
    {
      name: "JSON, with the key from a secret and no empty-kid twin",
      steps: [publish("--secret-file", "FILE:secret.json", "--json", "--no-empty-kid")],
      code: 0,
      says: '"issuer"',
    },
    { name: "a dry run", steps: [publish("--key", "FILE:sa.pub", "--dry-run")], code: 0, says: "Dry run" },
    {
      name: "an http issuer",
      steps: [
        ["publish", "--key", "FILE:sa.pub", "--issuer", "http://oidc.example.com", "--out-dir", "site"],
      ],
      code: 2,
    },
    {
      name: "an issuer with a trailing slash",
      steps: [["publish", "--key", "FILE:sa.pub", `--issuer=${issuer}/`, "--out-dir=site"]],
      code: 2,
    },
    { name: "a missing key file", steps: [publish("--key", "FILE:missing.pub")], code: 2 },
    {
      name: "a retention that is no duration",
      steps: [publish("--key", "FILE:sa.pub", "--retain", "soon")],
      code: 2,
    },
  ])("$name", async ({ steps, code, says }) => {
    const { results, files: written } = await runSteps(steps);
    expectQuickSteps(results, code, says);
    expect(written.bin).toEqual(written.full);
    if (code === 0 && !steps.at(-1)?.includes("--dry-run")) {
      expect(Object.keys(written.bin)).toContain(join("site", "prod", "keys.json"));
    }
  });

  it.each([
    { args: ["publish", "--key", "FILE:sa.pub", "--out-dir", "site"], code: 2 },
    { args: ["publish", "--issuer", issuer, "--out-dir", "site"], code: 2 },
    { args: ["publish", "--key", "FILE:sa.pub", "--issuer", issuer], code: 2 },
    { args: [...publish("--key", "FILE:sa.pub"), "--region", "us-east-1"], code: 0 },
    { args: [...publish("--key", "FILE:sa.pub"), "--cloudfront"], code: 2 },
    { args: [...publish("--key", "FILE:sa.pub"), "--out-dir", "other"], code: 2 },
    { args: [...publish("--key", "FILE:sa.pub"), "--log-format", "json"], code: 0 },
  ])("goes to the full command line: $args", async ({ args, code }) => {
    const { results, files: written } = await runSteps([args]);
    const [result] = results;
    expect(result?.bin).toEqual(result?.full);
    expect(result?.bin.code).toBe(code);
    expect(result?.loadedFullCommandLine).toBe(true);
    expect(written.bin).toEqual(written.full);
  });
});

describe("publish --bucket: the everyday forms run without the full command line, with the same result", () => {
  // Each path publishes into a bucket of its own in one moto; what differs between them is only
  // the bucket's name in what they print (its issuer, its objects, its provider).
  let moto: MotoServer;
  let s3: S3Client;
  let round = 0;
  beforeAll(async () => {
    moto = await startMoto();
    s3 = new S3Client(s3TestClientConfig(moto.endpoint));
  });
  afterAll(async () => {
    s3?.destroy();
    await moto?.stop();
  });

  /** Runs each step through the bin and through the full command line, each path into its own bucket. */
  async function runSteps(steps: readonly (readonly string[])[]) {
    round++;
    const buckets = { bin: `entry-bin-${round}`, full: `entry-full-${round}` };
    for (const bucket of Object.values(buckets)) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const env = { ...awsTestEnv(moto.endpoint), HOME: dir };
    const same = (text: string, bucket: string) =>
      text
        .replaceAll(bucket, "BUCKET")
        .replace(/[0-9a-f]{12}\b/g, "SID")
        .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, "TIME");
    const results = [];
    for (const step of steps) {
      const args = (bucket: string) =>
        step.map((word) =>
          word
            .replace(/^(--[a-z-]+=)?FILE:(.+)$/, (_, flag = "", name) => `${flag}${file(name)}`)
            .replace("BUCKET", bucket),
        );
      const viaBin = await runCliWatchingModules(args(buckets.bin), { env, isolated: true, cwd: dir });
      const viaFull = await runCli(args(buckets.full), {
        env,
        isolated: true,
        cwd: dir,
        entry: fullCommandLinePath,
      });
      const strip = ({ code, stdout, stderr }: CliResult, bucket: string) => ({
        code,
        stdout: same(stdout, bucket),
        stderr: same(stderr, bucket),
      });
      results.push({
        bin: strip(viaBin, buckets.bin),
        full: strip(viaFull, buckets.full),
        loadedFullCommandLine: loadsFullCommandLine(viaBin.loaded),
        loadedChunk: viaBin.loaded.some((url) => url.endsWith("/dist/bundle/publish-bucket.cjs")),
      });
    }
    const objects = async (bucket: string) => {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      return (listed.Contents ?? []).map((object) => object.Key).sort();
    };
    return { results, objects: { bin: await objects(buckets.bin), full: await objects(buckets.full) } };
  }

  const publish = (...more: string[]) => ["publish", "--key", "FILE:sa.pub", "--bucket", "BUCKET", ...more];
  it.each([
    {
      name: "a first publish, public, as JSON",
      steps: [publish("--prefix", "prod", "--public-read-policy", "--json")],
      code: 0,
      says: '"oidcProvider"',
    },
    {
      name: "a republish that changes nothing",
      steps: [
        publish("--prefix", "prod", "--public-read-policy"),
        publish("--prefix=prod", "--public-read-policy"),
      ],
      code: 0,
      says: "unchanged",
    },
    {
      name: "audiences, a region and no empty-kid twin",
      steps: [
        publish(
          "--public-read-policy",
          "--audience",
          "sts.amazonaws.com",
          "--audience=vault",
          "--region",
          "us-east-1",
          "--no-empty-kid",
        ),
      ],
      code: 0,
      says: "created",
    },
    {
      name: "a rotation past a retention of none, from a secret",
      steps: [
        ["publish", "--secret-file", "FILE:secret.json", "--bucket", "BUCKET", "--public-read-policy"],
        ["publish", "--key", "FILE:ec.pub", "--bucket", "BUCKET", "--public-read-policy", "--retain", "0s"],
      ],
      code: 0,
      says: "removed (retention passed)",
    },
    { name: "a dry run", steps: [publish("--public-read-policy", "--dry-run")], code: 0, says: "Dry run" },
    {
      name: "no provider, documents private: the read-back says what to do",
      steps: [publish("--no-oidc-provider")],
      code: 1,
    },
    {
      name: "a missing key file",
      steps: [["publish", "--key", "FILE:missing.pub", "--bucket", "BUCKET"]],
      code: 2,
    },
    {
      name: "a bucket that does not exist",
      steps: [publish().map((w) => w.replace("BUCKET", "BUCKET-none"))],
      code: 2,
    },
    { name: "a region that is none", steps: [publish("--region", "moon-1")], code: 2 },
    {
      name: "an issuer on another bucket's host",
      steps: [publish("--issuer", "https://other.s3.us-east-1.amazonaws.com")],
      code: 2,
    },
    { name: "an empty profile", steps: [publish("--profile", " ")], code: 2 },
    { name: "a retention that is no duration", steps: [publish("--retain", "soon")], code: 2 },
  ])("$name", async ({ steps, code, says }) => {
    const { results, objects } = await runSteps(steps);
    expectQuickSteps(results, code, says);
    expect(objects.bin).toEqual(objects.full);
  });

  it.each([
    { args: publish("--public-read-policy", "--public-read-scope", "exact"), code: 0 },
    { args: publish("--public-read-policy", "--log-format", "json"), code: 0 },
    { args: publish("--public-read-policy", "--timeout", "2m"), code: 0 },
    { args: publish("--cloudfront", "--domain", "oidc.example.com"), code: 2 },
    { args: publish("--out-dir", "site", "--issuer", "https://oidc.example.com"), code: 2 },
    { args: publish("--prefix", "a", "--prefix", "b"), code: 2 },
    { args: publish("--public-read-policy=yes"), code: 2 },
    { args: publish("--region"), code: 2 },
    { args: ["publish", "--bucket", "BUCKET"], code: 2 },
  ])("goes to the full command line: $args", async ({ args, code }) => {
    const { results, objects } = await runSteps([args]);
    const [result] = results;
    expect(result?.bin).toEqual(result?.full);
    expect(result?.bin.code).toBe(code);
    expect(result?.loadedFullCommandLine).toBe(true);
    expect(objects.bin).toEqual(objects.full);
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
