import type { IAMClient } from "@aws-sdk/client-iam";
import { issuerHostPath } from "@irsa-anywhere/discovery";
import { oidcProviderArn, parseRoleArn, type RoleArn, requireRoleArn } from "./arn.js";
import { DEFAULT_AUDIENCE } from "./audience.js";
import type { AwsClientSettings } from "./aws-client.js";
import { makeIamClient, partitionOfSdkRegion } from "./aws-clients.js";
import { awsError } from "./aws-error.js";
import { IamError } from "./errors.js";
import { parsePolicyText } from "./policy-text.js";
import { lookUpRole } from "./role.js";
import { parseServiceAccount, type ServiceAccountRef, serviceAccountSubject } from "./service-account.js";
import { type BuildTrustPolicyOptions, buildTrustPolicy } from "./trust-policy.js";
import { evaluateTrustPolicy } from "./trust-policy-evaluation.js";

/** A role's trust policy with service accounts merged in. */
export interface MergedTrustPolicy {
  /** Every statement, principal and condition value of the current policy, and the additions. */
  policy: Record<string, unknown>;
  /** The `sub` values added: `system:serviceaccount:NS:NAME`, or `system:serviceaccount:NS:*`. */
  added: string[];
  /** Those the current policy already let in (evaluated as IAM does); nothing was added for them. */
  alreadyAllowed: string[];
}

/** What `trustPolicyForRole` needs: the role, and the service accounts to let into it. */
export interface RoleTrustPolicyOptions extends Omit<BuildTrustPolicyOptions, "accountId" | "partition"> {
  /** The role: its name (`payments-api`) or its ARN. */
  role: string;
  /**
   * Picks IAM's partition for a role given by name (`cn-north-1`: aws-cn); default the SDK's
   * region (`AWS_REGION`, the profile's).
   */
  region?: string;
  /** The profile and request timeout of the IAM client made here. */
  awsSettings?: AwsClientSettings | undefined;
  /** A client to use instead of one made from the environment. */
  clients?: { iam?: IAMClient };
}

/** A role's trust policy with the service accounts merged in, and the role it belongs to. */
export interface RoleTrustPolicy extends MergedTrustPolicy {
  /** The role's ARN, as IAM gave it. */
  roleArn: string;
  /** The role's name, as `aws iam update-assume-role-policy --role-name` takes it. */
  roleName: string;
}

/** One `sub` value to let in, and the subject that proves it is let in. */
interface Grant {
  value: string;
  probe: string;
  operators: readonly string[];
}

const webIdentity = "sts:AssumeRoleWithWebIdentity";

/**
 * Merges service accounts into a role's current trust policy instead of replacing it, so that no
 * principal already trusted is locked out. A service account the policy already lets in (as
 * {@link evaluateTrustPolicy} decides) is left alone; otherwise its `sub` joins the values of a
 * statement that already trusts the same provider and audience with nothing but `:sub` and
 * `:aud` conditions (the shape `trust-policy`, eksctl, Terraform and the console write), or, when
 * there is none, it gets the statement {@link buildTrustPolicy} would write.
 *
 * @param current the role's trust policy: an object, JSON text, or URL-encoded JSON text as
 *   IAM's GetRole returns it.
 * @throws {IamError} as {@link buildTrustPolicy}; `ERR_TRUST_POLICY_INVALID` for a current
 *   policy that is not a policy document; `ERR_TRUST_POLICY_UNMERGEABLE` when a statement of the
 *   policy (a `Deny`) still refuses a service account after the merge.
 *
 * @example
 * const iam = new IAMClient({ region: "us-east-1", ...awsClientConfig({}) });
 * const { Role: role } = await iam.send(new GetRoleCommand({ RoleName: "payments-api" }));
 * const { policy } = mergeTrustPolicy(role?.AssumeRolePolicyDocument, {
 *   issuer: "https://oidc.example.com/prod",
 *   serviceAccounts: ["payments/api"],
 *   accountId: "111122223333",
 * });
 */
