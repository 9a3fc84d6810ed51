// What a test of an installed CLI (npm tarballs, the standalone file) runs it against: the real
// AWS SDK against moto and the Kubernetes client against the local API test server, so that a
// dependency missing from an install fails the test instead of a user's first publish.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { type FakeKubernetes, startFakeKubernetes } from "./fake-kubernetes.js";
import { generateTestKey, pem } from "./keys.js";
import { awsTestEnv, type MotoServer, s3TestClientConfig, startMoto } from "./moto.js";
import { createCertificateAuthority } from "./tls.js";

export interface InstalledCliTargets {
  /** A folder holding `sa.pub` (an RSA public key) and `kubeconfig` (for {@link api}). */
  readonly dir: string;
  /** An empty bucket in moto. */
  readonly bucket: string;
  /** The environment of a run: moto's endpoint and credentials, HOME the folder above. */
  readonly env: Record<string, string>;
  readonly moto: MotoServer;
  /** Serves the cluster's JWKS (`--cluster-jwks`): one RSA key, not the one in `sa.pub`. */
  readonly api: FakeKubernetes;
  close(): Promise<void>;
}

/**
 * Starts moto with an empty bucket and the API test server with a signing key, and writes the
 * files a run names.
 *
 * @example
 * const targets = await startInstalledCliTargets();
 * await runCli(["keys", "--cluster-jwks", "--kubeconfig", "kubeconfig"], { cwd: targets.dir, env: targets.env, isolated: true });
 * await targets.close();
 */
export async function startInstalledCliTargets(): Promise<InstalledCliTargets> {
  const dir = await mkdtemp(join(tmpdir(), "irsa-installed-cli-"));
  const moto = await startMoto();
  const api = await startFakeKubernetes(createCertificateAuthority());
  const bucket = "installed-cli-bucket";
  await new S3Client(s3TestClientConfig(moto.endpoint)).send(new CreateBucketCommand({ Bucket: bucket }));
  api.setJwks([generateTestKey({ type: "rsa", bits: 2048 }).publicKey]);
  await writeFile(join(dir, "kubeconfig"), api.kubeconfig());
  await writeFile(join(dir, "sa.pub"), pem(generateTestKey({ type: "rsa", bits: 2048 }).publicKey, "spki"));
  return {
    dir,
    bucket,
    env: { ...awsTestEnv(moto.endpoint), HOME: dir },
    moto,
    api,
    async close() {
      await Promise.allSettled([moto.stop(), api.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
