// The built CLI's `role create`, `role list` and `role delete`, run as a user runs them, against
// moto's IAM (through a recording proxy) and the local Kubernetes API test server: what they
// print, their exit codes, and that bad input is one line, exit 2, with nothing changed.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CreatePolicyCommand, GetRoleCommand, type IAMClient } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";
import type { FakeKubernetes } from "./support/fake-kubernetes.js";
import { awsTestEnv } from "./support/moto.js";
import type { RecordingProxy } from "./support/recording-proxy.js";
import { type RoleWorld, startRoleWorld } from "./support/role-world.js";

const issuer = "https://oidc.example.com/prod";
const roleArn = "arn:aws:iam::123456789012:role/payments-api";
let world: RoleWorld;
let proxy: RecordingProxy;
let direct: IAMClient;
let kube: FakeKubernetes;
let dir: string;

beforeAll(async () => {
  world = await startRoleWorld(issuer);
  ({ proxy, direct, kube, dir } = world);
  await writeFile(join(dir, "not-json.json"), "Version: 2012-10-17\n");
  await writeFile(
    join(dir, "trust.json"),
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { Federated: "x" }, Action: "sts:AssumeRoleWithWebIdentity" },
      ],
    }),
  );
  await writeFile(
    join(dir, "read.json"),
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
    }),
  );
});
afterAll(() => world?.close());
beforeEach(() => world.reset());

const role = (args: string[]) =>
  runCli(["role", ...args, "--kubeconfig", join(dir, "kubeconfig")], {
    isolated: true,
    env: { HOME: dir, ...awsTestEnv(proxy.url) },
  });
const create = (...extra: string[]) =>
  role([
    "create",
    "--issuer",
    issuer,
    "--service-account",
    "payments/api",
    "--role-name",
    "payments-api",
    ...extra,
  ]);
const iamWrites = () => world.iamWrites();
const kubeWrites = () => world.kubeWrites();

