import { issuerHostPath } from "@irsa-anywhere/discovery";
import { firstLine } from "@irsa-anywhere/errors";
import {
  IamError,
  lookUpRole,
  MANAGED_BY_TAG,
  parsePolicyText,
  parseServiceAccount,
  SERVICE_ACCOUNT_ANNOTATIONS,
  type ServiceAccountRef,
  serviceAccountSubject,
  translateAwsError,
} from "@irsa-anywhere/iam";
import { type RoleClientOptions, roleClients } from "./clients.js";
import type { RoleChange } from "./ensure-service-account-role.js";
import { RoleError } from "./errors.js";
import { iamCall, loadIam } from "./lib/iam-calls.js";
import { assertRoleName, isObject } from "./lib/inputs.js";
import { lineDiff } from "./lib/line-diff.js";
import { deleteRole } from "./lib/role-state.js";
import { ROLE_TAGS, tagValue, tagWords } from "./lib/tags.js";
import { rewriteTrustPolicy } from "./lib/trust-policy-writes.js";
import { trustedSubjects, withoutSubject } from "./lib/trust-subjects.js";

/** What `removeServiceAccountRole` takes away. */
export interface RemoveServiceAccountRoleOptions extends RoleClientOptions {
  /**
   * The issuer whose service account it is; default the one the role's `irsa-anywhere/issuers`
   * tag names, when `role create` made it for one issuer only.
   */
  issuer?: string | undefined;
  roleName: string;
  /** The service account to take out of the role's trust policy. */
  serviceAccount: ServiceAccountRef | string;
  /** Leave the cluster alone: the trust policy only. */
  roleOnly?: boolean | undefined;
  dryRun?: boolean | undefined;
}

/** What `removeServiceAccountRole` did, or in a dry run would do. */
export interface RemoveServiceAccountRoleOutcome {
  roleName: string;
  roleArn: string;
  dryRun: boolean;
  changes: RoleChange[];
  trustPolicy: { before: unknown; after: unknown; diff: string[] };
  /** Whether the role is (or would be) deleted: this tool created it and it trusts nothing more. */
  roleDeleted: boolean;
  /** When the role stays: the `sub` values its trust policy still lets in, and any other statements. */
  left: string[];
}

/**
 * Takes a service account out of a role's trust policy (dropping a statement it leaves with no
 * `sub`, which would otherwise let in the whole cluster) and its annotations off the service
 * account, when they name this role. The role itself is deleted only when this tool created it
 * (its `managed-by` tag) and its trust policy is left with nothing; otherwise `left` says what
 * remains.
 *
 * @throws {RoleError} `ERR_ROLE_NAME_INVALID`, `ERR_ROLE_OPTION_INVALID` (no issuer given, and the
 *   role's tags name none or several), `ERR_TRUST_POLICY_CONFLICT`,
 *   `ERR_SERVICE_ACCOUNT_NOT_ANNOTATED` (the role was changed, the cluster failed).
 * @throws {IamError} `ERR_ROLE_NOT_FOUND`, and AWS failures.
 *
 * @example
 * const outcome = await removeServiceAccountRole({
 *   issuer: "https://oidc.example.com/prod",
 *   roleName: "payments-api",
 *   serviceAccount: "payments/api",
 *   dryRun: true,
 * });
 * console.log(outcome.roleDeleted ? "the role goes" : `the role stays for ${outcome.left.join(", ")}`);
 */
