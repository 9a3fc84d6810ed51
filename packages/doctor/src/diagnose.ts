import type { IAMClient } from "@aws-sdk/client-iam";
import type { STSClient } from "@aws-sdk/client-sts";
import { issuerHostPath } from "@irsa-anywhere/discovery";
import { currentSigningKey, type PublicSigningKey } from "@irsa-anywhere/keys";
import {
  type AwsClientSettings,
  audienceProblem,
  DEFAULT_AUDIENCE,
  resolvedRegion,
} from "@irsa-anywhere/publisher";
import { CHECK_IDS, type Check, type CheckId, type Diagnosis } from "./check.js";
import { type ClusterFacts, gatherClusterFacts } from "./checks/cluster-api.js";
import { judgeClusterIssuer } from "./checks/cluster-issuer.js";
import { judgeClusterJwks } from "./checks/cluster-jwks.js";
import { judgeCurrentKeyPublished, judgeRetiredKeys } from "./checks/cluster-keys.js";
import {
  headerValue,
  judgeDiscoveryDocument,
  judgeDiscoveryIssuer,
  judgeHeaders,
  judgeReachable,
} from "./checks/documents.js";
import {
  judgeProvider,
  judgeProviderAudience,
  lookUpProvider,
  type ProviderLookup,
} from "./checks/iam-provider.js";
import { judgeEmptyKid, judgeJwks, type PublishedKeys } from "./checks/jwks.js";
import { judgeWebhook } from "./checks/pod-identity-webhook.js";
import { judgePods } from "./checks/pods.js";
import { judgeRoleTrust, lookUpRole } from "./checks/role-trust.js";
import { judgeServiceAccount, type ServiceAccountFacts } from "./checks/service-account.js";
import { assumeRoleWithToken, verifyAsSts } from "./checks/smoke-test.js";
import { DoctorError } from "./errors.js";
import { oidcProviderArn, parseRoleArn, type RoleArn, requireRoleArn } from "./lib/arn.js";
import { makeIamClient, makeStsClient, partitionOfRegion } from "./lib/aws.js";
import { httpsGet, isFailure } from "./lib/https-get.js";
import { connectKube, type KubeOptions } from "./lib/kube.js";
import { CHECK_TITLES, couldNotRun, fail, notChecked, type Outcome, pass, skip } from "./lib/outcome.js";
import { mintServiceAccountToken } from "./lib/service-account-token.js";
import { parseServiceAccount, type ServiceAccountRef } from "./service-account.js";
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
  kubernetes?: KubeOptions | undefined;
  /** Check IAM and call STS (default `true`); `false` checks the documents and cluster only. */
  aws?: boolean | undefined;
  /** STS's region; default the SDK's (`AWS_REGION`, the profile's), else `us-east-1`. */
  region?: string | undefined;
  /** The profile and request timeout of the AWS clients made here. */
  awsSettings?: AwsClientSettings | undefined;
  /** AWS clients to use instead of ones made from the environment (custom credentials, tests). */
  clients?: { iam?: IAMClient | undefined; sts?: STSClient | undefined } | undefined;
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
 * @throws {DoctorError} for options that cannot work: `ERR_SERVICE_ACCOUNT_INVALID`,
 *   `ERR_ROLE_ARN_INVALID`, `ERR_AUDIENCE_INVALID`, `ERR_SIGNING_KEY_MISSING`,
 *   `ERR_SMOKE_TEST_INCOMPLETE`.
 * @throws {KeysError} `ERR_KUBECONFIG_INVALID`.
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
  const outcomes = new Map<CheckId, Outcome>();
  const now = options.now ?? new Date();
  const aws = options.aws ?? true;

  let hostPath: string | undefined;
  try {
    hostPath = issuerHostPath(options.issuer);
    outcomes.set("issuer-url", pass(`IAM names its provider ${hostPath}`));
  } catch (error) {
    outcomes.set(
      "issuer-url",
      fail(
        (error as Error).message,
        "use an issuer of the form https://host[/path] in the cluster (spec.podIamConfig.serviceAccountIssuer) and publish under it",
      ),
    );
  }

  // Before anything is fetched, so that a bad kubeconfig is an error and not a long wait.
  const kube = options.kubernetes
    ? await connectKube(options.kubernetes, options.kubernetesTimeoutMs ?? 15_000)
    : undefined;

  const ownClients: Array<{ destroy(): void }> = [];
  let iamClient: IAMClient | undefined;
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
  const iam = async () => {
    if (!iamClient) {
      iamClient = options.clients?.iam;
      if (!iamClient) {
        const partition = plan.role?.partition ?? partitionOfRegion((await stsAndRegion()).region);
        iamClient = await makeIamClient(partition, options.awsSettings);
        ownClients.push(iamClient);
      }
    }
    return iamClient;
  };
  const sts = async () => (await stsAndRegion()).client;

  try {
    const [documents, provider, cluster] = await Promise.all([
      hostPath ? readDocuments(options.issuer, options, now, plan.keys) : undefined,
      aws && hostPath ? lookUpProvider(await iam(), hostPath) : undefined,
      kube ? gatherClusterFacts(kube, plan.account) : undefined,
    ]);
    for (const [id, outcome] of documents?.outcomes ?? []) outcomes.set(id, outcome);

    // The cluster side first: the service account may name the role and the audience.
    const sa = judgeClusterSide(outcomes, cluster, plan, options, documents?.published, provider);
    const audience = plan.audience ?? sa?.audience ?? DEFAULT_AUDIENCE;

    if (!aws) {
      for (const id of ["iam-oidc-provider", "iam-provider-audience"] as const) {
        outcomes.set(id, skip("AWS checks are off"));
      }
    } else if (provider && hostPath) {
      outcomes.set("iam-oidc-provider", judgeProvider(provider, options.issuer, hostPath, audience));
      outcomes.set("iam-provider-audience", judgeProviderAudience(provider, audience));
    }

    const role = plan.role ?? (sa?.roleArn ? parseRoleArn(sa.roleArn) : undefined);
    // With a cluster, what stopped the service account from naming the role, as its check said.
    const saCheck = outcomes.get("service-account");
    const noRole =
      options.kubernetes && saCheck && saCheck.status !== "skip"
        ? `no role: ${saCheck.reason}; add --role-arn ARN`
        : "no role given: add --role-arn ARN (or a kubeconfig, to read the service account's annotation)";
    const trust = await checkTrust(outcomes, {
      role,
      noRole,
      plan,
      aws,
      hostPath,
      audience,
      issuer: options.issuer,
      iam,
    });

    await smokeTest(outcomes, {
      options,
      plan,
      aws,
      hostPath,
      audience,
      now,
      role,
      noRole,
      trustDenied: trust === "denied",
      sa,
      documents,
      provider,
      sts,
    });
  } finally {
    for (const client of ownClients) client.destroy();
  }

  const checks: Check[] = CHECK_IDS.map((id) => ({
    id,
    title: CHECK_TITLES[id],
    ...(outcomes.get(id) ?? skip("needs the issuer URL")),
  }));
  return { issuer: options.issuer, checks, ok: checks.every((check) => check.status !== "fail") };
}

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

