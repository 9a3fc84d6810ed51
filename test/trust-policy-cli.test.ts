// The built CLI's trust-policy: the policy on stdout as JSON, the account from STS
// GetCallerIdentity (a local moto server) when not given, mistakes as one line and exit 2; with
// --role, the role's policy read from moto's IAM with the service accounts merged in.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  UpdateAssumeRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { evaluateTrustPolicy, type TrustPolicyDocument } from "@irsa-anywhere/iam";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";
import { awsTestClientConfig, awsTestEnv, type MotoServer, startMoto } from "./support/moto.js";

const issuer = "https://oidc.example.com/prod";
let moto: MotoServer;
let dir: string;

beforeAll(async () => {
  moto = await startMoto();
  dir = await mkdtemp(join(tmpdir(), "irsa-trust-policy-cli-"));
});
afterAll(async () => {
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// No AWS settings unless a test gives them: an empty HOME, and no instance metadata to wait for.
const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(["trust-policy", "--issuer", issuer, ...args], {
    isolated: true,
    env: { HOME: dir, AWS_EC2_METADATA_DISABLED: "true", ...env },
  });

describe("irsa-anywhere trust-policy", () => {
  it("prints the policy for the account given, without asking AWS", async () => {
    const result = await cli(["--service-account", "payments/api", "--account-id", "111122223333"]);

    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const policy = JSON.parse(result.stdout) as TrustPolicyDocument;
    expect(policy.Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Federated: "arn:aws:iam::111122223333:oidc-provider/oidc.example.com/prod" },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            "oidc.example.com/prod:sub": "system:serviceaccount:payments:api",
            "oidc.example.com/prod:aud": "sts.amazonaws.com",
          },
        },
      },
    ]);
  });

  it("takes the account of the caller's credentials from STS", async () => {
    const result = await cli(["--service-account", "payments/api"], awsTestEnv(moto.endpoint));
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).Statement[0].Principal.Federated).toBe(
      "arn:aws:iam::123456789012:oidc-provider/oidc.example.com/prod",
    );
  });

  it("names the partition of the region given", async () => {
    const result = await cli([
      "--service-account",
      "a/b",
      "--account-id",
      "111122223333",
      "--region",
      "cn-north-1",
    ]);
    expect(JSON.parse(result.stdout).Statement[0].Principal.Federated).toMatch(
      /^arn:aws-cn:iam::111122223333:/,
    );
  });

  it("names the partition of AWS_REGION when no region is given, as the AWS tools would", async () => {
    const result = await cli(["--service-account", "a/b", "--account-id", "111122223333"], {
      AWS_REGION: "us-gov-west-1",
    });
    expect(JSON.parse(result.stdout).Statement[0].Principal.Federated).toMatch(
      /^arn:aws-us-gov:iam::111122223333:/,
    );
  });

  it("takes a service account as NS/NAME, NS:NAME or its subject system:serviceaccount:NS:NAME", async () => {
    const subjects = [];
    for (const form of ["payments/api", "payments:api", "system:serviceaccount:payments:api"]) {
      const result = await cli(["--service-account", form, "--account-id", "111122223333"]);
      expect(result.code, form).toBe(0);
      subjects.push(
        JSON.parse(result.stdout).Statement[0].Condition.StringEquals["oidc.example.com/prod:sub"],
      );
    }
    expect(subjects).toEqual(Array(3).fill("system:serviceaccount:payments:api"));
  });

  it("lets in several service accounts, and a whole namespace only when asked", async () => {
    const result = await cli([
      "--service-account",
      "payments/api",
      "--service-account",
      "payments/worker",
      "--namespace-wide",
      "batch",
      "--audience",
      "my-audience",
      "--account-id",
      "111122223333",
    ]);
    expect(result.code).toBe(0);
    const policy = JSON.parse(result.stdout) as TrustPolicyDocument;
    expect(policy.Statement).toHaveLength(2);
    const request = {
      providerArn: "arn:aws:iam::111122223333:oidc-provider/oidc.example.com/prod",
      issuerHostPath: "oidc.example.com/prod",
      audience: "my-audience",
    };
    const decide = (subject: string) => evaluateTrustPolicy(policy, { ...request, subject }).decision;
    expect(decide("system:serviceaccount:payments:worker")).toBe("allowed");
    expect(decide("system:serviceaccount:batch:any")).toBe("allowed");
    expect(decide("system:serviceaccount:payments:web")).toBe("denied");
  });

  const mistakes: Array<[string, string[], number, RegExp]> = [
    ["no service account", ["--account-id", "111122223333"], 2, /--service-account NAMESPACE\/NAME/],
    [
      "a malformed service account",
      ["--service-account", "payments", "--account-id", "111122223333"],
      2,
      /not NAMESPACE\/NAME/,
    ],
    ["a short account ID", ["--service-account", "a/b", "--account-id", "1234"], 2, /not 12 digits/],
    [
      "an audience with a newline",
      ["--service-account", "a/b", "--account-id", "111122223333", "--audience", "sts\nx"],
      2,
      /--audience "sts\\nx" contains a newline/,
    ],
    [
      "an audience longer than IAM takes",
      ["--service-account", "a/b", "--account-id", "111122223333", "--audience", "a".repeat(256)],
      2,
      /longer than the 255 characters/,
    ],
    [
      "no AWS credentials to find the account",
      ["--service-account", "a/b"],
      1,
      /sts:GetCallerIdentity: no AWS credentials found; set AWS_PROFILE/,
    ],
  ];
  it.each(mistakes)(
    "%s: one line on stderr and the documented exit code",
    async (_name, args, code, reason) => {
      const result = await cli(args);
      expect(result.code).toBe(code);
      expect(result.stdout).toBe("");
      expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(result.stderr).toMatch(reason);
    },
  );

  it("refuses an issuer STS would not accept", async () => {
    const result = await runCli(
      ["trust-policy", "--issuer", `${issuer}/`, "--service-account", "a/b", "--account-id", "111122223333"],
      {
        isolated: true,
      },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ends with a slash/);
  });
});

