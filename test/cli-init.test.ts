// `irsa-anywhere init` as a user runs it before the cluster exists: against a local moto (S3) and
// cluster configuration files in a temp dir. What a user notices: the bucket and its Block Public
// Access, the one line added to the file, nothing written on a second run, and nothing at all
// changed on a refusal or a dry run.

import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudFrontClient, ListDistributionsCommand } from "@aws-sdk/client-cloudfront";
import {
  CreateBucketCommand,
  GetBucketLocationCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { publicKeysFromPem } from "@irsa-anywhere/keys";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";
import { generateTestKey, pem } from "./support/keys.js";
import { lineDiff } from "./support/line-diff.js";
import {
  awsTestClientConfig,
  awsTestEnv,
  type MotoServer,
  s3TestClientConfig,
  startMoto,
} from "./support/moto.js";
import { startRecordingProxy } from "./support/recording-proxy.js";
import { blockPublicAccess, bucketNames } from "./support/s3-state.js";

let moto: MotoServer;
let s3: S3Client;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client(s3TestClientConfig(moto.endpoint));
  dir = await mkdtemp(join(tmpdir(), "irsa-cli-init-"));
  env = { ...awsTestEnv(moto.endpoint), HOME: dir };
});
afterAll(async () => {
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});
let work: string;
let count = 0;
beforeEach(async () => {
  await moto.reset();
  work = join(dir, `case-${++count}`);
  await mkdir(work);
});

const cli = (args: string[]) => runCli(["init", ...args], { env, isolated: true, cwd: work });

const clusterSpec = `# prod: eksctl anywhere generate clusterconfig prod --provider vsphere
apiVersion: anywhere.eks.amazonaws.com/v1alpha1
kind: Cluster
metadata:
  name: prod
spec:
  clusterNetwork:
    cniConfig: {cilium: {}}
  kubernetesVersion: "1.31"
  podIamConfig:   # IRSA
    # serviceAccountIssuer goes here
  workerNodeGroupConfigurations:
    - count: 2   # workers
      name: md-0
---
apiVersion: anywhere.eks.amazonaws.com/v1alpha1
kind: VSphereDatacenterConfig
metadata:
  name: prod
spec:
  datacenter: 'dc1'
`;

/** Every request moto answered since `since` requests, with the methods that change nothing left out. */
async function writesSince(since: number): Promise<string[]> {
  return (await moto.requests())
    .slice(since)
    .filter((request) => request.method !== "GET" && request.method !== "HEAD")
    .map((request) => `${request.method} ${request.path}`);
}

