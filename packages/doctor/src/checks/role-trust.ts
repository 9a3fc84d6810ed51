import {
  awsFix,
  evaluateTrustPolicy,
  lookUpRole,
  oidcProviderArn,
  type RoleArn,
  type RoleLookup,
  type ServiceAccountRef,
  serviceAccountSubject,
  type TrustPolicyEvaluation,
} from "@irsa-anywhere/iam";
import { STS_ERRORS } from "../check.js";
import { defineCheck } from "../lib/check-model.js";
import { fail, notChecked, type Outcome, pass, warn } from "../lib/outcome.js";

/** A service account no cluster has, to find out whether a policy lets in any. */
const probeSubject = "system:serviceaccount:irsa-anywhere-doctor-probe:probe";
const probeAudience = "irsa-anywhere-doctor-probe";

/** A region of each partition but aws, so that the policy the fix prints names the role's partition. */
const partitionRegion: Record<string, string> = { "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1" };

/** @internal What the trust check needs to know. */
export interface TrustQuestion {
  issuer: string;
  hostPath: string;
  role: RoleArn;
  providerArn: string;
  account: ServiceAccountRef;
  audience: string;
}

/**
 * @internal
 * The role's trust policy lets the service account's tokens in, evaluated as IAM does; a policy
 * that also lets in any service account of the cluster, or any audience, is a warning.
 */
export function judgeRoleTrust(
  lookup: RoleLookup,
  question: TrustQuestion,
): { outcome: Outcome; evaluation?: TrustPolicyEvaluation } {
  const { role, account } = question;
  const options = `--issuer ${question.issuer} --service-account ${account.namespace}/${account.name}${partitionRegion[role.partition] ? ` --region ${partitionRegion[role.partition]}` : ""}${question.audience === "sts.amazonaws.com" ? "" : ` --audience ${question.audience}`}`;
  // A role's policy as a new one, for a role to create or a statement to replace by hand.
  const newPolicy = `irsa-anywhere trust-policy ${options} --account-id ${role.accountId}`;
  // role create merges the service account into the role's policy (every principal already
  // trusted stays) or creates the role; --role-only, since the annotation is a check of its own.
  const roleCreate = `irsa-anywhere role create --role-name ${role.name} ${options} --role-only`;
  if (lookup.kind === "error") {
    return {
      outcome: notChecked(
        "NOT_CHECKED_AWS",
        `iam:GetRole ${role.arn}: ${lookup.failure.summary}`,
        awsFix(lookup.failure, ["iam:GetRole"]),
      ),
    };
  }
  if (lookup.kind === "missing") {
    return {
      outcome: fail(
        "ERR_ROLE_MISSING",
        `there is no role ${role.name} in account ${role.accountId}`,
        `check the role ARN, or create it: ${roleCreate}`,
        {
          sts: STS_ERRORS.notAuthorized,
        },
      ),
    };
  }
  const request = {
    providerArn: question.providerArn,
    issuerHostPath: question.hostPath,
    subject: serviceAccountSubject(account),
    audience: question.audience,
  };
  const evaluation = evaluateTrustPolicy(lookup.document, request);
  const details = {
    role: role.arn,
    expectedPrincipal: question.providerArn,
    subject: request.subject,
    audience: request.audience,
    statements: evaluation.statements.map((s) => ({
      number: s.number,
      ...(s.sid ? { sid: s.sid } : {}),
      effect: s.effect,
      applies: s.applies,
      explanation: s.explanation,
    })),
  };
  if (evaluation.decision === "denied") {
    return {
      outcome: fail("ERR_TRUST_DENIED", evaluation.reason, roleCreate, {
        sts: STS_ERRORS.notAuthorized,
        details,
      }),
      evaluation,
    };
  }
  if (evaluation.decision === "unknown") {
    return {
      outcome: warn(
        "WARN_TRUST_UNDECIDED",
        `cannot be decided here: ${evaluation.reason}`,
        "check that condition by hand, or run --smoke-test against AWS",
        {
          details,
        },
      ),
      evaluation,
    };
  }
  const anyAccount =
    evaluateTrustPolicy(lookup.document, { ...request, subject: probeSubject }).decision === "allowed";
  const anyAudience =
    evaluateTrustPolicy(lookup.document, { ...request, audience: probeAudience }).decision === "allowed";
  const broad = [
    ...(anyAccount
      ? [`it lets in every service account of the cluster (it admits ${probeSubject} too)`]
      : []),
    ...(anyAudience
      ? [`it does not check ${question.hostPath}:aud, so a token for any audience the provider lists gets in`]
      : []),
  ];
  if (broad.length > 0) {
    return {
      outcome: warn(
        "WARN_TRUST_TOO_BROAD",
        `${evaluation.reason}, but ${broad.join("; and ")}`,
        `narrow it by hand: replace the statement that lets in more with the one ${newPolicy} prints, keeping the other statements`,
        {
          details,
        },
      ),
      evaluation,
    };
  }
  return { outcome: pass(evaluation.reason, { details }), evaluation };
}

export const roleTrustPolicyCheck = defineCheck({
  id: "role-trust-policy",
  needs: ["serviceAccount", "role", "aws", "hostPath", "audience"],
  provides: {
    trust: {
      reason: "the role's trust policy refuses the token (see role-trust-policy); not sent",
      code: "SKIP_TRUST_DENIED",
    },
  },
  run: async ({ serviceAccount, role, hostPath, audience }, env) => {
    const lookup = await lookUpRole(await env.iam(), role.name);
    const judged = judgeRoleTrust(lookup, {
      issuer: env.issuer,
      hostPath,
      role,
      providerArn: oidcProviderArn(role.partition, role.accountId, hostPath),
      account: serviceAccount,
      audience,
    });
    // A policy that could not be read or decided does not stop the smoke test: STS decides.
    return judged.evaluation?.decision === "denied"
      ? judged.outcome
      : { ...judged.outcome, facts: { trust: true } };
  },
});
