import type { STSClient } from "@aws-sdk/client-sts";
import { issuerHostPath } from "@irsa-anywhere/discovery";
import { quoteInput } from "@irsa-anywhere/errors";
import { oidcProviderArn } from "./arn.js";
import { audienceProblem, DEFAULT_AUDIENCE } from "./audience.js";
import type { AwsClientSettings } from "./aws-client.js";
import { makeStsClient } from "./aws-clients.js";
import { callerIdentity } from "./caller-identity.js";
import { IamError } from "./errors.js";
import { partitionOf } from "./partition.js";
import {
  assertNamespace,
  parseServiceAccount,
  type ServiceAccountRef,
  serviceAccountSubject,
} from "./service-account.js";

/** An IAM role trust policy, as `aws iam create-role --assume-role-policy-document` takes it. */
export interface TrustPolicyDocument {
  Version: "2012-10-17";
  Statement: TrustPolicyStatement[];
}

/** One `sts:AssumeRoleWithWebIdentity` statement of a role trust policy. */
export interface TrustPolicyStatement {
  Effect: "Allow";
  Principal: { Federated: string };
  Action: "sts:AssumeRoleWithWebIdentity";
  Condition: Record<string, Record<string, string | string[]>>;
}

/**
 * What `buildTrustPolicy` needs: the issuer, the service accounts, and the account to trust it in.
 */
export interface BuildTrustPolicyOptions {
  /** The issuer, exactly as the cluster's tokens carry it. */
  issuer: string;
  /** The service accounts let in, each by exact name (`StringEquals`). */
  serviceAccounts?: readonly (ServiceAccountRef | string)[];
  /**
   * Namespaces whose every service account is let in (`StringLike` on
   * `system:serviceaccount:NS:*`). Wider than most roles need: give it only on purpose.
   */
  namespaceWide?: readonly string[];
  /** The audience the tokens carry; default `sts.amazonaws.com`. */
  audience?: string;
  accountId: string;
  /** `aws`, `aws-cn` or `aws-us-gov`; default `aws`. */
  partition?: string;
}

/** What `trustPolicy` needs; the account is the caller's AWS account unless given. */
export interface TrustPolicyOptions extends Omit<BuildTrustPolicyOptions, "accountId" | "partition"> {
  /** Default: the account of the caller's credentials (STS `GetCallerIdentity`). */
  accountId?: string;
  /** Default: the caller's partition, or else that of `region`. */
  partition?: string;
  /** Picks the partition when neither it nor the account is given (`cn-north-1` → `aws-cn`). */
  region?: string;
  /** The profile and request timeout of the STS client made here. */
  awsSettings?: AwsClientSettings | undefined;
  /** A client to use instead of one made from the environment. */
  clients?: { sts?: STSClient };
}

/**
 * The trust policy that lets exactly the given service accounts of a cluster assume a role:
 * the issuer's IAM OIDC provider as `Federated` principal, `sts:AssumeRoleWithWebIdentity`, and
 * `StringEquals` on the `:sub` and `:aud` claims. A namespace-wide grant is a statement of its own,
 * since `StringEquals` and `StringLike` on one key in one statement must both hold.
 *
 * @throws {IamError} `ERR_SERVICE_ACCOUNT_INVALID`, `ERR_ACCOUNT_ID_INVALID`, `ERR_AUDIENCE_INVALID`.
 * @throws {DiscoveryError} `ERR_ISSUER_INVALID`.
 *
 * @example
 * buildTrustPolicy({
 *   issuer: "https://oidc.example.com/prod",
 *   serviceAccounts: ["payments/api"],
 *   accountId: "111122223333",
 * });
 */
export function buildTrustPolicy(options: BuildTrustPolicyOptions): TrustPolicyDocument {
  const hostPath = issuerHostPath(options.issuer);
  if (!/^\d{12}$/.test(options.accountId)) {
    throw new IamError(
      "ERR_ACCOUNT_ID_INVALID",
      `account ID ${quoteInput(options.accountId)} is not 12 digits; give it like 111122223333`,
    );
  }
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const audienceFault =
    audienceProblem(audience) ??
    (/[*?]/.test(audience)
      ? `audience ${quoteInput(audience)} must be a plain value such as sts.amazonaws.com`
      : undefined);
  if (audienceFault) throw new IamError("ERR_AUDIENCE_INVALID", audienceFault);
  const accounts = (options.serviceAccounts ?? []).map((account) =>
    typeof account === "string" ? parseServiceAccount(account) : account,
  );
  const namespaces = [...new Set(options.namespaceWide ?? [])];
  for (const namespace of namespaces) assertNamespace(namespace);
  if (accounts.length === 0 && namespaces.length === 0) {
    throw new IamError(
      "ERR_SERVICE_ACCOUNT_INVALID",
      "say which service accounts may assume the role: --service-account NAMESPACE/NAME (repeatable), or --namespace-wide NAMESPACE",
    );
  }
  const principal = {
    Federated: oidcProviderArn(options.partition ?? "aws", options.accountId, hostPath),
  };
  const one = (values: string[]): string | string[] => (values.length === 1 ? (values[0] as string) : values);
  const statements: TrustPolicyStatement[] = [];
  if (accounts.length > 0) {
    const subjects = [...new Set(accounts.map(serviceAccountSubject))];
    statements.push({
      Effect: "Allow",
      Principal: principal,
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: { StringEquals: { [`${hostPath}:sub`]: one(subjects), [`${hostPath}:aud`]: audience } },
    });
  }
  if (namespaces.length > 0) {
    statements.push({
      Effect: "Allow",
      Principal: principal,
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: { [`${hostPath}:aud`]: audience },
        StringLike: { [`${hostPath}:sub`]: one(namespaces.map((ns) => `system:serviceaccount:${ns}:*`)) },
      },
    });
  }
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * {@link buildTrustPolicy}, with the account (and its partition) of the caller's AWS credentials
 * when no account ID is given.
 *
 * @throws {IamError} as {@link buildTrustPolicy}.
 * @throws {IamError} `ERR_AWS_NO_CREDENTIALS`, `ERR_AWS_ACCESS_DENIED` or
 *   `ERR_AWS_REQUEST_FAILED` when the account cannot be looked up.
 *
 * @example
 * const issuer = "https://oidc.example.com/prod";
 * const policy = await trustPolicy({ issuer, serviceAccounts: ["payments/api"] });
 * console.log(JSON.stringify(policy, null, 2));
 */
export async function trustPolicy(options: TrustPolicyOptions): Promise<TrustPolicyDocument> {
  // Checked before any AWS call, so a typo never waits on the network.
  issuerHostPath(options.issuer);
  let { accountId, partition } = options;
  if (accountId === undefined) {
    const identity = await callerIdentity({
      region: options.region,
      awsSettings: options.awsSettings,
      client: options.clients?.sts,
    });
    accountId = identity.accountId;
    partition ??= identity.partition;
  }
  if (partition === undefined) {
    // The region the AWS tools would use, as doctor does: AWS_REGION=cn-north-1 (or a profile's
    // region of aws-cn) means arn:aws-cn. Resolving it sends no request.
    const { client, region } = await makeStsClient(options.region, options.awsSettings);
    client.destroy();
    partition = partitionOf(region).name;
  }
  return buildTrustPolicy({
    issuer: options.issuer,
    ...(options.serviceAccounts ? { serviceAccounts: options.serviceAccounts } : {}),
    ...(options.namespaceWide ? { namespaceWide: options.namespaceWide } : {}),
    ...(options.audience === undefined ? {} : { audience: options.audience }),
    accountId,
    partition,
  });
}
