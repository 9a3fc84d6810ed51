// publish --out-dir, served by a real static file server (python's http.server, as the demo's
// advice has users do): the documents are public, the publisher's private state is not.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";

let dir: string;
let server: ChildProcess | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "irsa-static-"));
});
afterEach(async () => {
  server?.kill();
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(args, { cwd: dir, isolated: true, env: { HOME: dir } });
const where = ["--issuer", "https://oidc.example.com/prod", "--out-dir", "site"];

/** `python3 -m http.server` on 127.0.0.1 and a free port, serving `root`; resolves with its URL. */
function serveStatically(root: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "python3",
      ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", root],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    server = child;
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const port = /port (\d+)/.exec(output)?.[1];
      if (port) resolve(`http://127.0.0.1:${port}`);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`http.server exited (${code}): ${output}`)));
  });
}

describe("a directory served by a static host", () => {
  it("serves the documents and not the publisher's state", async () => {
    expect((await cli("keygen", "--out-dir", ".")).code).toBe(0);
    expect((await cli("publish", "--key", "sa.key", ...where)).code).toBe(0);
    await cli("keygen", "--out-dir", "next");
    expect(
      (await cli("rotate", "prepare", "--key", "sa.key", "--next-key", "next/sa.pub", ...where)).code,
    ).toBe(0);
    const base = await serveStatically(join(dir, "site"));

    expect((await fetch(`${base}/prod/keys.json`)).status).toBe(200);
    expect((await fetch(`${base}/prod/.well-known/openid-configuration`)).status).toBe(200);
    for (const path of [
      "/prod/.irsa-anywhere-state.json",
      "/prod/state.json",
      "/.irsa-anywhere-state.json",
    ]) {
      const response = await fetch(`${base}${path}`);
      await response.body?.cancel();
      expect(response.status, path).toBe(404);
    }
    // Nor does a directory listing, which this host makes, name it.
    expect(await (await fetch(`${base}/prod/`)).text()).not.toMatch(/state/);
    // The state is kept beside the served directory, and only its owner may read it.
    const state = JSON.parse(await readFile(join(dir, "site.irsa-anywhere-state/prod/state.json"), "utf8"));
    expect(state.rotation.to).toHaveLength(1);
  });

  it("moves a state an earlier version kept in the directory out of it, keeping its records", async () => {
    await cli("keygen", "--out-dir", ".");
    expect((await cli("publish", "--key", "sa.key", ...where)).code).toBe(0);
    const kid = JSON.parse(await readFile(join(dir, "site/prod/keys.json"), "utf8")).keys[0].kid;
    await rm(join(dir, "site.irsa-anywhere-state"), { recursive: true });
    const firstPublished = "2026-01-01T00:00:00.000Z";
    await mkdir(join(dir, "site/prod"), { recursive: true });
    await writeFile(
      join(dir, "site/prod/.irsa-anywhere-state.json"),
      JSON.stringify({ version: 1, keys: { [kid]: { firstPublished } } }),
    );
    expect((await cli("publish", "--key", "sa.key", ...where)).code).toBe(0);
    expect(existsSync(join(dir, "site/prod/.irsa-anywhere-state.json"))).toBe(false);
    const state = JSON.parse(await readFile(join(dir, "site.irsa-anywhere-state/prod/state.json"), "utf8"));
    expect(state.keys[kid].firstPublished).toBe(firstPublished);
  });
});
