// The README's EKS Anywhere walkthrough and its two rotation walkthroughs, run as a user runs
// them: each shell block marked `<!-- walkthrough: NAME -->` is read from README.md, and every
// `irsa-anywhere` line (and shell assignment) in it runs exactly as written, through a real bash,
// with an `irsa-anywhere` on PATH that is the built CLI, in a working directory holding the
// kubeconfigs at the paths the README names. AWS is a local moto server (AWS_ENDPOINT_URL, fake
// credentials, AWS_REGION=us-west-2 as the walkthrough's region); each cluster is a fake
// Kubernetes API server.
//
// Lines of other tools are played by this test through the same real APIs, never run:
// - `aws iam create-role ... file://trust.json`: CreateRole in moto's IAM with that file.
// - `kubectl ... annotate serviceaccount api eks.amazonaws.com/role-arn=ARN`: the fake API server
//   answers for the service account with that annotation.
// - `kubectl ... apply -f next/prod-sa.yaml`: the manifest's secret replaces `prod-sa` in the
//   management cluster's fake API server.
// - `kubectl ... create secret generic prod-sa --from-file=... | kubectl ... apply -f -`: the
//   secret built from those files replaces `prod-sa`.
// - `kubectl ... patch kubeadmcontrolplane prod ... rolloutAfter ...`: nothing to do, since the
//   fake cluster signs with whatever `prod-sa` holds (a roll is what makes kube-apiserver do so).
// - The comment "switch the API server" in the three-phase walkthrough: `prod-sa` gets the next
//   key in `tls.key` and both public keys in `tls.crt`; "remove the old key from the API server":
//   `tls.crt` keeps only the next public key.
// - Waiting ("wait 5 minutes", "a day later") is not done: `prune` must then say nothing-yet.
// Not run at all: the by-hand `doctor` line, which fetches the issuer's documents from the real S3
// host (my-oidc-bucket.s3.us-west-2.amazonaws.com), which no local test can answer for; doctor's
// own tests run it against a local HTTPS issuer and moto. For the same reason `up`, whose last
// step is doctor, ends with exit 1 here: its check asserts that every step before doctor was done
// and that doctor's only failures are those of fetching the documents from that host
// (test/cli-up.test.ts runs `up` against a local issuer, exit 0).
//
// A line the test neither runs nor knows how to play, or an unknown comment, fails the test.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { GetOpenIDConnectProviderCommand, GetRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { CreateBucketCommand, DeleteBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { type CliResult, cliPath } from "./support/cli.js";
import { type FakeKubernetes, signingKeySecret, startFakeKubernetes } from "./support/fake-kubernetes.js";
import { CHECKS_THAT_FETCH_THE_ISSUER } from "./support/issuer-fetching-checks.js";
import { lineDiff } from "./support/line-diff.js";
import {
  awsTestClientConfig,
  awsTestEnv,
  type MotoServer,
  s3TestClientConfig,
  startMoto,
} from "./support/moto.js";
import { blockPublicAccess } from "./support/s3-state.js";
import { createCertificateAuthority } from "./support/tls.js";

const readmePath = fileURLToPath(new URL("../README.md", import.meta.url));
const region = "us-west-2";
const bucket = "my-oidc-bucket";
const account = "123456789012"; // moto's
const issuer = "https://my-oidc-bucket.s3.us-west-2.amazonaws.com/prod";
const selfHostedIssuer = "https://s3-us-west-2.amazonaws.com/my-oidc-bucket/prod";
const prodKubeconfig = "prod/prod-eks-a-cluster.kubeconfig";
const mgmtKubeconfig = "mgmt/mgmt-eks-a-cluster.kubeconfig";

/** One command of a walkthrough: as written (continuations kept) and as one line. */
interface Step {
  readonly written: string;
  readonly line: string;
}

/**
 * The commands of the shell block after `<!-- walkthrough: NAME -->`, its indentation removed,
 * continued lines joined, blank lines dropped; comment lines are kept as steps of their own.
 */
