import type { CloudFrontClient } from "@aws-sdk/client-cloudfront";
import type { IAMClient } from "@aws-sdk/client-iam";
import type { S3Client } from "@aws-sdk/client-s3";
import type { STSClient } from "@aws-sdk/client-sts";
import {
  type AwsClientSettings,
  audienceProblem,
  loadAwsSdk,
  makeAwsClient,
  makeIamClient,
  makeStsClient,
  parseServiceAccount,
  partitionOf,
  type RoleArn,
  requireRoleArn,
  resolvedRegion,
  type ServiceAccountRef,
} from "@irsa-anywhere/iam";
import type { PublicSigningKey } from "@irsa-anywhere/keys";
import { connectKube, type KubeconfigOptions } from "@irsa-anywhere/kube";
import { CHECK_IDS, type Check, type CheckId, type Diagnosis } from "./check.js";
import { cloudFrontDistributionCheck } from "./checks/cloudfront.js";
import { clusterIssuerCheck } from "./checks/cluster-issuer.js";
import { clusterJwksCheck } from "./checks/cluster-jwks.js";
import { clusterKeyPublishedCheck, retiredKeysCheck } from "./checks/cluster-keys.js";
import {
  discoveryDocumentCheck,
  discoveryHeadersCheck,
  discoveryIssuerCheck,
  discoveryReachableCheck,
  jwksHeadersCheck,
  jwksReachableCheck,
} from "./checks/documents.js";
import { iamOidcProviderCheck, iamProviderAudienceCheck } from "./checks/iam-provider.js";
import { issuerUrlCheck } from "./checks/issuer-url.js";
import { jwksEmptyKidCheck, jwksKeysCheck } from "./checks/jwks.js";
import { podIdentityWebhookCheck } from "./checks/pod-identity-webhook.js";
import { podsCheck } from "./checks/pods.js";
import { roleTrustPolicyCheck } from "./checks/role-trust.js";
import { serviceAccountCheck } from "./checks/service-account.js";
import { smokeAssumeRoleCheck, smokeTokenCheck } from "./checks/smoke-test.js";
import { DoctorError } from "./errors.js";
import { factDeclarations } from "./facts.js";
import { type CheckDeclaration, runDeclarations } from "./lib/check-model.js";
import { CHECK_TITLES, type Outcome } from "./lib/outcome.js";
import type { SigningKey } from "./signing-key.js";

export interface DiagnoseOptions {
  /** The issuer, exactly as the cluster's tokens carry it (`--service-account-issuer`). */
  issuer: string;
  /**
   * The cluster's public keys (e.g. from `publicKeysFromCluster`): checks that the current one is
   * published and lists published keys the cluster no longer has.
   */
  keys?: readonly PublicSigningKey[] | undefined;
  /**
   * Why the cluster's keys could not be read (the cluster was down, or refused): the checks that
   * need them then warn "not checked" with this reason instead of being skipped.
   */
  keysUnavailable?: string | undefined;
  /** The audience the tokens carry; default the service account's annotation, else `sts.amazonaws.com`. */
  audience?: string | undefined;
  /** The role the service account assumes; default its `eks.amazonaws.com/role-arn` annotation. */
  roleArn?: string | undefined;
  /** `NAMESPACE/NAME`, or the parts. */
  serviceAccount?: ServiceAccountRef | string | undefined;
  /**
   * Sign a token as kube-apiserver would, verify it as STS does, and call
   * AssumeRoleWithWebIdentity with it. Needs `signingKey`, `serviceAccount` and a role.
   */
  smokeTest?: boolean | undefined;
  /** The cluster's private signing key, for the smoke test (see `signingKeyFromCluster`). */
  signingKey?: SigningKey | undefined;
  /**
   * Check the cluster side through the Kubernetes API: a kubeconfig and context, or `{}` for the
   * defaults (`KUBECONFIG`, `~/.kube/config`, in-cluster). Default: no cluster checks.
   */
  kubernetes?: KubeconfigOptions | undefined;
  /** Check IAM and call STS (default `true`); `false` checks the documents and cluster only. */
  aws?: boolean | undefined;
  /** STS's region; default the SDK's (`AWS_REGION`, the profile's), else `us-east-1`. */
  region?: string | undefined;
  /** The profile and request timeout of the AWS clients made here. */
  awsSettings?: AwsClientSettings | undefined;
  /** AWS clients to use instead of ones made from the environment (custom credentials, tests). */
  clients?:
    | {
        iam?: IAMClient | undefined;
        sts?: STSClient | undefined;
        cloudFront?: CloudFrontClient | undefined;
        s3?: S3Client | undefined;
      }
    | undefined;
  /** PEM certificates to trust besides the public roots, for an issuer with a private CA (tests). */
  ca?: string | readonly string[] | undefined;
  /** How long each document may take; default 5000 ms, the limit STS applies. */
  timeoutMs?: number | undefined;
  /** How long each Kubernetes API request may take; default 15000 ms. */
  kubernetesTimeoutMs?: number | undefined;
  /** The clock, for tests; default now. */
  now?: Date | undefined;
}

