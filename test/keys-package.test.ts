// What a library user gets who installs @irsa-anywhere/keys alone: the packed tarballs (keys and
// its one workspace dependency, errors) installed into an empty folder with TypeScript, a file
// that turns a PEM into a JWKS type-checked under strict with skipLibCheck false, and run. Keys'
// cluster sources load @irsa-anywhere/kube (and client-node) only when named, and that is an
// optional peer: none of it, nor any AWS SDK, may arrive with keys.
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "irsa-keys-package-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function pack(name: string): Promise<string> {
  await run("pnpm", ["pack", "--pack-destination", dir], { cwd: join(root, "packages", name) });
  const tarball = (await readdir(dir)).find((file) => file.startsWith(`irsa-anywhere-${name}-`));
  if (!tarball) throw new Error(`pnpm pack wrote no tarball for ${name}`);
  return join(dir, tarball);
}

const program = `import { buildJwks, publicKeysFromPem, serializeJwks, type Jwks } from "@irsa-anywhere/keys";
import { readFileSync } from "node:fs";

const jwks: Jwks = buildJwks(publicKeysFromPem(readFileSync("sa.pub", "utf8"), "sa.pub"));
process.stdout.write(serializeJwks(jwks));
`;

describe("@irsa-anywhere/keys installed alone", () => {
  it("builds a JWKS from a PEM under strict type checks, with no Kubernetes client and no AWS SDK installed", async () => {
    const app = join(dir, "app");
    await mkdir(app);
    const tarballs = [await pack("errors"), await pack("keys")];
    const typescript = (await import("typescript")).version;
    await writeFile(
      join(app, "package.json"),
      JSON.stringify({ name: "app", private: true, type: "module" }),
    );
    // npm may fetch the public dependencies (yaml, TypeScript, Node's types) from the registry.
    await run(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        ...tarballs,
        `typescript@${typescript}`,
        // The Node line of the engines field, as the catalog pins it.
        "@types/node@20",
      ],
      { cwd: app },
    );
    await writeFile(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          types: ["node"],
          strict: true,
          skipLibCheck: false,
          noEmit: true,
        },
        files: ["main.ts"],
      }),
    );
    await writeFile(join(app, "main.ts"), program);
    // Checks keys' and errors' published .d.ts files too (skipLibCheck false): they must name
    // nothing that is not installed.
    await run(join(app, "node_modules", ".bin", "tsc"), ["-p", "."], { cwd: app });

    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    await writeFile(join(app, "sa.pub"), publicKey.export({ type: "spki", format: "pem" }));
    // The same program without its types, for Node 20, which cannot run TypeScript.
    await writeFile(join(app, "main.mjs"), program.replace(", type Jwks", "").replace(": Jwks", ""));
    const { stdout } = await run(process.execPath, ["main.mjs"], { cwd: app });
    const jwks = JSON.parse(stdout) as { keys: Array<{ kty: string; alg: string; kid: string }> };
    expect(jwks.keys[0]).toMatchObject({ kty: "RSA", alg: "RS256" });

    const modules = join(app, "node_modules");
    expect(existsSync(join(modules, "@irsa-anywhere", "keys"))).toBe(true);
    expect(existsSync(join(modules, "@kubernetes", "client-node"))).toBe(false);
    expect(existsSync(join(modules, "@irsa-anywhere", "kube"))).toBe(false);
    expect(existsSync(join(modules, "@aws-sdk"))).toBe(false);
  }, 300_000);
});
