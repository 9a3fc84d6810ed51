// What "never loses a statement" means, as a check: every statement of one trust policy is still
// in another, each principal and condition value of it kept (values may have been added beside).
import { evaluateTrustPolicy, parsePolicyText } from "@irsa-anywhere/iam";

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Whether `later` holds everything `earlier` holds: each key, and each value of each list. */
function covers(earlier: unknown, later: unknown): boolean {
  if (isObject(earlier)) {
    return isObject(later) && Object.entries(earlier).every(([key, value]) => covers(value, later[key]));
  }
  const laterValues = [later].flat();
  return [earlier]
    .flat()
    .every((value) => laterValues.some((candidate) => JSON.stringify(candidate) === JSON.stringify(value)));
}

/**
 * The statements of `earlier` that no statement of `later` covers (see {@link covers}): empty
 * when nothing was lost.
 */
export function lostStatements(earlier: unknown, later: unknown): unknown[] {
  const before = [(parsePolicyText(earlier) as { Statement?: unknown } | undefined)?.Statement ?? []].flat();
  const after = [(parsePolicyText(later) as { Statement?: unknown } | undefined)?.Statement ?? []].flat();
  return before.filter((statement) => !after.some((candidate) => covers(statement, candidate)));
}

/** The decision of a trust policy for a service account's token of this issuer. */
export function decisionFor(
  policy: unknown,
  at: { providerArn: string; hostPath: string },
  serviceAccount: string,
  audience = "sts.amazonaws.com",
): string {
  const [namespace, name] = serviceAccount.split("/");
  return evaluateTrustPolicy(policy, {
    providerArn: at.providerArn,
    issuerHostPath: at.hostPath,
    subject: `system:serviceaccount:${namespace}:${name}`,
    audience,
  }).decision;
}