interface Documents {
  outcomes: Map<CheckId, Outcome>;
  published: PublishedKeys | undefined;
  discoveryIssuer: unknown;
}

/** The discovery document, then the JWKS it points to, fetched and judged as STS would read them. */
async function readDocuments(
  issuer: string,
  options: DiagnoseOptions,
  now: Date,
  keys: readonly PublicSigningKey[] | undefined,
): Promise<Documents> {
  const outcomes = new Map<CheckId, Outcome>();
  const fetchOptions = {
    ca: options.ca === undefined ? undefined : [options.ca].flat(),
    timeoutMs: options.timeoutMs ?? STS_TIMEOUT_MS,
  };
  const result: Documents = { outcomes, published: undefined, discoveryIssuer: undefined };
  // The user asked for the cluster's keys: that they could not be read fails the check that
  // needs them most; the list of retired keys is only informational.
  const withoutKeys = (id: "cluster-key-published" | "retired-keys"): Outcome =>
    options.keysUnavailable === undefined
      ? skip("no key source given: add --cluster NAME or --key FILE")
      : (id === "cluster-key-published" ? couldNotRun : notChecked)(
          `the cluster's keys could not be read: ${options.keysUnavailable}`,
          "check that the cluster is up and that --kubeconfig / --context point at it, or give the key as --key FILE",
        );
  const skipJwks = (reason: string) => {
    for (const id of ["jwks-reachable", "jwks-headers", "jwks-keys", "jwks-empty-kid"] as const) {
      outcomes.set(id, skip(reason));
    }
    for (const id of ["cluster-key-published", "retired-keys"] as const) {
      outcomes.set(id, keys ? skip(reason) : withoutKeys(id));
    }
  };

  const discoveryUrl = `${issuer}/.well-known/openid-configuration`;
  const discovery = await httpsGet(discoveryUrl, fetchOptions);
  outcomes.set("discovery-reachable", judgeReachable("discovery document", discoveryUrl, discovery));
  if (isFailure(discovery) || discovery.status !== 200) {
    for (const id of ["discovery-headers", "discovery-document", "discovery-issuer"] as const) {
      outcomes.set(id, skip("the discovery document could not be read"));
    }
    skipJwks("the discovery document, which names the JWKS, could not be read");
    return result;
  }
  outcomes.set("discovery-headers", judgeHeaders("discovery document", discovery));
  const { outcome, document } = judgeDiscoveryDocument(discovery.body);
  outcomes.set("discovery-document", outcome);
  if (!document) {
    outcomes.set("discovery-issuer", skip("the discovery document could not be read"));
    skipJwks("the discovery document names no usable jwks_uri");
    return result;
  }
  result.discoveryIssuer = document.issuer;
  outcomes.set("discovery-issuer", judgeDiscoveryIssuer(issuer, document.issuer));

  const jwks = await httpsGet(document.jwksUri, fetchOptions);
  outcomes.set("jwks-reachable", judgeReachable("JWKS", document.jwksUri, jwks));
  if (isFailure(jwks) || jwks.status !== 200) {
    for (const id of ["jwks-headers", "jwks-keys", "jwks-empty-kid"] as const) {
      outcomes.set(id, skip("the JWKS could not be read"));
    }
    for (const id of ["cluster-key-published", "retired-keys"] as const) {
      outcomes.set(id, keys ? skip("the JWKS could not be read") : withoutKeys(id));
    }
    return result;
  }
  outcomes.set("jwks-headers", judgeHeaders("JWKS", jwks));
  const judged = judgeJwks(jwks.body);
  outcomes.set("jwks-keys", judged.outcome);
  result.published = judged.published;
  const currentKid = keys ? currentSigningKey(keys).kid : undefined;
  if (judged.published) {
    outcomes.set("jwks-empty-kid", judgeEmptyKid(judged.published, currentKid));
  } else {
    outcomes.set("jwks-empty-kid", skip("the JWKS could not be read"));
  }
  if (!keys) {
    outcomes.set("cluster-key-published", withoutKeys("cluster-key-published"));
    outcomes.set("retired-keys", withoutKeys("retired-keys"));
  } else if (!judged.published) {
    outcomes.set("cluster-key-published", skip("the JWKS could not be read"));
    outcomes.set("retired-keys", skip("the JWKS could not be read"));
  } else {
    outcomes.set("cluster-key-published", judgeCurrentKeyPublished(keys, judged.published));
    outcomes.set(
      "retired-keys",
      judgeRetiredKeys(keys, judged.published, headerValue(jwks.headers, "last-modified"), now),
    );
  }
  return result;
}