describe("irsa-anywhere trust-policy --role", () => {
  // moto's account; the role's ARN gives it, no --account-id needed.
  const account = "123456789012";
  const providerArn = `arn:aws:iam::${account}:oidc-provider/oidc.example.com/prod`;
  const eksProviderArn = `arn:aws:iam::${account}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE`;
  const request = (provider: string, hostPath: string, subject: string) => ({
    providerArn: provider,
    issuerHostPath: hostPath,
    subject,
    audience: "sts.amazonaws.com",
  });
  const web = request(providerArn, "oidc.example.com/prod", "system:serviceaccount:payments:web");
  const eks = request(
    eksProviderArn,
    "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE",
    "system:serviceaccount:ci:runner",
  );
  const api = request(providerArn, "oidc.example.com/prod", "system:serviceaccount:payments:api");
  const ec2 = { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" };
  const current = {
    Version: "2012-10-17",
    Statement: [
      ec2,
      {
        Effect: "Allow",
        Principal: { Federated: eksProviderArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: { StringEquals: { [`${eks.issuerHostPath}:sub`]: eks.subject } },
      },
      {
        Effect: "Allow",
        Principal: { Federated: providerArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${web.issuerHostPath}:sub`]: web.subject,
            [`${web.issuerHostPath}:aud`]: "sts.amazonaws.com",
          },
        },
      },
    ],
  };
  let iam: IAMClient;
  beforeAll(() => {
    iam = new IAMClient(awsTestClientConfig(moto.endpoint));
  });
  afterAll(() => iam?.destroy());
  beforeEach(async () => {
    await moto.reset();
    await iam.send(
      new CreateRoleCommand({ RoleName: "payments-api", AssumeRolePolicyDocument: JSON.stringify(current) }),
    );
  });
  const roleCli = (args: string[]) => cli(args, awsTestEnv(moto.endpoint));
  const appliedPolicy = async () =>
    (await iam.send(new GetRoleCommand({ RoleName: "payments-api" }))).Role?.AssumeRolePolicyDocument;

  it.each([
    ["name", "payments-api"],
    ["ARN", `arn:aws:iam::${account}:role/payments-api`],
  ])(
    "prints the role (by %s) with the service account added, which update-assume-role-policy applies without locking anyone out",
    async (_how, role) => {
      const result = await roleCli(["--role", role, "--service-account", "payments/api"]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);

      await iam.send(
        new UpdateAssumeRolePolicyCommand({ RoleName: "payments-api", PolicyDocument: result.stdout }),
      );
      const applied = await appliedPolicy();
      for (const who of [web, eks, api]) expect(evaluateTrustPolicy(applied, who).decision).toBe("allowed");
      const statements = JSON.parse(result.stdout).Statement;
      expect(statements).toHaveLength(3);
      expect(statements[0]).toEqual(ec2);
      expect(statements[2].Condition.StringEquals[`${web.issuerHostPath}:sub`]).toEqual([
        web.subject,
        api.subject,
      ]);
    },
  );

  it("prints a policy that already lets the service account in unchanged, and says so", async () => {
    const result = await roleCli(["--role", "payments-api", "--service-account", "payments/web"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(current);
    expect(result.stderr).toMatch(
      /^irsa-anywhere: role payments-api already lets in system:serviceaccount:payments:web; its trust policy is printed unchanged\n$/,
    );
  });

  it.each([
    [
      "a role that does not exist",
      ["--role", "nobody", "--service-account", "a/b"],
      2,
      /there is no role nobody/,
    ],
    [
      "a role that is no name",
      ["--role", "payments api", "--service-account", "a/b"],
      2,
      /neither an IAM role name nor a role ARN/,
    ],
    [
      "--account-id beside it",
      ["--role", "payments-api", "--service-account", "a/b", "--account-id", "111122223333"],
      2,
      /leave out --account-id/,
    ],
  ])("%s: one line on stderr and the documented exit code", async (_name, args, code, reason) => {
    const result = await roleCli(args);
    expect(result.code).toBe(code);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(reason);
  });
});
