import { quoteInput } from "@irsa-anywhere/errors";
import {
  MIN_TOKEN_EXPIRATION_SECONDS,
  parseRoleArn,
  SERVICE_ACCOUNT_ANNOTATIONS,
  type ServiceAccountRef,
} from "@irsa-anywhere/iam";
import { STS_ERRORS } from "../check.js";
import { defineCheck } from "../lib/check-model.js";
import { fail, type Outcome, pass, warn } from "../lib/outcome.js";
import { type ClusterFacts, readAnswer } from "./cluster-api.js";

/** The annotations the pod identity webhook reads (iam's one list). */
export const ANNOTATIONS = SERVICE_ACCOUNT_ANNOTATIONS;
const MIN_TOKEN_EXPIRATION = MIN_TOKEN_EXPIRATION_SECONDS;

/** @internal What the service account says, for the checks that follow. */
export interface ServiceAccountFacts {
  roleArn?: string;
  audience?: string;
  /** The webhook's reading of `sts-regional-endpoints`, when set and valid. */
  regional?: boolean;
  uid?: string;
  /** When the role annotation was last written (from `managedFields`), if known. */
  annotatedAt?: Date;
}

/** @internal The service account exists and carries valid IRSA annotations. */
export function judgeServiceAccount(
  facts: ClusterFacts,
  account: ServiceAccountRef,
  expected: {
    roleArn?: string | undefined;
    clientIds?: readonly string[] | undefined;
    issuer?: string | undefined;
  },
): { outcome: Outcome; facts?: ServiceAccountFacts } {
  const read = facts.serviceAccount ?? { error: "not read" };
  const name = `${account.namespace}/${account.name}`;
  if ("status" in read && read.status === 404) {
    return {
      outcome: fail(
        "ERR_SERVICE_ACCOUNT_MISSING",
        `there is no service account ${name} in the cluster`,
        `kubectl create serviceaccount -n ${account.namespace} ${account.name}, or check --service-account`,
      ),
    };
  }
  const answer = readAnswer(
    read,
    facts.server,
    `service account ${name}`,
    `get serviceaccounts in ${account.namespace}`,
    { asked: true },
  );
  if ("blocked" in answer) return { outcome: answer.blocked };
  const metadata = ((answer.body as { metadata?: unknown } | null)?.metadata ?? {}) as {
    annotations?: Record<string, string>;
    uid?: string;
    managedFields?: Array<{ time?: string; fieldsV1?: unknown }>;
  };
  const annotations = metadata.annotations ?? {};
  const found: ServiceAccountFacts = {
    ...(metadata.uid ? { uid: metadata.uid } : {}),
  };
  // With the role and the issuer known, role create sets every annotation the webhook reads (and
  // makes sure the role trusts the service account); without them, the one annotation by hand.
  const annotate = (value: string) => {
    const role = expected.roleArn === value ? parseRoleArn(value) : undefined;
    return role && expected.issuer
      ? `irsa-anywhere role create --role-name ${role.name} --issuer ${expected.issuer} --service-account ${account.namespace}/${account.name} --overwrite`
      : `kubectl annotate serviceaccount -n ${account.namespace} ${account.name} --overwrite ${ANNOTATIONS.roleArn}=${value}`;
  };
  const roleArn = annotations[ANNOTATIONS.roleArn];
  const details: Record<string, unknown> = { annotations: pickIrsaAnnotations(annotations) };
  if (roleArn === undefined) {
    return {
      outcome: fail(
        "ERR_ROLE_ANNOTATION_MISSING",
        `${name} has no ${ANNOTATIONS.roleArn} annotation, so the webhook gives its pods no role`,
        annotate(expected.roleArn ?? "arn:aws:iam::<account>:role/<role>"),
        { details },
      ),
      facts: found,
    };
  }
  if (!parseRoleArn(roleArn)) {
    return {
      outcome: fail(
        "ERR_ROLE_ANNOTATION_INVALID",
        `${name}'s ${ANNOTATIONS.roleArn} is ${quoteInput(roleArn)}, which is not a role ARN`,
        annotate(expected.roleArn ?? "arn:aws:iam::<account>:role/<role>"),
        { details },
      ),
      facts: found,
    };
  }
  found.roleArn = roleArn;
  const annotatedAt = annotationTime(metadata.managedFields);
  if (annotatedAt) found.annotatedAt = annotatedAt;
  if (expected.roleArn !== undefined && expected.roleArn !== roleArn) {
    return {
      outcome: fail(
        "ERR_ROLE_ANNOTATION_MISMATCH",
        `${name} is annotated with role ${roleArn}, not ${expected.roleArn}: its pods assume the annotated one`,
        annotate(expected.roleArn),
        { details },
      ),
      facts: found,
    };
  }
  const problems: string[] = [];
  const fixes: string[] = [];
  const audience = annotations[ANNOTATIONS.audience];
  if (audience !== undefined) {
    found.audience = audience;
    if (expected.clientIds && !expected.clientIds.includes(audience)) {
      return {
        outcome: fail(
          "ERR_AUDIENCE_ANNOTATION_UNLISTED",
          `${name}'s ${ANNOTATIONS.audience} is ${audience}, which the IAM OIDC provider does not list (${expected.clientIds.join(", ") || "none"})`,
          `add it to the provider (irsa-anywhere publish --audience ${audience}), or remove the annotation to use sts.amazonaws.com`,
          { sts: STS_ERRORS.audience, details },
        ),
        facts: found,
      };
    }
  }
  const regional = annotations[ANNOTATIONS.regional];
  if (regional !== undefined) {
    const parsed = parseGoBool(regional);
    if (parsed === undefined) {
      problems.push(`${ANNOTATIONS.regional} is ${quoteInput(regional)}, which the webhook ignores`);
      fixes.push(`set ${ANNOTATIONS.regional} to "true" or "false"`);
    } else {
      found.regional = parsed;
    }
  }
  const expiration = annotations[ANNOTATIONS.tokenExpiration];
  if (expiration !== undefined) {
    if (!/^-?\d+$/.test(expiration.trim())) {
      problems.push(
        `${ANNOTATIONS.tokenExpiration} is ${quoteInput(expiration)}, which the webhook ignores (tokens last 86400 s)`,
      );
      fixes.push(`set ${ANNOTATIONS.tokenExpiration} to a number of seconds, 3600 to 86400`);
    } else if (Number(expiration) < MIN_TOKEN_EXPIRATION) {
      problems.push(
        `${ANNOTATIONS.tokenExpiration} is ${expiration} s, which the webhook raises to ${MIN_TOKEN_EXPIRATION}`,
      );
      fixes.push(`set ${ANNOTATIONS.tokenExpiration} to ${MIN_TOKEN_EXPIRATION} or more`);
    }
  }
  const summary = `${ANNOTATIONS.roleArn}: ${roleArn}${audience ? `, audience ${audience}` : ""}`;
  if (problems.length > 0) {
    return {
      outcome: warn("WARN_ANNOTATION_IGNORED", `${summary}; but ${problems.join("; ")}`, fixes.join("; "), {
        details,
      }),
      facts: found,
    };
  }
  return { outcome: pass(summary, { details }), facts: found };
}