export function mergeTrustPolicy(current: unknown, options: BuildTrustPolicyOptions): MergedTrustPolicy {
  const built = buildTrustPolicy(options);
  const hostPath = issuerHostPath(options.issuer);
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const providerArn = oidcProviderArn(options.partition ?? "aws", options.accountId, hostPath);
  const document = parsePolicyText(current);
  if (!isObject(document) || !(isObject(document.Statement) || Array.isArray(document.Statement))) {
    throw new IamError(
      "ERR_TRUST_POLICY_INVALID",
      "the role's current trust policy is not a JSON policy document with a Statement; fix it by hand first",
    );
  }
  const policy = structuredClone(document);
  const statements: unknown[] = [policy.Statement].flat();

  const grants: Grant[] = [
    ...[...new Set((options.serviceAccounts ?? []).map(subjectOf))].map((subject) => ({
      value: subject,
      probe: subject,
      operators: ["StringEquals", "StringLike"],
    })),
    ...[...new Set(options.namespaceWide ?? [])].map((namespace) => ({
      value: `system:serviceaccount:${namespace}:*`,
      // No service account has this name; a policy that lets it in lets in the whole namespace.
      probe: `system:serviceaccount:${namespace}:irsa-anywhere-any`,
      operators: ["StringLike"],
    })),
  ];
  const request = (subject: string) => ({ providerArn, issuerHostPath: hostPath, subject, audience });
  const lets = (subject: string) =>
    evaluateTrustPolicy({ ...policy, Statement: statements }, request(subject));

  const added: string[] = [];
  const alreadyAllowed: string[] = [];
  for (const grant of grants) {
    if (lets(grant.probe).decision === "allowed") {
      alreadyAllowed.push(grant.value);
      continue;
    }
    added.push(grant.value);
    const where = grant.operators
      .flatMap((operator) => statements.map((s) => subKeyOf(s, operator, hostPath, providerArn, audience)))
      .find((found) => found !== undefined);
    if (where) {
      const value = where.block[where.key];
      where.block[where.key] = [...[value].flat(), grant.value];
    } else {
      // The statement buildTrustPolicy writes for this kind of grant, with this one value.
      const model = built.Statement.find((s) => (grant.operators[0] as string) in s.Condition);
      const statement = structuredClone(model) as unknown as Record<string, unknown>;
      const condition = statement.Condition as Record<string, Record<string, unknown>>;
      (condition[grant.operators[0] as string] as Record<string, unknown>)[`${hostPath}:sub`] = grant.value;
      statements.push(statement);
    }
  }
  if (added.length > 0) policy.Statement = statements;

  for (const grant of grants) {
    const evaluation = lets(grant.probe);
    if (evaluation.decision !== "allowed") {
      throw new IamError(
        "ERR_TRUST_POLICY_UNMERGEABLE",
        `the role's trust policy would still not let ${grant.value} in after adding it (${evaluation.reason}); edit it by hand`,
      );
    }
  }
  return { policy, added, alreadyAllowed };
}

/**
 * {@link mergeTrustPolicy} over the role's current trust policy, read from IAM (GetRole). The
 * account and partition of the provider are the role's own.
 *
 * @throws {IamError} as {@link mergeTrustPolicy}; `ERR_ROLE_ARN_INVALID` for a role that is
 *   neither a name nor an ARN; `ERR_ROLE_NOT_FOUND`.
 * @throws {IamError} `ERR_AWS_NO_CREDENTIALS`, `ERR_AWS_ACCESS_DENIED` or
 *   `ERR_AWS_REQUEST_FAILED` when the role cannot be read.
 *
 * @example
 * const { policy, added } = await trustPolicyForRole({
 *   role: "payments-api",
 *   issuer: "https://oidc.example.com/prod",
 *   serviceAccounts: ["payments/api"],
 * });
 * // then: aws iam update-assume-role-policy --role-name payments-api --policy-document file://trust.json
 */
