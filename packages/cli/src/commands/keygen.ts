import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { generateSigningKey, type SigningKeyType } from "@irsa-anywhere/keys";
import { UsageError } from "../usage-error.js";

export interface KeygenArgs {
  type: SigningKeyType;
  "out-dir"?: string | undefined;
  "secret-manifest"?: string | undefined;
  name?: string | undefined;
  namespace: string;
  json: boolean;
}

/**
 * Writes a new signing key pair: PEM files (the private one 0600) or a Secret manifest (0600)
 * in the shape of the `<cluster>-sa` secret. The private key goes only into those files; stdout
 * gets the kid and the file names.
 */
export async function runKeygen(args: KeygenArgs): Promise<void> {
  if ((args["out-dir"] === undefined) === (args["secret-manifest"] === undefined)) {
    throw new UsageError(
      "say where the key goes: --out-dir DIR (sa.key and sa.pub) or --secret-manifest FILE",
    );
  }
  const pair = generateSigningKey(args.type);
  const written: string[] = [];
  if (args["out-dir"] !== undefined) {
    // A new directory for a private key is the owner's alone. Only the last level is made: a
    // recursive mkdir never returns on Node 20 where the kernel answers ENOENT under an existing
    // parent (/proc, /sys), and a mistyped parent is better named than made.
    await mkdir(args["out-dir"], { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "EEXIST") return;
      throw new UsageError(
        `cannot create ${args["out-dir"]}: ${error.code ?? error.message}; check that its parent directory exists and is writable`,
      );
    });
    const privateFile = join(args["out-dir"], "sa.key");
    const publicFile = join(args["out-dir"], "sa.pub");
    await writeNew([
      [privateFile, pair.privateKeyPem, 0o600],
      [publicFile, pair.publicKeyPem, 0o644],
    ]);
    written.push(privateFile, publicFile);
  } else {
    const file = args["secret-manifest"] as string;
    if (!args.name) throw new UsageError("--secret-manifest needs the secret's --name, e.g. prod-sa-next");
    await writeNew([
      [file, secretManifest(args.name, args.namespace, pair.publicKeyPem, pair.privateKeyPem), 0o600],
    ]);
    written.push(file);
  }
  const summary = { kid: pair.key.kid, alg: pair.key.alg, type: args.type, files: written };
  process.stdout.write(
    args.json
      ? `${JSON.stringify(summary, null, 2)}\n`
      : `kid: ${summary.kid}\nalg: ${summary.alg}\nwrote: ${written.join(", ")}\n`,
  );
}

/** The shape of Cluster API's and EKS Anywhere's `<cluster>-sa` secret. */
function secretManifest(name: string, namespace: string, publicPem: string, privatePem: string): string {
  const b64 = (text: string) => Buffer.from(text).toString("base64");
  return [
    "apiVersion: v1",
    "kind: Secret",
    "metadata:",
    `  name: ${name}`,
    `  namespace: ${namespace}`,
    "type: cluster.x-k8s.io/secret",
    "data:",
    `  tls.crt: ${b64(publicPem)}`,
    `  tls.key: ${b64(privatePem)}`,
    "",
  ].join("\n");
}

/** Creates every file or none: an existing file is never overwritten, a failure removes what was made. */
async function writeNew(files: Array<[string, string, number]>): Promise<void> {
  const made: string[] = [];
  try {
    for (const [file, content, mode] of files) {
      const handle = await open(file, "wx", mode);
      made.push(file);
      try {
        await handle.writeFile(content);
      } finally {
        await handle.close();
      }
    }
  } catch (error) {
    await Promise.all(made.map((file) => rm(file, { force: true })));
    const code = (error as NodeJS.ErrnoException).code;
    const file = (error as NodeJS.ErrnoException).path ?? "the file";
    throw new UsageError(
      code === "EEXIST"
        ? `${file} already exists; choose another place, or move it away (a signing key is never overwritten)`
        : `cannot write ${file}: ${code ?? (error as Error).message}; check that the directory exists and is writable`,
    );
  }
}