/** When the role annotation was last written, from the managers that own it. */
function annotationTime(
  managedFields: Array<{ time?: string; fieldsV1?: unknown }> | undefined,
): Date | undefined {
  let latest: Date | undefined;
  for (const entry of managedFields ?? []) {
    const fields = entry.fieldsV1 as Record<string, Record<string, Record<string, unknown>>> | undefined;
    const owns = fields?.["f:metadata"]?.["f:annotations"]?.[`f:${ANNOTATIONS.roleArn}`] !== undefined;
    if (!owns || !entry.time) continue;
    const time = new Date(entry.time);
    if (!Number.isNaN(time.getTime()) && (!latest || time > latest)) latest = time;
  }
  return latest;
}

function pickIrsaAnnotations(annotations: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(annotations).filter(([key]) => key.startsWith("eks.amazonaws.com/")),
  );
}

/** Go's strconv.ParseBool, which the webhook uses. */
function parseGoBool(text: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return undefined;
}

export const serviceAccountCheck = defineCheck({
  id: "service-account",
  needs: ["cluster", "serviceAccount"],
  uses: ["providerLookup"],
  provides: {
    annotations: {
      reason: "the service account could not be read (see service-account)",
      code: "SKIP_NO_SERVICE_ACCOUNT_READ",
    },
    annotatedRole: {
      reason: "the service account carries no role annotation",
      code: "SKIP_NO_ROLE_ANNOTATION",
    },
  },
  run: ({ cluster, serviceAccount, providerLookup }, env) => {
    const judged = judgeServiceAccount(cluster, serviceAccount, {
      roleArn: env.expectedRoleArn,
      issuer: env.issuer,
      clientIds: providerLookup?.kind === "found" ? providerLookup.clientIds : undefined,
    });
    const annotatedRole = judged.facts?.roleArn ? parseRoleArn(judged.facts.roleArn) : undefined;
    return {
      ...judged.outcome,
      facts: {
        ...(judged.facts ? { annotations: judged.facts } : {}),
        ...(annotatedRole ? { annotatedRole } : {}),
      },
    };
  },
});
