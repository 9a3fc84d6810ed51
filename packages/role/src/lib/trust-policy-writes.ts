import type { IAMClient } from "@aws-sdk/client-iam";
import { lookUpRole, parsePolicyText, translateAwsError } from "@irsa-anywhere/iam";
import { RoleError } from "../errors.js";
import { type IamModule, iamCall } from "./iam-calls.js";
import { canonicalJson } from "./inputs.js";

/** How many times a run merges again after another writer changed the policy under it. */
const MAX_ATTEMPTS = 5;

/** @internal What a change to a trust policy makes of the one it is given. */
export type TrustPolicyChange = (current: string) => { policy: Record<string, unknown>; changed: boolean };

/**
 * @internal
 * Read, change, write, read back; and when what is read back is not what was written (another
 * writer came in between), change what is there and write again. IAM has no conditional write,
 * so this is the nearest to a compare-and-swap it allows: a statement another writer added
 * between our read and our write is seen in the read-back and kept by the next round.
 *
 * @returns the policy as it stands and whether this run wrote.
 * @throws {RoleError} `ERR_TRUST_POLICY_CONFLICT` when the policy still changed after
 *   {@link MAX_ATTEMPTS} rounds.
 */
export async function rewriteTrustPolicy(
  iam: IamModule,
  client: IAMClient,
  roleName: string,
  first: string,
  change: TrustPolicyChange,
): Promise<{ written: boolean; policy: string }> {
  let current = first;
  let written = false;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const { policy, changed } = change(current);
    if (!changed) return { written, policy: current };
    const text = JSON.stringify(policy);
    await iamCall(
      client,
      new iam.UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: text }),
      "UpdateAssumeRolePolicy",
      roleName,
    );
    written = true;
    const back = await lookUpRole(client, roleName);
    if (back.kind === "error")
      throw translateAwsError(back.error, { action: "iam:GetRole", resource: roleName });
    if (back.kind === "missing") {
      throw new RoleError(
        "ERR_TRUST_POLICY_CONFLICT",
        `role ${roleName} was deleted while its trust policy was being written; run the command again`,
      );
    }
    if (canonicalJson(parsePolicyText(back.document)) === canonicalJson(policy))
      return { written, policy: back.document };
    current = back.document;
  }
  throw new RoleError(
    "ERR_TRUST_POLICY_CONFLICT",
    `role ${roleName}'s trust policy kept changing under this run (${MAX_ATTEMPTS} rounds); something else is writing it: run the command again once it has stopped`,
  );
}