function walkthroughSteps(readme: string, name: string): Step[] {
  const marker = `<!-- walkthrough: ${name} -->`;
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no ${marker}`);
  const fence = /^([ \t]*)```sh\n([\s\S]*?)^\1```$/m.exec(readme.slice(at + marker.length));
  if (fence === null) throw new Error(`no sh block follows ${marker}`);
  const indent = fence[1] ?? "";
  const lines = (fence[2] ?? "").split("\n").map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l));
  const steps: Step[] = [];
  for (let i = 0; i < lines.length; i++) {
    let written = lines[i] ?? "";
    while (written.endsWith("\\") && i + 1 < lines.length) written += `\n${lines[++i]}`;
    if (written.trim() === "") continue;
    steps.push({ written, line: written.replace(/\s*\\\n\s*/g, " ").trim() });
  }
  return steps;
}

/** What the test has built for one walkthrough: a working directory, AWS and the clusters. */
interface World {
  readonly dir: string;
  readonly env: Record<string, string>;
  /** The cluster whose kubeconfig is prod/prod-eks-a-cluster.kubeconfig. */
  readonly prod: FakeKubernetes;
  /** The cluster holding eksa-system/prod-sa: prod itself, or the management cluster. */
  readonly signing: FakeKubernetes;
  /** What `prod-sa` holds now, as plain text. */
  secret: Record<string, string>;
  readonly issuer: string;
  readonly oldKid: string;
  nextKid?: string | undefined;
}

let moto: MotoServer;
let iam: IAMClient;
let s3: S3Client;
let shimDir: string;
const ca = createCertificateAuthority();
const readme = readFileSync(readmePath, "utf8");
const worlds: World[] = [];

beforeAll(async () => {
  moto = await startMoto();
  iam = new IAMClient(awsTestClientConfig(moto.endpoint));
  s3 = new S3Client({ ...s3TestClientConfig(moto.endpoint), region });
  // The `irsa-anywhere` a user has on PATH, running the built CLI.
  shimDir = await mkdtemp(join(tmpdir(), "irsa-walk-bin-"));
  await writeFile(
    join(shimDir, "irsa-anywhere"),
    `#!/bin/sh\nexec '${process.execPath}' '${cliPath}' "$@"\n`,
  );
  await chmod(join(shimDir, "irsa-anywhere"), 0o755);
});
afterAll(async () => {
  for (const world of worlds) {
    await world.prod.close();
    if (world.signing !== world.prod) await world.signing.close();
    await rm(world.dir, { recursive: true, force: true });
  }
  iam?.destroy();
  s3?.destroy();
  await moto?.stop();
  if (shimDir) await rm(shimDir, { recursive: true, force: true });
});
beforeEach(async () => {
  await moto.reset();
  // Step 1, played: the bucket, in the walkthrough's region.
  await s3.send(
    new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: region } }),
  );
});

/** A working directory with prod's kubeconfig (and mgmt's, for a workload cluster) where the README puts them. */
async function makeWorld(options: { issuer: string; workload?: boolean }): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), "irsa-walk-"));
  const prod = await startFakeKubernetes(ca);
  const signing = options.workload ? await startFakeKubernetes(ca) : prod;
  const key = signingKeySecret();
  signing.setSecret("eksa-system", "prod-sa", key.data);
  // The application's namespace, which the walkthrough's service account lives in.
  prod.objects.set("/api/v1/namespaces/payments", { metadata: { name: "payments" } });
  await mkdir(join(dir, "prod"));
  await writeFile(join(dir, prodKubeconfig), prod.kubeconfig());
  if (options.workload) {
    await mkdir(join(dir, "mgmt"));
    await writeFile(join(dir, mgmtKubeconfig), signing.kubeconfig());
  }
  const env = {
    PATH: `${shimDir}:${process.env.PATH ?? ""}`,
    HOME: dir,
    NO_COLOR: "1",
    ...awsTestEnv(moto.endpoint),
    AWS_REGION: region,
    // The three-phase walkthrough names no kubeconfig: the user's current one is prod's.
    KUBECONFIG: join(dir, prodKubeconfig),
  };
  const world: World = {
    dir,
    env,
    prod,
    signing,
    secret: { ...key.data },
    issuer: options.issuer,
    oldKid: key.kid,
  };
  worlds.push(world);
  return world;
}

