import { providerHostPath } from "@irsa-anywhere/iam";
import { isObject } from "./inputs.js";

/** @internal One `sub` value a trust policy names for an issuer, and how. */
export interface TrustedSubject {
  /** `system:serviceaccount:NS:NAME`, or a pattern such as `system:serviceaccount:NS:*`. */
  value: string;
  /** The condition operator it is under: `StringEquals`, `StringLike`, ... */
  operator: string;
  /** The provider ARN of the statement. */
  providerArn: string;
}

/** @internal The `Allow` statements of a policy document whose `Federated` principal is this issuer's provider. */
function issuerStatements(
  document: unknown,
  hostPath: string,
): { statement: Record<string, unknown>; providerArn: string }[] {
  if (!isObject(document)) return [];
  return [document.Statement].flat().flatMap((statement) => {
    if (!isObject(statement) || statement.Effect !== "Allow" || !isObject(statement.Principal)) return [];
    const providerArn = [statement.Principal.Federated]
      .flat()
      .find((arn) => typeof arn === "string" && providerHostPath(arn) === hostPath);
    return typeof providerArn === "string" ? [{ statement, providerArn }] : [];
  });
}

/**
 * @internal
 * The `sub` values a trust policy lets in for the issuer, read from its statements (every
 * operator), as `role list` shows them.
 */
export function trustedSubjects(document: unknown, hostPath: string): TrustedSubject[] {
  const subKey = `${hostPath}:sub`.toLowerCase();
  return issuerStatements(document, hostPath).flatMap(({ statement, providerArn }) =>
    Object.entries(isObject(statement.Condition) ? statement.Condition : {}).flatMap(([operator, block]) =>
      Object.entries(isObject(block) ? block : {}).flatMap(([key, value]) =>
        key.toLowerCase() === subKey
          ? [value]
              .flat()
              .filter((v): v is string => typeof v === "string")
              .map((v) => ({ value: v, operator, providerArn }))
          : [],
      ),
    ),
  );
}

/**
 * @internal
 * The policy without `subject` among the issuer's `sub` values; a statement left with no `sub`
 * value is dropped whole, since without it the statement would let in every service account of
 * the cluster. `removed` is false when the policy did not name it.
 */
export function withoutSubject(
  document: Record<string, unknown>,
  hostPath: string,
  subject: string,
): { policy: Record<string, unknown>; removed: boolean } {
  const policy = structuredClone(document);
  const subKey = `${hostPath}:sub`.toLowerCase();
  const ours = new Set(issuerStatements(policy, hostPath).map(({ statement }) => statement));
  let removed = false;
  const kept = [policy.Statement].flat().filter((statement) => {
    if (!ours.has(statement as Record<string, unknown>)) return true;
    const condition = (statement as { Condition?: unknown }).Condition;
    let emptied = false;
    for (const block of Object.values(isObject(condition) ? condition : {})) {
      if (!isObject(block)) continue;
      for (const [key, value] of Object.entries(block)) {
        if (key.toLowerCase() !== subKey) continue;
        const values = [value].flat();
        const left = values.filter((v) => v !== subject);
        if (left.length === values.length) continue;
        removed = true;
        if (left.length === 0) emptied = true;
        else block[key] = left.length === 1 ? left[0] : left;
      }
    }
    return !emptied;
  });
  if (removed) policy.Statement = kept;
  return { policy, removed };
}