/** STS gives up on an issuer that takes longer than this. */
export const STS_TIMEOUT_MS = 5_000;

/**
 * Checks every link of the IRSA chain and explains each broken one with its fix: the issuer's
 * documents as STS fetches them, the cluster's keys, the IAM OIDC provider and its audience, the
 * cluster side (issuer, keys, service account, webhook, pods), the role's trust policy, and with
 * `smokeTest` a real token through STS.
 *
 * A broken link is a failed check, never an exception: the result lists every check (skipped
 * ones with the reason), and `ok` is `true` when none failed. Nothing is printed; the token of
 * the smoke test never leaves memory.
 *
 * The AWS SDK and the Kubernetes client are loaded only when a check needs them.
 *
 * @throws {DoctorError} for options that cannot work: `ERR_AUDIENCE_INVALID`,
 *   `ERR_SIGNING_KEY_MISSING`, `ERR_SMOKE_TEST_INCOMPLETE`.
 * @throws {IamError} `ERR_SERVICE_ACCOUNT_INVALID`, `ERR_ROLE_ARN_INVALID` (from `@irsa-anywhere/iam`).
 * @throws {KubeError} `ERR_KUBECONFIG_INVALID` (from `@irsa-anywhere/kube`).
 *
 * @example
 * const diagnosis = await diagnose({
 *   issuer: "https://my-oidc-bucket.s3.us-west-2.amazonaws.com/prod",
 *   keys: await publicKeysFromCluster({ cluster: "prod", kubeconfig: "prod.kubeconfig" }),
 *   serviceAccount: "payments/api",
 *   kubernetes: { kubeconfig: "prod.kubeconfig" },
 * });
 * for (const check of diagnosis.checks) console.log(check.status, check.title, check.reason);
 */
export async function diagnose(options: DiagnoseOptions): Promise<Diagnosis> {
  const plan = validate(options);
  const now = options.now ?? new Date();
  const aws = options.aws ?? true;

  // Before anything is fetched, so that a bad kubeconfig is an error and not a long wait.
  const kube = options.kubernetes
    ? await connectKube(options.kubernetes, options.kubernetesTimeoutMs ?? 15_000)
    : undefined;

  const ownClients: Array<{ destroy(): void }> = [];
  let iamMade: Promise<IAMClient> | undefined;
  let stsMade: Promise<{ client: STSClient; region: string }> | undefined;
  // One client, whose region (given, or the SDK's chain with the profile) also picks IAM's partition.
  const stsAndRegion = () =>
    (stsMade ??= (async () => {
      const given = options.clients?.sts;
      if (given)
        return { client: given, region: (await resolvedRegion(given)) ?? options.region ?? "us-east-1" };
      const made = await makeStsClient(options.region, options.awsSettings);
      ownClients.push(made.client);
      return made;
    })());
  // One promise, not one client per caller: checks that run at once share the client.
  const iam = () =>
    (iamMade ??= (async () => {
      const given = options.clients?.iam;
      if (given) return given;
      const partition = plan.role?.partition ?? partitionOf((await stsAndRegion()).region).name;
      const made = await makeIamClient(partition, options.awsSettings);
      ownClients.push(made);
      return made;
    })());
  const sts = async () => (await stsAndRegion()).client;
  let cloudFrontMade: Promise<CloudFrontClient> | undefined;
  const cloudFront = () =>
    (cloudFrontMade ??= (async () => {
      const given = options.clients?.cloudFront;
      if (given) return given;
      const cf = loadAwsSdk<typeof import("@aws-sdk/client-cloudfront")>(
        import.meta.url,
        "@aws-sdk/client-cloudfront",
      );
      const made = makeAwsClient(
        cf.CloudFrontClient,
        "CloudFront",
        { region: "us-east-1", maxAttempts: 3 },
        options.awsSettings,
      );
      ownClients.push(made);
      return made;
    })());
  const s3Made = new Map<string, Promise<S3Client>>();
  const s3 = (region: string) => {
    const given = options.clients?.s3;
    if (given) return Promise.resolve(given);
    let made = s3Made.get(region);
    if (!made) {
      made = (async () => {
        const client = loadAwsSdk<typeof import("@aws-sdk/client-s3")>(import.meta.url, "@aws-sdk/client-s3");
        const s3Client = makeAwsClient(
          client.S3Client,
          "S3",
          { region, maxAttempts: 3 },
          options.awsSettings,
        );
        ownClients.push(s3Client);
        return s3Client;
      })();
      s3Made.set(region, made);
    }
    return made;
  };

  let outcomes: Map<CheckId, Outcome>;
  try {
    outcomes = await runDeclarations(
      CHECKS,
      factDeclarations({
        keys: plan.keys,
        keysUnavailable: options.keysUnavailable,
        aws,
        kube,
        account: plan.account,
        role: plan.role,
        audience: plan.audience,
        smokeTest: options.smokeTest === true,
        signingKey: options.signingKey,
      }),
      {
        issuer: options.issuer,
        now,
        expectedRoleArn: options.roleArn,
        fetchOptions: {
          ca: options.ca === undefined ? undefined : [options.ca].flat(),
          timeoutMs: options.timeoutMs ?? STS_TIMEOUT_MS,
        },
        iam,
        sts,
        cloudFront,
        s3,
      },
    );
  } finally {
    for (const client of ownClients) client.destroy();
  }

  const checks: Check[] = CHECK_IDS.map((id) => ({
    id,
    title: CHECK_TITLES[id],
    ...(outcomes.get(id) as Outcome),
  }));
  return { issuer: options.issuer, checks, ok: checks.every((check) => check.status !== "fail") };
}