function setSecret(world: World, data: Record<string, string>): void {
  world.secret = data;
  world.signing.setSecret("eksa-system", "prod-sa", data);
}

/** Runs a script through bash in the world's directory, as a user's shell would. */
async function bash(world: World, script: string): Promise<CliResult> {
  try {
    const run = promisify(execFile);
    const { stdout, stderr } = await run("bash", ["-c", `set -euo pipefail\n${script}`], {
      cwd: world.dir,
      env: world.env,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    // execFile's failure carries the exit code and the output so far.
    const { code, stdout = "", stderr = "" } = error as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof code === "number" ? code : null, stdout, stderr: stderr || String(error) };
  }
}

const readText = (world: World, file: string) => readFile(join(world.dir, file), "utf8");

/** Other tools' lines, played through the same APIs they would call. */
const played: ReadonlyArray<{ line: RegExp; play: (world: World, match: RegExpExecArray) => Promise<void> }> =
  [
    {
      line: /^kubectl --kubeconfig \$K apply -f (\S+\.yaml)$/,
      play: async (world, [, file = ""]) => {
        const manifest = parseYaml(await readText(world, file)) as {
          kind: string;
          metadata: { name: string; namespace?: string };
          data: Record<string, string>;
        };
        expect(manifest).toMatchObject({
          kind: "Secret",
          metadata: { name: "prod-sa", namespace: "eksa-system" },
        });
        setSecret(
          world,
          Object.fromEntries(
            Object.entries(manifest.data).map(([field, value]) => [
              field,
              Buffer.from(value, "base64").toString(),
            ]),
          ),
        );
      },
    },
    {
      line: /^kubectl --kubeconfig \$K -n eksa-system patch kubeadmcontrolplane prod --type merge -p "\{\\"spec\\":\{\\"rolloutAfter\\":\\"\$\(date -u \+%Y-%m-%dT%H:%M:%SZ\)\\"\}\}"$/,
      play: async () => {},
    },
    {
      line: /^kubectl --kubeconfig \$K -n eksa-system create secret generic prod-sa --type cluster\.x-k8s\.io\/secret --from-file=tls\.crt=(\S+) --from-file=tls\.key=(\S+) --dry-run=client -o yaml \| kubectl --kubeconfig \$K apply -f -$/,
      play: async (world, [, crt = "", key = ""]) => {
        setSecret(world, { "tls.crt": await readText(world, crt), "tls.key": await readText(world, key) });
      },
    },
  ];

/** Comments: the ones that stand for an action, played; the others are notes. */
const comments: ReadonlyMap<string, ((world: World) => Promise<void>) | undefined> = new Map([
  [
    "#   ... wait 5 minutes (the documents' cache time), then switch the API server (below)",
    async (world: World) => {
      setSecret(world, {
        "tls.crt": world.secret["tls.crt"] + (await readText(world, "next/sa.pub")),
        "tls.key": await readText(world, "next/sa.key"),
      });
    },
  ],
  [
    "#   ... once every token signed by the old key has been refreshed (a day), remove the old key",
    async (world: World) => {
      setSecret(world, { ...world.secret, "tls.crt": await readText(world, "next/sa.pub") });
    },
  ],
  ["#   from the API server; a day later:", undefined],
  [
    "#   next/sa.key, next/sa.pub, and next/prod-sa.yaml: tls.key = the new key, tls.crt = new + old public key",
    undefined,
  ],
  ["#   ... wait 5 minutes, then put the secret in place and roll the control plane:", undefined],
  ["#   ... a day later (every old token refreshed), drop the old public key and roll again:", undefined],
  ["#   (roll the control plane as above); a day after that:", undefined],
]);

/** After each `irsa-anywhere` line, by subcommand: what a user would check. */
type Checks = Record<string, (world: World, result: CliResult) => Promise<void>>;

/** The exit code of a command that cannot succeed here (see the top of this file); 0 for the others. */
const exitCodes: Record<string, number> = { up: 1 };

/**
 * Runs one walkthrough block: `irsa-anywhere` lines and assignments through bash, exactly as
 * written (assignments stay in effect for the lines after them); other lines played.
 */
async function walk(world: World, steps: readonly Step[], checks: Checks): Promise<string[]> {
  const ran: string[] = [];
  let assignments = "";
  for (const step of steps) {
    if (step.line.startsWith("#")) {
      if (!comments.has(step.line)) throw new Error(`the test does not know this comment: ${step.line}`);
      await comments.get(step.line)?.(world);
    } else if (/^[A-Z_]+=\S+(\s+#.*)?$/.test(step.line)) {
      assignments += `${step.written}\n`;
      expect((await bash(world, assignments)).code).toBe(0);
    } else if (step.line.startsWith("irsa-anywhere ")) {
      const [, command, phase] = step.line.split(/\s+/);
      const check = checks[command === "rotate" ? `rotate ${phase}` : `${command}`];
      if (check === undefined) throw new Error(`the test has no check for: ${step.line}`);
      const result = await bash(world, `${assignments}${step.written}`);
      expect(result, `${step.line}\n${result.stderr}`).toMatchObject({ code: exitCodes[command ?? ""] ?? 0 });
      await check(world, result);
      ran.push(step.line);
    } else {
      const player = played.find((p) => p.line.test(step.line));
      if (player === undefined) throw new Error(`the test cannot run or play: ${step.line}`);
      await player.play(world, player.line.exec(step.line) as RegExpExecArray);
    }
  }
  return ran;
}

/**
 * Where an S3 issuer URL points, on moto: the bucket from a virtual-hosted name
 * (`BUCKET.s3.REGION.amazonaws.com/PREFIX`) or the path's first segment (`s3-REGION.amazonaws.com/BUCKET/PREFIX`).
 */
function onMoto(url: string): string {
  const { hostname, pathname } = new URL(url);
  const virtualHosted = /^(.+)\.s3[.-][\w-]+\.amazonaws\.com$/.exec(hostname);
  if (virtualHosted) return `${moto.endpoint}/${virtualHosted[1]}${pathname}`;
  expect(hostname).toMatch(/^s3[.-][\w-]+\.amazonaws\.com$/);
  return `${moto.endpoint}${pathname}`;
}

/** The documents as STS reads them: anonymously, from where the issuer URL points in S3 (on moto). */
async function published(world: World): Promise<{ issuer: string; jwksUri: string; kids: string[] }> {
  const base = onMoto(world.issuer);
  const [discovery, jwks] = await Promise.all(
    [`${base}/.well-known/openid-configuration`, `${base}/keys.json`].map(async (url) => {
      const answer = await fetch(url);
      expect(answer.status, url).toBe(200);
      return (await answer.json()) as { issuer?: string; jwks_uri?: string; keys?: Array<{ kid: string }> };
    }),
  );
  return {
    issuer: String(discovery?.issuer),
    jwksUri: String(discovery?.jwks_uri),
    // In no particular order (the current key comes first), without the empty-kid twin.
    kids: (jwks?.keys ?? [])
      .map((k) => k.kid)
      .filter((kid) => kid !== "")
      .sort(),
  };
}

const providerArn = (world: World) =>
  `arn:aws:iam::${account}:oidc-provider/${world.issuer.replace(/^https:\/\//, "")}`;

/** The discovery document's fields that name the issuer. */
const documents = (world: World) => ({ issuer: world.issuer, jwksUri: `${world.issuer}/keys.json` });
const bothKids = (world: World) => [world.oldKid, world.nextKid].sort();

/** The cluster spec `eksctl anywhere generate clusterconfig prod` writes (its first documents). */
const generatedClusterSpec = `apiVersion: anywhere.eks.amazonaws.com/v1alpha1
kind: Cluster
metadata:
  name: prod
spec:
  clusterNetwork:
    cniConfig:
      cilium: {}
    pods:
      cidrBlocks:
      - 192.168.0.0/16
  kubernetesVersion: "1.31"
---
apiVersion: anywhere.eks.amazonaws.com/v1alpha1
kind: VSphereDatacenterConfig
metadata:
  name: prod
spec:
  datacenter: ""
`;

const initChecks: Checks = {
  init: async (world, result) => {
    expect(result.stdout).toContain(`issuer: ${world.issuer}\n`);
    expect(lineDiff(generatedClusterSpec, await readText(world, "prod.yaml"))).toEqual({
      removed: [],
      added: ["  podIamConfig:", `    serviceAccountIssuer: ${world.issuer}`],
    });
    expect(await blockPublicAccess(s3, bucket)).toMatchObject({
      BlockPublicPolicy: false,
      BlockPublicAcls: true,
    });
  },
};

/** The documents of the cluster's key, where STS reads them, and the provider that trusts them. */
async function expectPublished(world: World): Promise<void> {
  expect(await published(world)).toEqual({ ...documents(world), kids: [world.oldKid] });
  const provider = await iam.send(
    new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn(world) }),
  );
  expect(provider.ClientIDList).toContain("sts.amazonaws.com");
}