function judgeClusterSide(
  outcomes: Map<CheckId, Outcome>,
  cluster: ClusterFacts | undefined,
  plan: Plan,
  options: DiagnoseOptions,
  published: PublishedKeys | undefined,
  provider: ProviderLookup | undefined,
): ServiceAccountFacts | undefined {
  const clusterIds = [
    "cluster-issuer",
    "cluster-jwks",
    "service-account",
    "pod-identity-webhook",
    "pods",
  ] as const;
  if (!cluster) {
    for (const id of clusterIds) {
      outcomes.set(id, skip("no kubeconfig given: add --kubeconfig (and --context), or run in the cluster"));
    }
    return undefined;
  }
  outcomes.set("cluster-issuer", judgeClusterIssuer(cluster, options.issuer));
  outcomes.set("cluster-jwks", judgeClusterJwks(cluster, published));
  outcomes.set("pod-identity-webhook", judgeWebhook(cluster));
  if (!plan.account) {
    outcomes.set("service-account", skip("no service account given: add --service-account NAMESPACE/NAME"));
    outcomes.set("pods", skip("no service account given: add --service-account NAMESPACE/NAME"));
    return undefined;
  }
  const judged = judgeServiceAccount(cluster, plan.account, {
    roleArn: options.roleArn,
    clientIds: provider?.kind === "found" ? provider.clientIds : undefined,
  });
  outcomes.set("service-account", judged.outcome);
  outcomes.set(
    "pods",
    judged.facts
      ? judgePods(cluster, plan.account, judged.facts)
      : skip("the service account could not be read (see service-account)"),
  );
  return judged.facts;
}