export async function trustPolicyForRole(options: RoleTrustPolicyOptions): Promise<RoleTrustPolicy> {
  const given = parseRoleReference(options.role);
  const { role: _role, region: _region, clients: _clients, awsSettings: _settings, ...rest } = options;
  // Checked before any AWS call, so that a typo never waits on the network.
  buildTrustPolicy({ ...rest, accountId: given.arn?.accountId ?? "000000000000" });
  const client =
    options.clients?.iam ??
    (await makeIamClient(
      given.arn?.partition ?? (await partitionOfSdkRegion(options.region, options.awsSettings)),
      options.awsSettings,
    ));
  try {
    const lookup = await lookUpRole(client, given.name);
    if (lookup.kind === "missing") {
      throw new IamError(
        "ERR_ROLE_NOT_FOUND",
        `there is no role ${given.name} in the account of these credentials; check --role, or create the role with the policy trust-policy prints without --role`,
      );
    }
    if (lookup.kind === "error") throw awsError(lookup.error, ["iam:GetRole"]);
    const arn = (lookup.arn === undefined ? undefined : parseRoleArn(lookup.arn)) ?? given.arn;
    if (!arn) throw new IamError("ERR_AWS_REQUEST_FAILED", "iam:GetRole answered without the role's ARN");
    const merged = mergeTrustPolicy(lookup.document, {
      ...rest,
      accountId: arn.accountId,
      partition: arn.partition,
    });
    return { ...merged, roleArn: arn.arn, roleName: arn.name };
  } finally {
    if (!options.clients?.iam) client.destroy();
  }
}

const roleNamePattern = /^[\w+=,.@-]{1,64}$/;

function parseRoleReference(text: string): { name: string; arn?: RoleArn } {
  if (text.startsWith("arn:")) {
    const arn = requireRoleArn(text);
    return { name: arn.name, arn };
  }
  if (!roleNamePattern.test(text)) {
    throw new IamError(
      "ERR_ROLE_ARN_INVALID",
      `${JSON.stringify(text)} is neither an IAM role name nor a role ARN; write it like payments-api or arn:aws:iam::111122223333:role/payments-api`,
    );
  }
  return { name: text };
}

function subjectOf(account: ServiceAccountRef | string): string {
  return serviceAccountSubject(typeof account === "string" ? parseServiceAccount(account) : account);
}

interface SubKey {
  block: Record<string, unknown>;
  key: string;
}

/**
 * Where to add a `sub` value in a statement that trusts exactly this provider for web identity
 * and checks nothing but this issuer's `:sub` (under `operator`, or any when empty) and `:aud`
 * (which lists the audience); `undefined` for any other statement, which is left as it is.
 */
function subKeyOf(
  statement: unknown,
  operator: string,
  hostPath: string,
  providerArn: string,
  audience: string,
): SubKey | undefined {
  if (!isObject(statement) || statement.Effect !== "Allow") return undefined;
  if ("NotPrincipal" in statement || "NotAction" in statement) return undefined;
  const principal = statement.Principal;
  if (!isObject(principal) || Object.keys(principal).length !== 1) return undefined;
  const federated = [principal.Federated].flat();
  if (federated.length !== 1 || federated[0] !== providerArn) return undefined;
  const actions = [statement.Action].flat();
  if (!actions.some((a) => typeof a === "string" && a.toLowerCase() === webIdentity.toLowerCase())) {
    return undefined;
  }
  if (!isObject(statement.Condition)) return undefined;
  const subName = `${hostPath}:sub`.toLowerCase();
  const audName = `${hostPath}:aud`.toLowerCase();
  let sub: SubKey | undefined;
  let subOperator = "";
  let audienceListed = false;
  for (const [op, block] of Object.entries(statement.Condition)) {
    if (!isObject(block)) return undefined;
    for (const [key, value] of Object.entries(block)) {
      const values = [value].flat();
      if (!values.every((v) => typeof v === "string")) return undefined;
      if (key.toLowerCase() === subName && !sub) {
        sub = { block, key };
        subOperator = op;
      } else if (
        key.toLowerCase() === audName &&
        !audienceListed &&
        (op === "StringEquals" || op === "StringLike")
      ) {
        audienceListed = values.includes(audience);
        if (!audienceListed) return undefined;
      } else {
        return undefined;
      }
    }
  }
  if (!sub || !audienceListed) return undefined;
  return subOperator === operator ? sub : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