const publishChecks: Checks = {
  publish: async (world, result) => {
    expect(result.stdout).toContain(world.issuer);
    expect(result.stdout).toContain(providerArn(world));
    await expectPublished(world);
  },
};

/** A trust policy that lets exactly payments/api in through the issuer's provider. */
function expectTrustsPaymentsApi(world: World, policyText: string): void {
  const hostPath = world.issuer.replace(/^https:\/\//, "");
  expect(JSON.parse(policyText).Statement).toEqual([
    {
      Effect: "Allow",
      Principal: { Federated: providerArn(world) },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: {
          [`${hostPath}:sub`]: "system:serviceaccount:payments:api",
          [`${hostPath}:aud`]: "sts.amazonaws.com",
        },
      },
    },
  ]);
}

/** The webhook's Deployment in prod, its pods told the walkthrough's region. */
function expectWebhookInstalled(world: World): void {
  expect(
    world.prod.objects.get("/apis/apps/v1/namespaces/irsa-anywhere/deployments/pod-identity-webhook"),
  ).toMatchObject({
    spec: {
      template: {
        spec: { containers: [{ args: expect.arrayContaining(["--aws-default-region=us-west-2"]) }] },
      },
    },
  });
}

const webhookChecks: Checks = {
  webhook: async (world, result) => {
    expect(result.stdout).toMatch(/installed in irsa-anywhere .*every replica ready/);
    expectWebhookInstalled(world);
  },
};

