// The README's rotation walkthrough for Cluster API and EKS Anywhere, command by command, against
// a fake API server: keygen keeps the old public key beside the new one, with no hand-edited
// base64. `kubectl apply` and `kubectl create secret` are played by setting the secret the way
// they would leave it.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runCli } from "./support/cli.js";
import { type FakeKubernetes, signingKeySecret, startFakeKubernetes } from "./support/fake-kubernetes.js";
import { createCertificateAuthority } from "./support/tls.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bundle = join(root, "packages/cli/dist/bundle/irsa-anywhere.cjs");
const issuer = "https://oidc.example.com/prod";

let dir: string;
let work: string;
let api: FakeKubernetes;
/** The management cluster's kubeconfig, where EKS Anywhere keeps every cluster's <name>-sa. */
let mgmtKubeconfig: string;

beforeAll(async () => {
  if (!existsSync(bundle)) await promisify(execFile)("pnpm", ["run", "build"], { cwd: root });
  dir = await mkdtemp(join(tmpdir(), "irsa-keygen-rotation-"));
  api = await startFakeKubernetes(createCertificateAuthority());
  await mkdir(join(dir, "mgmt"));
  mgmtKubeconfig = join(dir, "mgmt/mgmt-eks-a-cluster.kubeconfig");
  await writeFile(mgmtKubeconfig, api.kubeconfig());
});
afterAll(async () => {
  await api?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  work = await mkdtemp(join(dir, "run-"));
});

const cli = (...args: string[]) => runCli(args, { cwd: work, isolated: true, env: { HOME: work } });
const kidsOf = (jwksText: string) => JSON.parse(jwksText).keys.map((key: { kid: string }) => key.kid);
const publishedKids = async () => kidsOf(await readFile(join(work, "site/prod/keys.json"), "utf8"));
const site = ["--issuer", issuer, "--out-dir", "site"];

/** What `kubectl apply -f FILE` leaves in the API server: the manifest's data. */
async function kubectlApply(file: string): Promise<void> {
  const secret = parse(await readFile(join(work, file), "utf8"));
  const data = Object.fromEntries(
    Object.entries(secret.data as Record<string, string>).map(([field, value]) => [
      field,
      Buffer.from(value, "base64").toString(),
    ]),
  );
  api.setSecret(secret.metadata.namespace, secret.metadata.name, data);
}

describe("the rotation walkthrough on EKS Anywhere", () => {
  it.each([
    ["a management (or standalone) cluster", "prod"],
    ["a workload cluster, through the management cluster's kubeconfig", "w1"],
  ])("runs as written for %s", async (_, cluster) => {
    const old = signingKeySecret();
    api.setSecret("eksa-system", `${cluster}-sa`, old.data);
    const clusterArgs = ["--cluster", cluster, "--kubeconfig", mgmtKubeconfig];
    expect((await cli("publish", ...clusterArgs, ...site)).code).toBe(0);

    // 1. The next pair, and the secret that signs with it and still verifies the old key.
    const made = await cli(
      "keygen",
      "--out-dir",
      "next",
      "--secret-manifest",
      `next/${cluster}-sa.yaml`,
      ...clusterArgs,
      "--json",
    );
    expect(made.stderr).toBe("");
    expect(made.code).toBe(0);
    expect(made.stdout).not.toMatch(/PRIVATE|BEGIN/);
    const { kid: newKid, kept } = JSON.parse(made.stdout);
    expect(kept).toEqual([old.kid]);
    expect((await stat(join(work, `next/${cluster}-sa.yaml`))).mode & 0o777).toBe(0o600);
    const manifest = await cli("keys", "--secret-file", `next/${cluster}-sa.yaml`, "--no-empty-kid");
    expect(kidsOf(manifest.stdout)).toEqual([newKid, old.kid]);

    // 2. Publish the next key ahead.
    const prepared = await cli("rotate", "prepare", ...clusterArgs, "--next-key", "next/sa.pub", ...site);
    expect(prepared.code).toBe(0);
    expect(await publishedKids()).toEqual([old.kid, newKid, ""]);

    // 3. Put the new secret in place (kubectl apply), roll the control plane, and confirm.
    await kubectlApply(`next/${cluster}-sa.yaml`);
    const confirmed = await cli("rotate", "confirm", ...clusterArgs, ...site);
    expect(confirmed.stderr).toBe("");
    expect(confirmed.code).toBe(0);

    // 4. A day later: the secret without the old key (kubectl create secret ... --from-file),
    //    then prune once the retention has passed (0s here, in place of the day).
    api.setSecret("eksa-system", `${cluster}-sa`, {
      "tls.crt": await readFile(join(work, "next/sa.pub"), "utf8"),
      "tls.key": await readFile(join(work, "next/sa.key"), "utf8"),
    });
    expect((await cli("publish", ...clusterArgs, ...site)).code).toBe(0);
    const pruned = await cli("rotate", "prune", ...clusterArgs, ...site, "--retain", "0s");
    expect(pruned.code).toBe(0);
    expect(await publishedKids()).toEqual([newKid, ""]);
  });
});