describe("irsa-anywhere role create", () => {
  it("creates the role and the service account, then says a second run has nothing to do", async () => {
    const first = await create();
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toBe(
      [
        "changed:",
        `  role payments-api: create ${roleArn}`,
        `  service account payments/api: create with eks.amazonaws.com/role-arn=${roleArn} eks.amazonaws.com/sts-regional-endpoints=true`,
        "",
      ].join("\n"),
    );
    proxy.clear();
    kube.requests.length = 0;

    const second = await create();

    expect(second).toMatchObject({ code: 0, stderr: "" });
    expect(second.stdout).toBe(
      `role payments-api (${roleArn}) and its service accounts are already as asked; nothing changed\n`,
    );
    expect(iamWrites()).toEqual([]);
    expect(kubeWrites()).toEqual([]);
  });

  it("--dry-run prints the trust policy and annotation diffs; --json gives the plan as data", async () => {
    const dry = await create("--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("would change:");
    expect(dry.stdout).toContain(
      '+           "oidc.example.com/prod:sub": "system:serviceaccount:payments:api",',
    );
    expect(dry.stdout).toContain(`annotations of payments/api:\n  + eks.amazonaws.com/role-arn: ${roleArn}`);

    const json = await create("--dry-run", "-o", "json");
    expect(JSON.parse(json.stdout)).toMatchObject({ roleArn, created: true, dryRun: true });
    expect(iamWrites()).toEqual([]);
    expect(kubeWrites()).toEqual([]);
  });

  it("--role-only leaves the cluster alone and prints the annotation to add", async () => {
    const result = await create("--role-only", "--token-expiration", "86400");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `  kubectl annotate serviceaccount -n payments api --overwrite eks.amazonaws.com/role-arn=${roleArn} eks.amazonaws.com/sts-regional-endpoints=true eks.amazonaws.com/token-expiration=86400\n`,
    );
    expect(kube.requests).toEqual([]);
  });

  const badInput: Array<[string, string[], RegExp]> = [
    [
      "a role name IAM refuses",
      ["--role-name", "payments api"],
      /role name "payments api" is not valid for IAM/,
    ],
    [
      "a policy ARN of another partition",
      ["--attach-policy-arn", "arn:aws-cn:iam::aws:policy/ReadOnlyAccess"],
      /is in partition aws-cn, but the role and its OIDC provider are in aws/,
    ],
    [
      "a policy file that is not JSON",
      ["--inline-policy", "not-json.json"],
      /--inline-policy not-json\.json is not JSON;/,
    ],
    [
      "a policy ARN that names no policy",
      ["--attach-policy-arn", "arn:aws:iam::123456789012:policy/typo"],
      /there is no policy arn:aws:iam::123456789012:policy\/typo/,
    ],
    [
      "a policy file that is not a permissions policy",
      ["--inline-policy", "trust.json"],
      /is not an IAM policy: statement 1 names a Principal/,
    ],
    [
      "a service account in a namespace that does not exist",
      ["--service-account", "billing/api"],
      /namespace billing does not exist on https:\/\/127\.0\.0\.1:\d+/,
    ],
    [
      "an issuer whose provider is missing",
      ["--issuer", "https://oidc.example.com/staging"],
      /no IAM OIDC provider for https:\/\/oidc\.example\.com\/staging; run irsa-anywhere publish/,
    ],
  ];

  it.each(badInput)("refuses %s: one line, exit 2, nothing changed", async (_name, args, message) => {
    // The case's options in place of the defaults of the same name.
    const given = new Map<string, string>([
      ["--issuer", issuer],
      ["--service-account", "payments/api"],
      ["--role-name", "payments-api"],
      ["--kubeconfig", join(dir, "kubeconfig")],
    ]);
    for (let i = 0; i < args.length; i += 2) given.set(args[i] as string, args[i + 1] as string);
    const result = await runCli(["role", "create", ...[...given].flat()], {
      isolated: true,
      cwd: dir,
      env: { HOME: dir, ...awsTestEnv(proxy.url) },
    });

    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split("\n"), result.stderr).toHaveLength(1);
    expect(iamWrites()).toEqual([]);
    expect(kubeWrites()).toEqual([]);
    const gone = await direct
      .send(new GetRoleCommand({ RoleName: "payments-api" }))
      .catch((e: Error) => e.name);
    expect(gone).toBe("NoSuchEntityException");
  });
});

describe("irsa-anywhere role list and delete", () => {
  it("lists what each role lets in and whether it is annotated, then takes it away", async () => {
    const policy = await direct.send(
      new CreatePolicyCommand({
        PolicyName: "payments-read",
        PolicyDocument: await readFile(join(dir, "read.json"), "utf8"),
      }),
    );
    const created = await create(
      "--service-account",
      "payments/worker",
      "--attach-policy-arn",
      policy.Policy?.Arn as string,
      "--inline-policy",
      join(dir, "read.json"),
    );
    expect(created, created.stderr).toMatchObject({ code: 0, stderr: "" });

    const listed = await role(["list", "--issuer", issuer]);
    expect(listed).toMatchObject({ code: 0, stderr: "" });
    expect(listed.stdout).toBe(
      [
        `payments-api (${roleArn}), made by irsa-anywhere`,
        "  payments/api: annotated",
        "  payments/worker: annotated",
        "",
      ].join("\n"),
    );

    const remove = (account: string) =>
      role(["delete", "--issuer", issuer, "--role-name", "payments-api", "--service-account", account]);
    const first = await remove("payments/api");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(
      "role payments-api stays: its trust policy still lets in system:serviceaccount:payments:worker",
    );
    // Without --issuer: the one the role's tags name, as role create tagged it.
    const last = await role([
      "delete",
      "--role-name",
      "payments-api",
      "--service-account",
      "payments/worker",
    ]);
    expect(last.code).toBe(0);
    expect(last.stdout).toContain(
      "role payments-api: delete (created by irsa-anywhere, nothing else left in its trust policy)",
    );
    expect((await role(["list", "--issuer", issuer])).stdout).toBe(
      `no role of this account trusts ${issuer}\n`,
    );
  });
});