const upChecks: Checks = {
  up: async (world, result) => {
    expect(result.stderr.split("\n").filter((line) => /^\[\d\/5\]/.test(line))).toEqual([
      "[1/5] read the keys: done, 1 key(s) from secret eksa-system/prod-sa (and the private key, for doctor's smoke test)",
      // The bucket policy, the two documents and the provider.
      `[2/5] publish the issuer and register the IAM OIDC provider: done, issuer ${world.issuer}: 4 change(s) made`,
      expect.stringMatching(
        /^\[3\/5\] install the pod identity webhook: done, \d+ created, 0 changed, 0 unchanged; every replica ready$/,
      ),
      "[4/5] create the role and its service account: skipped, no --service-account and --role-name given (add one later with role create)",
      expect.stringMatching(/^\[5\/5\] run doctor: done, /),
    ]);
    const failed = result.stdout.split("\n").filter((line) => line.startsWith("FAIL"));
    expect(failed.length).toBeGreaterThan(0);
    for (const line of failed) expect(line.slice(6)).toMatch(CHECKS_THAT_FETCH_THE_ISSUER);
    await expectPublished(world);
    expectWebhookInstalled(world);
  },
};

const roleChecks: Checks = {
  role: async (world, result) => {
    expect(result.stdout).toContain(`role payments-api: create arn:aws:iam::${account}:role/payments-api`);
    await expectRoleForServiceAccount(world);
  },
};

