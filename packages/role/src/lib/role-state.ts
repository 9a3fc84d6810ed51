import type { IAMClient } from "@aws-sdk/client-iam";
import { parsePolicyText, translateAwsError } from "@irsa-anywhere/iam";
import type { ServiceAccountRoleOptions } from "../ensure-service-account-role.js";
import { RoleError } from "../errors.js";
import { type IamModule, iamCall } from "./iam-calls.js";
import { canonicalJson } from "./inputs.js";

/** The name under which `role create` keeps the inline policy it is given. */
export const INLINE_POLICY_NAME = "irsa-anywhere";

/** @internal The managed policies attached to the role. */
export async function listAttachedPolicyArns(
  iam: IamModule,
  client: IAMClient,
  roleName: string,
): Promise<Set<string>> {
  const arns = new Set<string>();
  let marker: string | undefined;
  do {
    const page = await iamCall<{
      AttachedPolicies?: { PolicyArn?: string }[];
      IsTruncated?: boolean;
      Marker?: string;
    }>(
      client,
      new iam.ListAttachedRolePoliciesCommand({ RoleName: roleName, ...(marker ? { Marker: marker } : {}) }),
      "ListAttachedRolePolicies",
      roleName,
    );
    for (const policy of page.AttachedPolicies ?? []) if (policy.PolicyArn) arns.add(policy.PolicyArn);
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return arns;
}

/** @internal Whether the role's inline policy {@link INLINE_POLICY_NAME} is already `wanted`. */
export async function sameInlinePolicy(
  iam: IamModule,
  client: IAMClient,
  roleName: string,
  wanted: Record<string, unknown>,
): Promise<boolean> {
  try {
    const answer = await client.send(
      new iam.GetRolePolicyCommand({ RoleName: roleName, PolicyName: INLINE_POLICY_NAME }),
    );
    return canonicalJson(parsePolicyText(answer.PolicyDocument)) === canonicalJson(wanted);
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchEntityException") return false;
    throw translateAwsError(error, { action: "iam:GetRolePolicy", resource: roleName });
  }
}

/** @internal A policy to attach (or a boundary) must exist, so that a typo stops the run before any write. */
export async function requirePolicy(iam: IamModule, client: IAMClient, arn: string) {
  try {
    await client.send(new iam.GetPolicyCommand({ PolicyArn: arn }));
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchEntityException") {
      throw new RoleError(
        "ERR_POLICY_ARN_INVALID",
        `there is no policy ${arn} in this account or among AWS's managed policies; check the ARN (aws iam list-policies lists them)`,
      );
    }
    throw translateAwsError(error, { action: "iam:GetPolicy", resource: arn });
  }
}

/** @internal CreateRole with everything at once; false when another run created it first. */
export async function createRole(
  iam: IamModule,
  client: IAMClient,
  options: ServiceAccountRoleOptions,
  policy: Record<string, unknown>,
  tags: { Key: string; Value: string }[],
  boundaryArn: string | undefined,
): Promise<boolean> {
  try {
    await client.send(
      new iam.CreateRoleCommand({
        RoleName: options.roleName,
        AssumeRolePolicyDocument: JSON.stringify(policy),
        Description:
          `IRSA role for ${[...(options.serviceAccounts ?? []).map((a) => (typeof a === "string" ? a : `${a.namespace}/${a.name}`)), ...(options.namespaceWide ?? []).map((ns) => `${ns}/*`)].join(", ")}, made by irsa-anywhere`.slice(
            0,
            1000,
          ),
        Tags: tags,
        ...(boundaryArn ? { PermissionsBoundary: boundaryArn } : {}),
        ...(options.maxSessionDurationSeconds
          ? { MaxSessionDuration: options.maxSessionDurationSeconds }
          : {}),
      }),
    );
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === "EntityAlreadyExistsException") return false;
    throw translateAwsError(error, { action: "iam:CreateRole", resource: options.roleName });
  }
}

/** @internal DeleteRole needs the role bare: its managed policies detached and inline policies deleted first. */
export async function deleteRole(
  iam: IamModule,
  client: IAMClient,
  roleName: string,
  roleArn: string,
): Promise<void> {
  const attached = await iamCall<{ AttachedPolicies?: { PolicyArn?: string }[] }>(
    client,
    new iam.ListAttachedRolePoliciesCommand({ RoleName: roleName }),
    "ListAttachedRolePolicies",
    roleArn,
  );
  for (const policy of attached.AttachedPolicies ?? []) {
    if (!policy.PolicyArn) continue;
    await iamCall(
      client,
      new iam.DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policy.PolicyArn }),
      "DetachRolePolicy",
      roleArn,
    );
  }
  const inline = await iamCall<{ PolicyNames?: string[] }>(
    client,
    new iam.ListRolePoliciesCommand({ RoleName: roleName }),
    "ListRolePolicies",
    roleArn,
  );
  for (const name of inline.PolicyNames ?? []) {
    await iamCall(
      client,
      new iam.DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: name }),
      "DeleteRolePolicy",
      roleArn,
    );
  }
  await iamCall(client, new iam.DeleteRoleCommand({ RoleName: roleName }), "DeleteRole", roleArn);
}