describe("irsa-anywhere keygen keeping the previous key", () => {
  it("keeps every public key of a PEM file, read as every key source reads it, never its private half", async () => {
    const old = signingKeySecret();
    await writeFile(join(work, "old.key"), old.data["tls.key"] ?? "", { mode: 0o600 });
    const made = await cli(
      "keygen",
      "--secret-manifest",
      "prod-sa.yaml",
      "--name",
      "prod-sa",
      "--keep-public-key",
      "old.key",
      "--json",
    );
    expect(made.code).toBe(0);
    const secret = parse(await readFile(join(work, "prod-sa.yaml"), "utf8"));
    expect(Buffer.from(secret.data["tls.crt"], "base64").toString()).not.toContain("PRIVATE");
    const keys = await cli("keys", "--secret-file", "prod-sa.yaml", "--no-empty-kid");
    expect(kidsOf(keys.stdout)).toEqual([JSON.parse(made.stdout).kid, old.kid]);
  });

  it("keeps the key a secret file signs with, not the keys its tls.crt still lists from before", async () => {
    const current = signingKeySecret();
    const older = signingKeySecret();
    const secretFile = {
      kind: "Secret",
      data: {
        "tls.crt": Buffer.from(`${current.data["tls.crt"]}${older.data["tls.crt"]}`).toString("base64"),
        "tls.key": Buffer.from(current.data["tls.key"] ?? "").toString("base64"),
      },
    };
    await writeFile(join(work, "prod-sa.json"), JSON.stringify(secretFile));
    const made = await cli(
      "keygen",
      "--secret-manifest",
      "new.yaml",
      "--name",
      "prod-sa",
      "--secret-file",
      "prod-sa.json",
      "--json",
    );
    expect(made.code).toBe(0);
    expect(JSON.parse(made.stdout).kept).toEqual([current.kid]);
  });

  it("says where a workload cluster's secret is when it is not found, in one line, and writes nothing", async () => {
    const workloadKubeconfig = join(work, "w2-eks-a-cluster.kubeconfig");
    await writeFile(workloadKubeconfig, api.kubeconfig());
    const result = await cli(
      "keygen",
      "--out-dir",
      "next",
      "--secret-manifest",
      "next/w2-sa.yaml",
      "--cluster",
      "w2",
      "--kubeconfig",
      workloadKubeconfig,
    );
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/no secret w2-sa in namespace eksa-system/);
    expect(result.stderr).toMatch(
      /workload cluster.*management cluster.*--kubeconfig <mgmt>\/<mgmt>-eks-a-cluster\.kubeconfig/,
    );
    expect(existsSync(join(work, "next"))).toBe(false);
  });

  it.each([
    ["a newline in --name", ["--name", "prod-sa\n  labels: {injected: yes}"], /secret name/],
    ["an upper-case --name", ["--name", "Prod-sa"], /secret name "Prod-sa"/],
    ["a newline in --namespace", ["--name", "prod-sa", "--namespace", "eksa-system\nkind: x"], /namespace/],
    ["a dotted --namespace", ["--name", "prod-sa", "--namespace", "eksa.system"], /namespace "eksa.system"/],
  ])("refuses %s with exit 2, one line, and no file", async (_, args, message) => {
    const result = await cli(
      "keygen",
      "--out-dir",
      "next",
      "--secret-manifest",
      "next/prod-sa.yaml",
      ...args,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(existsSync(join(work, "next/sa.key"))).toBe(false);
    expect(existsSync(join(work, "next/prod-sa.yaml"))).toBe(false);
  });

  it("refuses a previous key without a manifest to keep it in", async () => {
    const result = await cli(
      "keygen",
      "--out-dir",
      "next",
      "--cluster",
      "prod",
      "--kubeconfig",
      mgmtKubeconfig,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/add --secret-manifest FILE/);
    expect(existsSync(join(work, "next"))).toBe(false);
  });
});
