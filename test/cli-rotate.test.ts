// keygen and the rotate phases through the built CLI, publishing into a directory.
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "irsa-rotate-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(args, { cwd: dir, isolated: true, env: { HOME: dir } });
const issuer = "https://oidc.example.com/prod";
const where = ["--issuer", issuer, "--out-dir", "site"];
const publishedKids = async () =>
  JSON.parse(await readFile(join(dir, "site/prod/keys.json"), "utf8")).keys.map(
    (k: { kid: string }) => k.kid,
  );

describe("irsa-anywhere keygen", () => {
  it("writes the private key 0600 and the public key, and prints only the kid and file names", async () => {
    const result = await cli("keygen", "--out-dir", ".", "--type", "ec-p256");
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/PRIVATE|BEGIN/);
    expect((await stat(join(dir, "sa.key"))).mode & 0o777).toBe(0o600);
    const kid = /kid: (\S+)/.exec(result.stdout)?.[1];
    const jwks = JSON.parse((await cli("keys", "--key", "sa.pub", "--no-empty-kid")).stdout);
    expect(jwks.keys).toEqual([expect.objectContaining({ kid, crv: "P-256", alg: "ES256" })]);
  });

  it("never overwrites a key, and leaves the existing one as it was", async () => {
    await cli("keygen", "--out-dir", ".");
    const before = await readFile(join(dir, "sa.key"), "utf8");
    const again = await cli("keygen", "--out-dir", ".");
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
    expect(await readFile(join(dir, "sa.key"), "utf8")).toBe(before);
  });

  it("writes a Secret manifest (0600) that the key sources read back", async () => {
    const result = await cli("keygen", "--secret-manifest", "next-sa.yaml", "--name", "prod-sa", "--json");
    expect(result.code).toBe(0);
    const { kid } = JSON.parse(result.stdout);
    expect((await stat(join(dir, "next-sa.yaml"))).mode & 0o777).toBe(0o600);
    const jwks = JSON.parse((await cli("keys", "--secret-file", "next-sa.yaml")).stdout);
    expect(jwks.keys[0].kid).toBe(kid);
  });

  it("makes its directory 0700, and names a missing parent rather than making it", async () => {
    expect((await cli("keygen", "--out-dir", "next")).code).toBe(0);
    expect((await stat(join(dir, "next"))).mode & 0o777).toBe(0o700);
    const nested = await cli("keygen", "--out-dir", "missing/next");
    expect(nested.code).toBe(2);
    expect(nested.stderr).toMatch(
      /cannot create missing\/next: ENOENT; check that its parent directory exists/,
    );
    expect(nested.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("refuses an unknown key type with one line", async () => {
    const result = await cli("keygen", "--out-dir", ".", "--type", "ed25519");
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  });
});

describe("irsa-anywhere rotate", () => {
  it("walks prepare, confirm and prune, refusing each step out of order", async () => {
    await cli("keygen", "--out-dir", ".");
    const oldKid = JSON.parse((await cli("keys", "--key", "sa.key")).stdout).keys[0].kid;
    expect((await cli("publish", "--key", "sa.key", ...where)).code).toBe(0);

    const missing = await cli("rotate", "prepare", "--key", "sa.key", ...where);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--next-key/);

    await cli("keygen", "--out-dir", "n2"); // a directory keygen creates
    const prepared = await cli(
      "rotate",
      "prepare",
      "--key",
      "sa.key",
      "--next-key",
      "n2/sa.pub",
      ...where,
      "--json",
    );
    expect(prepared.code).toBe(0);
    const n2Kid = JSON.parse(prepared.stdout).publish.keys.pending[0];
    expect(await publishedKids()).toEqual([oldKid, n2Kid, ""]);

    const status = await cli("rotate", "status", "--key", "sa.key", ...where);
    expect(status.stdout).toMatch(/^rotation: prepared/m);

    const tooEarly = await cli("rotate", "confirm", "--key", "sa.key", "--key", "n2/sa.pub", ...where);
    expect(tooEarly.code).toBe(1);
    expect(tooEarly.stderr).toMatch(/still signs with/);
    expect(tooEarly.stderr.trimEnd().split("\n")).toHaveLength(1);
    // For a job's log collector, the refusal is a JSON line like every other action.
    const tooEarlyJson = await cli("rotate", "confirm", "--key", "sa.key", ...where, "--log-format", "json");
    expect(tooEarlyJson.code).toBe(1);
    expect(JSON.parse(tooEarlyJson.stderr.trimEnd().split("\n").at(-1) ?? "")).toMatchObject({
      level: "error",
      action: "failed",
      exitCode: 1,
      message: expect.stringMatching(/still signs with/),
    });

    const confirmed = await cli(
      "rotate",
      "confirm",
      "--key",
      "n2/sa.key",
      "--key",
      "sa.pub",
      ...where,
      "--log-format",
      "json",
    );
    expect(confirmed.code).toBe(0);
    const events = confirmed.stderr
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events.map((e: { action: string }) => e.action)).toContain("rotate-confirm");
    expect(confirmed.stdout).toBe("");

    const notYet = await cli("rotate", "prune", "--key", "n2/sa.key", "--key", "sa.pub", ...where);
    expect(notYet.code).toBe(0); // the old key is still in the cluster: nothing retired, nothing to do
    expect(notYet.stdout).toMatch(/nothing to remove/);
    const notYetJson = await cli(
      "rotate",
      "prune",
      "--key",
      "n2/sa.key",
      "--key",
      "sa.pub",
      ...where,
      "--json",
    );
    expect(JSON.parse(notYetJson.stdout).outcome).toBe("nothing-to-remove");
    await cli("publish", "--key", "n2/sa.key", ...where); // the old key leaves the cluster
    // Waiting for the retention is what a scheduled prune sees most days: exit 0, with the date.
    const waiting = await cli("rotate", "prune", "--key", "n2/sa.key", ...where);
    expect(waiting.code).toBe(0);
    expect(waiting.stdout).toMatch(/may go at/);
    const waitingJson = await cli("rotate", "prune", "--key", "n2/sa.key", ...where, "--json");
    expect(waitingJson.code).toBe(0);
    expect(JSON.parse(waitingJson.stdout)).toMatchObject({
      outcome: "nothing-yet",
      removableAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(await publishedKids()).toEqual([n2Kid, oldKid, ""]);

    const shortRetention = await cli("rotate", "prune", "--key", "n2/sa.key", ...where, "--retain", "0s");
    expect(shortRetention.code).toBe(0);
    expect(shortRetention.stdout).toMatch(/removed/);
    expect(await publishedKids()).toEqual([n2Kid, ""]);
  });

  it("of three prepares with different next keys at once, exactly one wins; the others exit 1 naming it", async () => {
    await cli("keygen", "--out-dir", ".");
    expect((await cli("publish", "--key", "sa.key", ...where)).code).toBe(0);
    const nexts = ["n1", "n2", "n3"];
    for (const next of nexts) await cli("keygen", "--out-dir", next);
    const runs = await Promise.all(
      nexts.map((next) =>
        cli("rotate", "prepare", "--key", "sa.key", "--next-key", `${next}/sa.pub`, ...where, "--json"),
      ),
    );
    const winners = runs.filter((run) => run.code === 0);
    expect(winners).toHaveLength(1);
    const winnerKid = JSON.parse(winners[0]?.stdout ?? "").publish.keys.pending[0];
    for (const loser of runs.filter((run) => run.code !== 0)) {
      expect(loser.code).toBe(1);
      expect(loser.stderr).toContain(`a rotation to ${winnerKid} is already prepared`);
      expect(loser.stderr.trimEnd().split("\n")).toHaveLength(1);
    }
    const status = await cli("rotate", "status", "--key", "sa.key", ...where);
    expect(status.stdout).toMatch(new RegExp(`^rotation: prepared: next key ${winnerKid} `, "m"));
  });

  it("refuses a bad --retain with one line", async () => {
    await cli("keygen", "--out-dir", ".");
    const result = await cli("publish", "--key", "sa.key", ...where, "--retain", "soon");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/not a duration/);
  });
});

describe("irsa-anywhere rotate <phase>: a command of its own", () => {
  it("gives each phase its own help, with only that phase's options", async () => {
    const prepare = await cli("rotate", "prepare", "--help");
    const confirm = await cli("rotate", "confirm", "--help");
    expect(prepare.code).toBe(0);
    expect(confirm.code).toBe(0);
    expect(prepare.stdout).toMatch(/^irsa-anywhere rotate prepare\n/);
    expect(prepare.stdout).toContain("--next-key");
    expect(confirm.stdout).toMatch(/^irsa-anywhere rotate confirm\n/);
    expect(confirm.stdout).not.toContain("--next-key");
    expect(confirm.stdout).not.toContain("prepare:");
  });

  it.each([
    ["no phase", ["rotate"], /say which phase/],
    ["an unknown phase", ["rotate", "finish", ...where], /unknown|Unknown/],
    [
      "--next-key beside another phase",
      ["rotate", "confirm", "--key", "sa.key", "--next-key", "n2/sa.pub", ...where],
      /^irsa-anywhere: Unknown argument: next-key; see irsa-anywhere rotate confirm --help$/m,
    ],
  ])("refuses %s with one line, exit 2", async (_name, args, reason) => {
    const result = await cli(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(reason);
  });

  it("prints the phase's report for -o json as for --json", async () => {
    await cli("keygen", "--out-dir", "o");
    const json = await cli("rotate", "status", "--key", "o/sa.key", ...where, "--json");
    const output = await cli("rotate", "status", "--key", "o/sa.key", ...where, "-o", "json");
    expect(json.code).toBe(0);
    expect(output.code).toBe(0);
    expect(JSON.parse(output.stdout)).toEqual(JSON.parse(json.stdout));
  });
});