/** The role has that trust policy, and the service account names the role. */
async function expectRoleForServiceAccount(world: World): Promise<void> {
  const role = await iam.send(new GetRoleCommand({ RoleName: "payments-api" }));
  expectTrustsPaymentsApi(world, decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? ""));
  expect(world.prod.objects.get("/api/v1/namespaces/payments/serviceaccounts/api")).toMatchObject({
    metadata: {
      annotations: { "eks.amazonaws.com/role-arn": expect.stringMatching(/:role\/payments-api$/) },
    },
  });
}

const rotationChecks: Checks = {
  keygen: async (world, result) => {
    world.nextKid = /kid:? (\S+)/.exec(result.stdout)?.[1];
    expect(world.nextKid, result.stdout).toMatch(/^[\w-]{43}$/);
  },
  "rotate prepare": async (world, result) => {
    // The next key is published beside the current one, under the same issuer.
    expect(result.stdout).toContain(
      `rotation: prepared: next key ${world.nextKid} is published beside ${world.oldKid}`,
    );
    expect(await published(world)).toEqual({ ...documents(world), kids: bothKids(world) });
  },
  "rotate confirm": async (world, result) => {
    expect(result.stdout).toMatch(
      new RegExp(`rotation: switched: the cluster signs with ${world.nextKid}\\b.*the switch is confirmed`),
    );
    expect(await published(world)).toEqual({ ...documents(world), kids: bothKids(world) });
  },
  "rotate prune": async (world, result) => {
    // No day has passed: nothing is removed, exit 0, and prune says when the old key may go,
    // the default retention (25h05m) after it left the cluster.
    const [, left = "", mayGo = ""] =
      new RegExp(
        `nothing can be removed yet: ${world.oldKid} left the cluster at (\\S+) and may go at (\\S+);`,
      ).exec(result.stdout) ?? [];
    expect(Date.parse(mayGo) - Date.parse(left), result.stdout).toBe((25 * 60 + 5) * 60_000);
    expect(await published(world)).toEqual({ ...documents(world), kids: bothKids(world) });
  },
  "rotate status": async (world, result) => {
    expect(result.stdout).toContain(
      `rotation: retiring: the cluster signs with ${world.nextKid}; ${world.oldKid} left`,
    );
  },
};

