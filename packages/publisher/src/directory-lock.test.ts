// The directory lock, held by a real process that is then killed, as a publisher killed mid-write.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { directoryTarget } from "./index.js";

const lockModule = fileURLToPath(new URL("../dist/lib/directory-lock.js", import.meta.url));
const write = { contentType: "application/json", cacheControl: "no-store", expectedVersion: null };

let dir: string;
let holder: ChildProcess | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "irsa-lock-"));
});
afterEach(async () => {
  holder?.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

/** A separate node process that takes the site's lock and holds it until it is killed. */
function holdLock(site: string): Promise<ChildProcess> {
  const script = `const { acquireDirectoryLock } = await import(${JSON.stringify(lockModule)});
await acquireDirectoryLock(${JSON.stringify(`${site}.irsa-anywhere.lock`)});
process.stdout.write("locked\\n");
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  holder = child;
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (chunk) => String(chunk).includes("locked") && resolve(child));
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`the lock holder exited (${code})`)));
  });
}

describe("the directory target's lock", () => {
  it("records its owner, and is taken over at once when that process was killed", async () => {
    const site = join(dir, "site");
    const child = await holdLock(site);
    const owner = JSON.parse(await readFile(`${site}.irsa-anywhere.lock/owner.json`, "utf8"));
    expect(owner).toMatchObject({
      pid: child.pid,
      hostname: expect.any(String),
      startedAt: expect.any(String),
    });
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));

    const started = Date.now();
    await directoryTarget(site).write("keys.json", "{}\n", write);
    expect(Date.now() - started).toBeLessThan(2_000); // not the 10 s wait, nor the 30 s staleness bound
    expect(await readFile(join(site, "keys.json"), "utf8")).toBe("{}\n");
    expect(existsSync(`${site}.irsa-anywhere.lock`)).toBe(false);
  });

  it("waits for a live owner, and names it when it does not let go", async () => {
    const site = join(dir, "site");
    const child = await holdLock(site);
    const failure = directoryTarget(site).write("keys.json", "{}\n", write);
    await expect(failure).rejects.toMatchObject({ code: "ERR_TARGET_UNWRITABLE" });
    await expect(failure).rejects.toThrow(new RegExp(`held for \\d+s by process ${child.pid} on `));
    expect(existsSync(join(site, "keys.json"))).toBe(false);
  }, 20_000);
});