export async function removeServiceAccountRole(
  options: RemoveServiceAccountRoleOptions,
): Promise<RemoveServiceAccountRoleOutcome> {
  const givenHostPath = options.issuer === undefined ? undefined : issuerHostPath(options.issuer);
  assertRoleName(options.roleName);
  const account =
    typeof options.serviceAccount === "string"
      ? parseServiceAccount(options.serviceAccount)
      : options.serviceAccount;
  const subject = serviceAccountSubject(account);
  const clients = await roleClients(options);
  try {
    const iam = await loadIam();
    const client = clients.iam;
    const lookup = await lookUpRole(client, options.roleName);
    if (lookup.kind === "error")
      throw translateAwsError(lookup.error, { action: "iam:GetRole", resource: options.roleName });
    if (lookup.kind === "missing") {
      throw new IamError(
        "ERR_ROLE_NOT_FOUND",
        `there is no role ${options.roleName} in the account of these credentials; check --role-name (irsa-anywhere role list --issuer URL lists the roles that trust an issuer)`,
      );
    }
    const hostPath = givenHostPath ?? issuerOfTags(lookup.tags, options.roleName);
    const roleArn = lookup.arn ?? options.roleName;
    const before = parsePolicyText(lookup.document);
    const removal = isObject(before)
      ? withoutSubject(before, hostPath, subject)
      : { policy: before, removed: false };
    const after = removal.policy as Record<string, unknown>;
    const statementsLeft = [after?.Statement ?? []].flat();
    const managed = lookup.tags.some((t) => t.Key === MANAGED_BY_TAG.Key && t.Value === MANAGED_BY_TAG.Value);
    const roleDeleted = managed && statementsLeft.length === 0;
    const left = [
      ...new Set([
        ...trustedSubjects(after, hostPath).map((s) => s.value),
        ...(statementsLeft.length > trustedStatementCount(after, hostPath)
          ? ["statements for other principals"]
          : []),
      ]),
    ];

    const cluster = options.roleOnly ? undefined : await clients.kubernetes();
    const current = cluster ? await cluster.readServiceAccount(account.namespace, account.name) : undefined;
    const patch: Record<string, null> = {};
    if (current?.annotations[SERVICE_ACCOUNT_ANNOTATIONS.roleArn] === roleArn) {
      for (const key of [
        SERVICE_ACCOUNT_ANNOTATIONS.roleArn,
        SERVICE_ACCOUNT_ANNOTATIONS.audience,
        SERVICE_ACCOUNT_ANNOTATIONS.regional,
        SERVICE_ACCOUNT_ANNOTATIONS.tokenExpiration,
      ]) {
        if (current.annotations[key] !== undefined) patch[key] = null;
      }
    }

    const changes: RoleChange[] = [];
    if (roleDeleted)
      changes.push({
        target: "role",
        description: `role ${options.roleName}: delete (created by irsa-anywhere, nothing else left in its trust policy)`,
      });
    else if (removal.removed)
      changes.push({
        target: "trust-policy",
        description: `role ${options.roleName}: stop trusting ${subject}`,
      });
    if (Object.keys(patch).length > 0) {
      changes.push({
        target: "service-account",
        description: `service account ${account.namespace}/${account.name}: remove ${Object.keys(patch).join(" ")}`,
      });
    }
    const outcome: RemoveServiceAccountRoleOutcome = {
      roleName: options.roleName,
      roleArn,
      dryRun: options.dryRun === true,
      changes,
      trustPolicy: {
        before,
        after,
        diff: removal.removed
          ? lineDiff(JSON.stringify(before, null, 2), JSON.stringify(after, null, 2))
          : [],
      },
      roleDeleted,
      left,
    };
    if (options.dryRun || changes.length === 0) return outcome;

    const done: string[] = [];
    if (roleDeleted) {
      await deleteRole(iam, client, options.roleName, roleArn);
      done.push(`deleted role ${options.roleName}`);
    } else if (removal.removed) {
      await rewriteTrustPolicy(iam, client, options.roleName, (text) => {
        const policy = parsePolicyText(text);
        if (!isObject(policy)) return { policy: {}, changed: false };
        const again = withoutSubject(policy, hostPath, subject);
        return { policy: again.policy, changed: again.removed };
      });
      const remaining = tagWords(lookup.tags, ROLE_TAGS.serviceAccounts).filter(
        (w) => w !== `${account.namespace}/${account.name}`,
      );
      if (remaining.length < tagWords(lookup.tags, ROLE_TAGS.serviceAccounts).length) {
        if (remaining.length > 0) {
          await iamCall(
            client,
            new iam.TagRoleCommand({
              RoleName: options.roleName,
              Tags: [
                { Key: ROLE_TAGS.serviceAccounts, Value: tagValue(ROLE_TAGS.serviceAccounts, remaining) },
              ],
            }),
            "TagRole",
            roleArn,
          );
        } else {
          await iamCall(
            client,
            new iam.UntagRoleCommand({ RoleName: options.roleName, TagKeys: [ROLE_TAGS.serviceAccounts] }),
            "UntagRole",
            roleArn,
          );
        }
      }
      done.push(`took ${subject} out of the trust policy of ${options.roleName}`);
    }
    if (cluster && Object.keys(patch).length > 0) {
      try {
        await cluster.patchServiceAccountAnnotations(account.namespace, account.name, patch);
      } catch (error) {
        throw new RoleError(
          "ERR_SERVICE_ACCOUNT_NOT_ANNOTATED",
          `${done.join(", ") || `role ${options.roleName} no longer trusts ${subject}`}, but the annotations of service account ${account.namespace}/${account.name} could not be removed: ${firstLine(error)}; run the same command again to finish the job`,
          { cause: error },
        );
      }
    }
    return outcome;
  } finally {
    clients.close();
  }
}

/** The one issuer the role's tags name, for a delete given no --issuer. */
function issuerOfTags(tags: readonly { Key: string; Value: string }[], roleName: string): string {
  const issuers = tagWords(tags, ROLE_TAGS.issuers);
  if (issuers.length !== 1) {
    throw new RoleError(
      "ERR_ROLE_OPTION_INVALID",
      `say which issuer's service account to take out of role ${roleName}: --issuer URL (${issuers.length === 0 ? "its tags name none" : `its tags name ${issuers.map((i) => `https://${i}`).join(" and ")}`})`,
    );
  }
  return issuers[0] as string;
}

/** The statements that let in some of this issuer's service accounts. */
function trustedStatementCount(policy: unknown, hostPath: string): number {
  if (!isObject(policy)) return 0;
  return [policy.Statement]
    .flat()
    .filter((statement) => trustedSubjects({ Statement: [statement] }, hostPath).length > 0).length;
}