describe("irsa-anywhere init --cluster-spec", () => {
  it("creates the bucket in its region for the public-read policy and adds the one line to the Cluster", async () => {
    const file = join(work, "prod.yaml");
    await writeFile(file, clusterSpec);
    await chmod(file, 0o600);
    const result = await cli([
      "--bucket",
      "prod-oidc",
      "--prefix",
      "prod",
      "--region",
      "us-west-2",
      "--cluster-spec",
      "prod.yaml",
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const issuer = "https://prod-oidc.s3.us-west-2.amazonaws.com/prod";
    expect(result.stdout).toContain(`issuer: ${issuer}\n`);
    expect(result.stdout).toMatch(/created\s+bucket prod-oidc in us-west-2/);
    const after = await readFile(file, "utf8");
    expect(lineDiff(clusterSpec, after)).toEqual({
      removed: [],
      added: [`    serviceAccountIssuer: ${issuer}`],
    });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await writesSince(0)).toEqual(["PUT /prod-oidc/", "PUT /prod-oidc/?publicAccessBlock="]);
    expect((await s3.send(new GetBucketLocationCommand({ Bucket: "prod-oidc" }))).LocationConstraint).toBe(
      "us-west-2",
    );
    expect(await blockPublicAccess(s3, "prod-oidc")).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    });
  });

  it("makes only reads on a second run, and leaves the file as it is", async () => {
    const file = join(work, "prod.yaml");
    await writeFile(file, clusterSpec);
    const args = ["--bucket", "prod-oidc", "--region", "us-east-1", "--cluster-spec", "prod.yaml", "--json"];
    const first = await cli(args);
    expect(first.code).toBe(0);
    const written = await stat(file);
    const since = (await moto.requests()).length;

    const again = await cli(args);
    expect(again.code).toBe(0);
    expect(await writesSince(since)).toEqual([]);
    const output = JSON.parse(again.stdout);
    expect(output).toMatchObject({
      issuer: "https://prod-oidc.s3.us-east-1.amazonaws.com",
      bucket: { action: "unchanged", written: false },
      config: { action: "unchanged", written: false },
    });
    const unchanged = await stat(file);
    expect([unchanged.ino, unchanged.mtimeMs]).toEqual([written.ino, written.mtimeMs]);
  });

  it("creates a bucket in us-east-1 with no location constraint", async () => {
    const result = await cli(["--bucket", "east-oidc", "--region", "us-east-1"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "spec.podIamConfig.serviceAccountIssuer: https://east-oidc.s3.us-east-1.amazonaws.com\n",
    );
    const location = (await s3.send(new GetBucketLocationCommand({ Bucket: "east-oidc" })))
      .LocationConstraint;
    expect(location ?? "").toBe("");
  });

  it("loosens an existing bucket's Block Public Access only as far as the public-read policy needs", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "locked-oidc" }));
    const allOn = {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    };
    await s3.send(
      new PutPublicAccessBlockCommand({ Bucket: "locked-oidc", PublicAccessBlockConfiguration: allOn }),
    );
    const result = await cli(["--bucket", "locked-oidc", "--region", "us-east-1"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /updated\s+bucket locked-oidc .*BlockPublicPolicy and RestrictPublicBuckets turned off/,
    );
    expect(await blockPublicAccess(s3, "locked-oidc")).toEqual({
      ...allOn,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    });
  });

  it("changes nothing with --dry-run, and says what it would do", async () => {
    const file = join(work, "prod.yaml");
    await writeFile(file, clusterSpec);
    const result = await cli([
      "--bucket",
      "dry-oidc",
      "--region",
      "us-west-2",
      "--cluster-spec",
      "prod.yaml",
      "--dry-run",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/would create\s+bucket dry-oidc in us-west-2/);
    expect(result.stdout).toMatch(/would update\s+prod\.yaml: spec\.podIamConfig\.serviceAccountIssuer/);
    expect(await writesSince(0)).toEqual([]);
    expect(await bucketNames(s3)).toEqual([]);
    expect(await readFile(file, "utf8")).toBe(clusterSpec);
  });

  it("refuses a bucket that exists in another region: one line, exit 2, nothing changed", async () => {
    await s3.send(
      new CreateBucketCommand({
        Bucket: "west-oidc",
        CreateBucketConfiguration: { LocationConstraint: "us-west-2" },
      }),
    );
    const file = join(work, "prod.yaml");
    await writeFile(file, clusterSpec);
    const since = (await moto.requests()).length;
    const result = await cli([
      "--bucket",
      "west-oidc",
      "--region",
      "eu-west-1",
      "--cluster-spec",
      "prod.yaml",
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "irsa-anywhere: bucket west-oidc already exists in us-west-2, not eu-west-1; run again with --region us-west-2, or choose another --bucket\n",
    );
    expect(await writesSince(since)).toEqual([]);
    expect(await readFile(file, "utf8")).toBe(clusterSpec);
  });
});

