// The standalone file (packages/cli/dist/standalone/irsa-anywhere.cjs, scripts/bundle-cli.mjs),
// copied alone into an empty folder with no node_modules above it and run with `node` there, as on
// an air-gapped admin host: every command it runs must find its dependencies inside it. publish
// loads the AWS SDK (against moto), keys --cluster-jwks the Kubernetes client (against the API
// test server).

import { existsSync, readFileSync, statSync } from "node:fs";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, parse } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";
import { type InstalledCliTargets, startInstalledCliTargets } from "./support/installed-cli.js";

const standalone = fileURLToPath(
  new URL("../packages/cli/dist/standalone/irsa-anywhere.cjs", import.meta.url),
);

let host: string;
let file: string;
let targets: InstalledCliTargets;

beforeAll(async () => {
  host = await mkdtemp(join(tmpdir(), "irsa-standalone-"));
  file = join(host, "irsa-anywhere.cjs");
  await copyFile(standalone, file);
  targets = await startInstalledCliTargets();
});
afterAll(async () => {
  await targets?.close();
  if (host) await rm(host, { recursive: true, force: true });
});

/** Runs the copied file from its own folder, with NODE_PATH empty; inputs are named by path. */
const cli = (args: string[]) =>
  runCli(args, { entry: file, cwd: host, env: { ...targets.env, NODE_PATH: "" }, isolated: true });
const input = (name: string) => join(targets.dir, name);

describe("irsa-anywhere.cjs alone in an empty folder", () => {
  it("has no node_modules within reach (the premise of every test below)", () => {
    const reachable: string[] = [];
    for (let dir = host; ; dir = dirname(dir)) {
      if (existsSync(join(dir, "node_modules"))) reachable.push(join(dir, "node_modules"));
      if (dir === parse(dir).root) break;
    }
    expect(reachable).toEqual([]);
  });

  it("prints its version and help", async () => {
    const version = await cli(["--version"]);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await cli(["publish", "--help"]);
    expect(help.stdout).toContain("--bucket");
  });

  it("builds the JWKS and the discovery document from a key file", async () => {
    const keys = await cli(["keys", "--key", input("sa.pub")]);
    expect(keys.stderr).toBe("");
    expect(JSON.parse(keys.stdout).keys[0]).toMatchObject({ kty: "RSA", alg: "RS256" });
    const discovery = await cli([
      "discovery",
      "--issuer",
      "https://oidc.example.com/prod",
      "--key",
      input("sa.pub"),
    ]);
    expect(discovery.stderr).toBe("");
    expect(JSON.parse(discovery.stdout)).toMatchObject({
      issuer: "https://oidc.example.com/prod",
      jwks_uri: "https://oidc.example.com/prod/keys.json",
    });
  });

  it("publishes into a directory, the chunk npm's package loads beside it inside it", async () => {
    const site = join(host, "site");
    const args = ["publish", "--key", input("sa.pub"), "--issuer", "https://oidc.example.com/prod"];
    const published = await cli([...args, "--out-dir", site, "--json"]);
    expect(published.stderr).toBe("");
    expect(JSON.parse(published.stdout).documents).toHaveLength(2);
    expect(existsSync(join(site, "prod", "keys.json"))).toBe(true);
  });

  it("reads the cluster's keys with the Kubernetes client inside it", async () => {
    const keys = await cli(["keys", "--cluster-jwks", "--kubeconfig", input("kubeconfig")]);
    expect(keys.stderr).toBe("");
    expect(JSON.parse(keys.stdout).keys[0]).toMatchObject({ kty: "RSA", alg: "RS256" });
  });

  it("publishes to S3 and registers the IAM provider with the AWS SDK inside it", async () => {
    const args = ["publish", "--key", input("sa.pub"), "--bucket", targets.bucket, "--prefix", "standalone"];
    const published = await cli([...args, "--public-read-policy", "--json"]);
    expect(published.stderr).toBe("");
    const result = JSON.parse(published.stdout);
    expect(result.documents).toHaveLength(2);
    expect(result.oidcProvider.arn).toMatch(/:oidc-provider\//);
  });

  it("says a user's mistake in one line, with the exit code for input", async () => {
    const result = await cli(["keys", "--key", input("missing.pub")]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("the README's install lines", () => {
  const readme = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");

  it("name where the build writes the file, and its size", () => {
    expect(readme).toContain("packages/cli/dist/standalone/irsa-anywhere.cjs");
    const stated = /`irsa-anywhere\.cjs` \(about ([\d.]+) MB\)/.exec(readme)?.[1];
    expect(stated, "the README states the size as `irsa-anywhere.cjs` (about N MB)").toBeDefined();
    const megabytes = statSync(standalone).size / 1024 / 1024;
    // Within a quarter: a new dependency that grows it by more is news for the README.
    expect(Math.abs(megabytes - Number(stated)) / megabytes).toBeLessThan(0.25);
  });
});