async function checkTrust(
  outcomes: Map<CheckId, Outcome>,
  context: {
    role: RoleArn | undefined;
    /** Why there is no role, when there is none. */
    noRole: string;
    plan: Plan;
    aws: boolean;
    hostPath: string | undefined;
    audience: string;
    issuer: string;
    iam: () => Promise<IAMClient>;
  },
): Promise<"allowed" | "denied" | "unknown" | undefined> {
  const { role, plan, hostPath } = context;
  const reason = !plan.account
    ? "no service account given: add --service-account NAMESPACE/NAME and --role-arn ARN"
    : !role
      ? context.noRole
      : !context.aws
        ? "AWS checks are off"
        : !hostPath
          ? "needs a valid issuer URL"
          : undefined;
  if (reason !== undefined || !plan.account || !role || !hostPath) {
    outcomes.set("role-trust-policy", skip(reason ?? ""));
    return undefined;
  }
  const lookup = await lookUpRole(await context.iam(), role.name);
  const judged = judgeRoleTrust(lookup, {
    issuer: context.issuer,
    hostPath,
    role,
    providerArn: oidcProviderArn(role.partition, role.accountId, hostPath),
    account: plan.account,
    audience: context.audience,
  });
  outcomes.set("role-trust-policy", judged.outcome);
  return judged.evaluation?.decision;
}

async function smokeTest(
  outcomes: Map<CheckId, Outcome>,
  context: {
    options: DiagnoseOptions;
    plan: Plan;
    aws: boolean;
    hostPath: string | undefined;
    audience: string;
    now: Date;
    role: RoleArn | undefined;
    noRole: string;
    trustDenied: boolean;
    sa: ServiceAccountFacts | undefined;
    documents: Documents | undefined;
    provider: ProviderLookup | undefined;
    sts: () => Promise<STSClient>;
  },
): Promise<void> {
  const { options, plan } = context;
  const signingKey = options.signingKey;
  if (!options.smokeTest || !signingKey || !plan.account) {
    const reason =
      "add --smoke-test (with the private signing key, e.g. --cluster NAME) to send a real token to STS";
    outcomes.set("smoke-token", skip(reason));
    outcomes.set("smoke-assume-role", skip(reason));
    return;
  }
  if (!context.hostPath) {
    outcomes.set("smoke-token", skip("needs a valid issuer URL"));
    outcomes.set("smoke-assume-role", skip("needs a valid issuer URL"));
    return;
  }
  // The token lives in this scope only: it is never printed, logged, stored, or put in a message.
  const token = await mintServiceAccountToken({
    signingKey,
    issuer: options.issuer,
    audience: context.audience,
    account: plan.account,
    uid: context.sa?.uid,
    now: context.now,
  });
  const redact = (text: string) =>
    text
      .split(token)
      .join("[token]")
      .replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, "[token]");
  const verified = await verifyAsSts(token, {
    issuer: options.issuer,
    published: context.documents?.published,
    discoveryIssuer: context.documents?.discoveryIssuer,
    audiences: context.provider?.kind === "found" ? context.provider.clientIds : [context.audience],
    now: context.now,
  });
  outcomes.set("smoke-token", { ...verified, reason: redact(verified.reason) });
  if (verified.status === "fail") {
    outcomes.set("smoke-assume-role", skip("STS would refuse the token (see smoke-token); not sent"));
  } else if (!context.aws) {
    outcomes.set("smoke-assume-role", skip("AWS checks are off"));
  } else if (!context.role) {
    outcomes.set("smoke-assume-role", skip(context.noRole));
  } else if (context.provider?.kind === "missing") {
    outcomes.set(
      "smoke-assume-role",
      skip("STS would find no OIDC provider for the issuer (see iam-oidc-provider); not sent"),
    );
  } else if (context.trustDenied) {
    outcomes.set(
      "smoke-assume-role",
      skip("the role's trust policy refuses the token (see role-trust-policy); not sent"),
    );
  } else {
    outcomes.set(
      "smoke-assume-role",
      await assumeRoleWithToken(token, await context.sts(), context.role.arn, redact),
    );
  }
}
