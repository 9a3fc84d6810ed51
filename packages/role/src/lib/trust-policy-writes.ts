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
 * so this is the nearest to a compare-and-swap it allows: the read is made right before the
 * write (not reused from the run's plan, which may be seconds old), so that only a write landing
 * between the two can be overwritten, and a writer that lands between our write and our
 * read-back is seen and kept by the next round.
 *
 * @returns the policy as it stands and whether this run wrote.
 * @throws {RoleError} `ERR_TRUST_POLICY_CONFLICT` when the policy still changed after
 *   {@link MAX_ATTEMPTS} rounds, or the role vanished.
 */
export async function rewriteTrustPolicy(
  iam: IamModule,
  client: IAMClient,
  roleName: string,
  change: TrustPolicyChange,
): Promise<{ written: boolean; policy: string }> {
  let current = await readTrustPolicy(client, roleName);
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
    const back = await readTrustPolicy(client, roleName);
    if (canonicalJson(parsePolicyText(back)) === canonicalJson(policy)) return { written, policy: back };
    current = back;
  }
  throw new RoleError(
    "ERR_TRUST_POLICY_CONFLICT",
    `role ${roleName}'s trust policy kept changing under this run (${MAX_ATTEMPTS} rounds); something else is writing it: run the command again once it has stopped`,
  );
}

async function readTrustPolicy(client: IAMClient, roleName: string): Promise<string> {
  const lookup = await lookUpRole(client, roleName);
  if (lookup.kind === "error")
    throw translateAwsError(lookup.error, { action: "iam:GetRole", resource: roleName });
  if (lookup.kind === "missing") {
    throw new RoleError(
      "ERR_TRUST_POLICY_CONFLICT",
      `role ${roleName} was deleted while its trust policy was being written; run the command again`,
    );
  }
  return lookup.document;
}