describe("the README's EKS Anywhere walkthrough", () => {
  it("publishes, registers the provider and lets the service account into its role, then rotates", async () => {
    const world = await makeWorld({ issuer });
    // Step 1 as init does it: no bucket yet, and the spec eksctl generated.
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    await writeFile(join(world.dir, "prod.yaml"), generatedClusterSpec);
    const ran = [
      ...(await walk(world, walkthroughSteps(readme, "eks-anywhere-init"), initChecks)),
      ...(await walk(world, walkthroughSteps(readme, "eks-anywhere"), publishChecks)),
      ...(await walk(world, walkthroughSteps(readme, "eks-anywhere-webhook"), webhookChecks)),
      ...(await walk(world, walkthroughSteps(readme, "eks-anywhere-roles"), roleChecks)),
    ];
    await expectRoleForServiceAccount(world);
    ran.push(...(await walk(world, walkthroughSteps(readme, "rotation"), rotationChecks)));
    expect(ran.map((line) => line.split(" ").slice(1, 3).join(" "))).toEqual([
      "init --bucket",
      "publish --cluster",
      "webhook install",
      "role create",
      "keygen --out-dir",
      "rotate prepare",
      "rotate confirm",
      "rotate prune",
      "rotate status",
    ]);
  });

  it("init before the cluster, up after it, and role create per workload", async () => {
    const world = await makeWorld({ issuer });
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    await writeFile(join(world.dir, "prod.yaml"), generatedClusterSpec);
    const ran = [
      ...(await walk(world, walkthroughSteps(readme, "eks-anywhere-init"), initChecks)),
      ...(await walk(world, walkthroughSteps(readme, "eks-anywhere-up"), upChecks)),
      ...(await walk(world, walkthroughSteps(readme, "eks-anywhere-roles"), roleChecks)),
    ];
    expect(ran.map((line) => line.split(" ").slice(1, 3).join(" "))).toEqual([
      "init --bucket",
      "up --cluster",
      "role create",
    ]);
  }, 120_000);

  it("works the same with the SELF_HOSTED_SETUP.md issuer spelling, through the rotation", async () => {
    const world = await makeWorld({ issuer: selfHostedIssuer });
    await walk(world, walkthroughSteps(readme, "eks-anywhere-self-hosted-issuer"), publishChecks);
    // "use it in place of the issuer above in the steps below"
    const roles = walkthroughSteps(readme, "eks-anywhere-roles").map((step) => ({
      written: step.written.replaceAll(issuer, selfHostedIssuer),
      line: step.line.replaceAll(issuer, selfHostedIssuer),
    }));
    await walk(world, roles, roleChecks);
    await expectRoleForServiceAccount(world);
    // "give it with --issuer here and to every rotate phase"
    const rotation = walkthroughSteps(readme, "rotation").map((step) => {
      const withIssuer = (text: string) =>
        text.replace(/^(irsa-anywhere rotate [^#]*?)(\s*#.*)?$/, `$1 --issuer ${selfHostedIssuer}$2`);
      return { written: withIssuer(step.written), line: withIssuer(step.line) };
    });
    expect(rotation.filter((step) => step.line.includes(selfHostedIssuer))).toHaveLength(4);
    await walk(world, rotation, rotationChecks);
  });

  it("names the doctor line it does not run, so that a change to it is noticed", () => {
    expect(walkthroughSteps(readme, "eks-anywhere-doctor").map((step) => step.line)).toEqual([
      `irsa-anywhere doctor --issuer ${issuer} --cluster prod --kubeconfig ${prodKubeconfig} --service-account payments/api --smoke-test`,
    ]);
  });
});

describe("the README's EKS Anywhere rotation walkthrough (a workload cluster)", () => {
  it("rotates through the management cluster's prod-sa secret", async () => {
    const world = await makeWorld({ issuer, workload: true });
    const oldPublicKey = world.secret["tls.crt"] ?? "";
    // Step 2 as the README words it for a workload cluster: the management cluster's kubeconfig.
    const publish = walkthroughSteps(readme, "eks-anywhere").map((step) => ({
      written: step.written.replaceAll(prodKubeconfig, mgmtKubeconfig),
      line: step.line.replaceAll(prodKubeconfig, mgmtKubeconfig),
    }));
    await walk(world, publish, publishChecks);
    const ran = await walk(world, walkthroughSteps(readme, "rotation-eks-anywhere"), {
      ...rotationChecks,
      keygen: async (w, result) => {
        await rotationChecks.keygen?.(w, result);
        // The manifest signs with the new key and keeps the old public key beside it, so both verify.
        const { data } = parseYaml(await readText(w, "next/prod-sa.yaml")) as {
          data: Record<string, string>;
        };
        const field = (name: string) => Buffer.from(data[name] ?? "", "base64").toString();
        expect(field("tls.key")).toBe(await readText(w, "next/sa.key"));
        expect(field("tls.crt")).toContain(oldPublicKey);
        expect(field("tls.crt")).toContain(await readText(w, "next/sa.pub"));
      },
    });
    expect(ran.map((line) => line.split(" ").slice(1, 3).join(" "))).toEqual([
      "keygen --out-dir",
      "rotate prepare",
      "rotate confirm",
      "rotate prune",
    ]);
    // After the last roll only the next key signs and verifies; both stay published until retention.
    expect(world.secret).toEqual({
      "tls.crt": await readText(world, "next/sa.pub"),
      "tls.key": await readText(world, "next/sa.key"),
    });
  });
});