/** @internal Every check, each declaring what it needs; `diagnose()` reports them in {@link CHECK_IDS} order. */
export const CHECKS: readonly CheckDeclaration[] = [
  issuerUrlCheck,
  discoveryReachableCheck,
  discoveryHeadersCheck,
  discoveryDocumentCheck,
  discoveryIssuerCheck,
  jwksReachableCheck,
  jwksHeadersCheck,
  jwksKeysCheck,
  jwksEmptyKidCheck,
  cloudFrontDistributionCheck,
  clusterKeyPublishedCheck,
  retiredKeysCheck,
  iamOidcProviderCheck,
  iamProviderAudienceCheck,
  clusterIssuerCheck,
  clusterJwksCheck,
  serviceAccountCheck,
  podIdentityWebhookCheck,
  podsCheck,
  roleTrustPolicyCheck,
  smokeTokenCheck,
  smokeAssumeRoleCheck,
];

interface Plan {
  account: ServiceAccountRef | undefined;
  role: RoleArn | undefined;
  audience: string | undefined;
  keys: readonly PublicSigningKey[] | undefined;
}

function validate(options: DiagnoseOptions): Plan {
  const account =
    typeof options.serviceAccount === "string"
      ? parseServiceAccount(options.serviceAccount)
      : options.serviceAccount;
  const role = options.roleArn === undefined ? undefined : requireRoleArn(options.roleArn);
  const audienceFault = options.audience === undefined ? undefined : audienceProblem(options.audience);
  if (audienceFault) throw new DoctorError("ERR_AUDIENCE_INVALID", audienceFault);
  if (options.smokeTest) {
    if (!options.signingKey) {
      throw new DoctorError(
        "ERR_SIGNING_KEY_MISSING",
        "--smoke-test signs a token with the cluster's private signing key; add --cluster NAME (or --key with the private key)",
      );
    }
    if (!account) {
      throw new DoctorError(
        "ERR_SMOKE_TEST_INCOMPLETE",
        "--smoke-test needs the service account to sign a token for; add --service-account NAMESPACE/NAME",
      );
    }
    if (!role && !options.kubernetes) {
      throw new DoctorError(
        "ERR_SMOKE_TEST_INCOMPLETE",
        "--smoke-test needs the role to assume; add --role-arn ARN, or a kubeconfig to read the service account's annotation",
      );
    }
  }
  const keys = options.keys?.length ? options.keys : undefined;
  return { account, role, audience: options.audience, keys };
}