describe("irsa-anywhere init --cloudfront", () => {
  const cloudFront = () =>
    new CloudFrontClient({ ...awsTestClientConfig(moto.endpoint), region: "us-east-1" });
  const distributions = async () =>
    (await cloudFront().send(new ListDistributionsCommand({}))).DistributionList?.Items ?? [];
  const where = ["--bucket", "private-oidc", "--prefix", "prod", "--region", "us-west-2", "--cloudfront"];

  it("makes the distribution before the cluster, writes its issuer, and publish later finds the same one", async () => {
    const file = join(work, "prod.yaml");
    await writeFile(file, clusterSpec);
    const result = await cli([...where, "--cluster-spec", "prod.yaml"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const [made, ...others] = await distributions();
    expect(others).toEqual([]);
    const issuer = `https://${made?.DomainName}/prod`;
    expect(made?.DomainName).toMatch(/^\w+\.cloudfront\.net$/);
    expect(result.stdout).toMatch(
      new RegExp(`created\\s+CloudFront distribution ${made?.Id} \\(${made?.DomainName}\\)`),
    );
    expect(result.stdout).toContain(`issuer: ${issuer}\n`);
    // Not waited for: the issuer is known now, and publish waits for it to deploy.
    expect(result.stdout).toMatch(/\(InProgress\)\n/);
    expect(result.stdout).toContain("(publish waits for the distribution to deploy");
    expect(result.stdout).toContain(
      "Once the cluster is up: irsa-anywhere publish --cluster NAME --bucket private-oidc --prefix prod --region us-west-2 --cloudfront\n",
    );
    expect(lineDiff(clusterSpec, await readFile(file, "utf8"))).toEqual({
      removed: [],
      added: [`    serviceAccountIssuer: ${issuer}`],
    });
    expect(await blockPublicAccess(s3, "private-oidc")).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    expect(made?.Origins?.Items?.[0]).toMatchObject({
      DomainName: "private-oidc.s3.us-west-2.amazonaws.com",
      OriginAccessControlId: expect.stringMatching(/.+/),
    });

    // A second run: reads only, the same distribution, the file left as it is.
    const since = (await moto.requests()).length;
    const again = await cli([...where, "--cluster-spec", "prod.yaml", "--json"]);
    expect(again.code).toBe(0);
    expect(await writesSince(since)).toEqual([]);
    expect(JSON.parse(again.stdout)).toMatchObject({
      issuer,
      bucket: { action: "unchanged" },
      distribution: { id: made?.Id, action: "unchanged" },
      config: { action: "unchanged", written: false },
    });

    // Once the cluster is up, publish --cloudfront serves the issuer through that distribution.
    await writeFile(
      join(work, "sa.pub"),
      pem(generateTestKey({ type: "rsa", bits: 2048 }).publicKey, "spki"),
    );
    const published = await runCli(["publish", "--key", "sa.pub", ...where, "--json"], {
      env,
      isolated: true,
      cwd: work,
    });
    expect(published.code).toBe(0);
    expect(JSON.parse(published.stdout)).toMatchObject({
      issuer,
      distribution: { id: made?.Id, action: "unchanged" },
    });
    expect(await distributions()).toHaveLength(1);
  });

  it("changes nothing with --dry-run, and shows a stand-in issuer for the distribution it would make", async () => {
    const result = await cli([...where, "--dry-run"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/would create\s+bucket private-oidc in us-west-2/);
    expect(result.stdout).toMatch(/would create\s+CloudFront distribution for dXXXX\.cloudfront\.net/);
    expect(result.stdout).toContain("issuer: https://new-distribution.cloudfront.net/prod\n");
    expect(result.stdout).not.toContain("publish waits");
    expect(await writesSince(0)).toEqual([]);
    expect(await bucketNames(s3)).toEqual([]);
    expect(await distributions()).toEqual([]);
  });
});

describe("irsa-anywhere init and someone else editing the file", () => {
  it("leaves a file that changed while init ran as it is, and says to run again", async () => {
    const file = join(work, "prod.yaml");
    await writeFile(file, clusterSpec);
    // init is held at its first AWS request, after it read the file; the file changes then.
    const proxy = await startRecordingProxy(moto.endpoint);
    let arrived: () => void = () => {};
    const atAws = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    proxy.hold = async () => {
      arrived();
      await released;
      return undefined;
    };
    try {
      const run = runCli(
        ["init", "--bucket", "prod-oidc", "--region", "us-east-1", "--cluster-spec", "prod.yaml"],
        {
          env: { ...env, AWS_ENDPOINT_URL: proxy.url },
          isolated: true,
          cwd: work,
        },
      );
      await atAws;
      const edited = clusterSpec.replace("name: md-0", "name: md-1");
      await writeFile(file, edited);
      release();
      const result = await run;
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        "irsa-anywhere: prod.yaml changed while init ran, so it was left as it is; run init again to add the issuer to the file as it is now\n",
      );
      expect(await readFile(file, "utf8")).toBe(edited);
    } finally {
      await proxy.close();
    }
  });
});

describe("irsa-anywhere init and an S3 that does not answer", () => {
  it("stops at --timeout naming the request, with the file as it was", async () => {
    const file = join(work, "prod.yaml");
    await writeFile(file, clusterSpec);
    const proxy = await startRecordingProxy(moto.endpoint);
    const never = new Promise<undefined>(() => {});
    proxy.hold = () => never;
    try {
      const result = await runCli(
        [
          "init",
          "--bucket",
          "prod-oidc",
          "--region",
          "us-east-1",
          "--cluster-spec",
          "prod.yaml",
          "--timeout",
          "2s",
        ],
        { env: { ...env, AWS_ENDPOINT_URL: proxy.url }, isolated: true, cwd: work },
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(`^irsa-anywhere: S3 at ${proxy.url} did not answer HeadBucket within`),
      );
      expect(await readFile(file, "utf8")).toBe(clusterSpec);
    } finally {
      await proxy.close();
    }
  });
});

describe("irsa-anywhere init --kubeadm-config", () => {
  const issuer = "https://kube-oidc.s3.us-east-1.amazonaws.com/lab";

  it.each([
    [
      "v1beta3, whose extraArgs is a mapping",
      `apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
apiServer:
  extraArgs:
    authorization-mode: Node,RBAC   # kept
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
`,
      [`    service-account-issuer: ${issuer}`, `    service-account-jwks-uri: ${issuer}/keys.json`],
    ],
    [
      "v1beta4, whose extraArgs is a list of {name, value}",
      `apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
apiServer:
  extraArgs:
    - name: authorization-mode   # kept
      value: Node,RBAC
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
`,
      [
        "    - name: service-account-issuer",
        `      value: ${issuer}`,
        "    - name: service-account-jwks-uri",
        `      value: ${issuer}/keys.json`,
      ],
    ],
  ])("sets the issuer flags in %s, and generates the key pair once", async (_name, config, added) => {
    const file = join(work, "kubeadm.yaml");
    await writeFile(file, config);
    const args = ["--bucket", "kube-oidc", "--prefix", "lab", "--region", "us-east-1"];
    const result = await cli([...args, "--kubeadm-config", "kubeadm.yaml", "--key-dir", "pki", "--json"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(lineDiff(config, await readFile(file, "utf8"))).toEqual({ removed: [], added });

    // The private key is in its 0600 file only, never in what the command prints.
    expect(result.stdout).not.toContain("PRIVATE KEY");
    const output = JSON.parse(result.stdout);
    const privateKey = await readFile(join(work, "pki", "sa.key"), "utf8");
    expect((await stat(join(work, "pki", "sa.key"))).mode & 0o777).toBe(0o600);
    const [publicKey] = publicKeysFromPem(await readFile(join(work, "pki", "sa.pub"), "utf8"), "sa.pub");
    expect(output.keys).toMatchObject({
      action: "create",
      kid: publicKey?.kid,
      install: { "pki/sa.key": "/etc/kubernetes/pki/sa.key", "pki/sa.pub": "/etc/kubernetes/pki/sa.pub" },
    });

    const since = (await moto.requests()).length;
    const again = await cli([...args, "--kubeadm-config", "kubeadm.yaml", "--key-dir", "pki"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/unchanged\s+pki\/sa\.key, pki\/sa\.pub/);
    expect(again.stdout).toContain("pki/sa.key -> /etc/kubernetes/pki/sa.key");
    expect(await readFile(join(work, "pki", "sa.key"), "utf8")).toBe(privateKey);
    expect(await writesSince(since)).toEqual([]);
  });
});

describe("irsa-anywhere init refuses bad input", () => {
  const kubeadm = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n";
  it.each([
    [
      "a kubeadm config given as a cluster spec",
      ["--cluster-spec", "kubeadm.yaml"],
      /^irsa-anywhere: kubeadm\.yaml: not an EKS Anywhere cluster spec .*: it holds "ClusterConfiguration"$/,
    ],
    [
      "a cluster spec given as a kubeadm config",
      ["--kubeadm-config", "prod.yaml"],
      /^irsa-anywhere: prod\.yaml: not a kubeadm ClusterConfiguration .*: it holds "Cluster", "VSphereDatacenterConfig"$/,
    ],
    [
      "a file that is not there",
      ["--cluster-spec", "absent.yaml"],
      /^irsa-anywhere: cannot read --cluster-spec absent\.yaml/,
    ],
    [
      "--domain without --cloudfront",
      ["--domain", "oidc.example.com"],
      /^irsa-anywhere: --domain is for --cloudfront; add --cloudfront, or leave it out$/,
    ],
    [
      "--certificate-arn without --cloudfront",
      ["--certificate-arn", "arn:aws:acm:us-east-1:123456789012:certificate/abc"],
      /^irsa-anywhere: --certificate-arn is for --cloudfront; add --cloudfront, or leave it out$/,
    ],
    [
      "a URL for --domain",
      [
        "--cloudfront",
        "--domain",
        "https://oidc.example.com",
        "--certificate-arn",
        "arn:aws:acm:us-east-1:123456789012:certificate/abc",
      ],
      /^irsa-anywhere: --domain "https:\/\/oidc\.example\.com" is not a DNS name; give the issuer's host alone/,
    ],
    [
      "--domain without its certificate",
      ["--cloudfront", "--domain", "oidc.example.com"],
      /^irsa-anywhere: a custom --domain needs its certificate: give --certificate-arn/,
    ],
    [
      "a certificate outside us-east-1",
      [
        "--cloudfront",
        "--domain",
        "oidc.example.com",
        "--certificate-arn",
        "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
      ],
      /^irsa-anywhere: certificate .* is in eu-west-1, and CloudFront uses certificates from us-east-1 only/,
    ],
    ["--key-dir without --kubeadm-config", ["--key-dir", "pki"], /add --kubeadm-config/],
    [
      "a key directory with half a pair",
      ["--kubeadm-config", "kubeadm.yaml", "--key-dir", "half"],
      /^irsa-anywhere: half has sa\.key but no sa\.pub; /,
    ],
    [
      "a prefix that climbs",
      ["--prefix", "../prod"],
      /^irsa-anywhere: --prefix "\.\.\/prod" is not a path of the issuer/,
    ],
    ["a bucket URL for a name", ["--bucket", "s3://prod-oidc"], /is not an S3 bucket name/],
    // Names an old us-east-1 bucket may carry, but no new one: S3 refuses them, and an issuer host
    // with capitals or an underscore could never match S3's TLS certificate.
    [
      "a new bucket with capitals",
      ["--bucket", "Prod_OIDC"],
      /"Prod_OIDC" cannot be a new S3 bucket's name: /,
    ],
    ["a new bucket name too short", ["--bucket", "ab"], /"ab" cannot be a new S3 bucket's name: /],
    [
      "a new bucket named like an IP address",
      ["--bucket", "192.168.5.4"],
      /cannot be a new S3 bucket's name/,
    ],
    ["both files", ["--cluster-spec", "prod.yaml", "--kubeadm-config", "kubeadm.yaml"], /mutually exclusive/],
  ])("%s: one line, exit 2, no bucket, no file changed", async (_name, extra, message) => {
    await writeFile(join(work, "prod.yaml"), clusterSpec);
    await writeFile(join(work, "kubeadm.yaml"), kubeadm);
    await mkdir(join(work, "half"));
    await writeFile(join(work, "half", "sa.key"), "not read");
    const bucket = extra.includes("--bucket") ? [] : ["--bucket", "prod-oidc"];
    const result = await cli([...bucket, "--region", "us-east-1", ...extra]);
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd()).toMatch(message);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(await bucketNames(s3)).toEqual([]);
    expect(await readFile(join(work, "prod.yaml"), "utf8")).toBe(clusterSpec);
    expect(await readFile(join(work, "kubeadm.yaml"), "utf8")).toBe(kubeadm);
    await expect(stat(join(work, "pki"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
