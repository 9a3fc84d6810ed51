import type { Check, CheckCode, CheckId } from "../check.js";

/** @internal A check's result before it is given its id and title. */
export type Outcome = Omit<Check, "id" | "title">;

type Extra = Pick<Check, "fix" | "sts" | "details">;

/** @internal */
export const pass = (reason: string, extra: Pick<Check, "details"> = {}): Outcome => ({
  status: "pass",
  code: "OK",
  reason,
  ...extra,
});

/** @internal */
export const warn = (
  code: CheckCode,
  reason: string,
  fix: string,
  extra: Omit<Extra, "fix"> = {},
): Outcome => ({
  status: "warn",
  code,
  reason,
  fix,
  ...extra,
});

/** @internal */
export const fail = (
  code: CheckCode,
  reason: string,
  fix: string,
  extra: Omit<Extra, "fix"> = {},
): Outcome => ({
  status: "fail",
  code,
  reason,
  fix,
  ...extra,
});

/** @internal */
export const skip = (reason: string, code: CheckCode): Outcome => ({ status: "skip", code, reason });

/**
 * @internal
 * A check that could not run because of the environment (no credentials, no permission, an
 * unreachable API): a warning, so that what could be checked still counts, and marked so.
 */
export const notChecked = (
  code: CheckCode,
  reason: string,
  fix: string,
  details: Record<string, unknown> = {},
): Outcome => ({
  status: "warn",
  code,
  reason: `not checked: ${reason}`,
  fix,
  details: { ...details, notChecked: true },
});

/**
 * @internal
 * A check the user asked for (a cluster named, a service account given) that could not run:
 * a failure, since nothing it should have proved was proved; `details.notChecked` marks it.
 */
export const couldNotRun = (
  code: CheckCode,
  reason: string,
  fix: string,
  details: Record<string, unknown> = {},
): Outcome => ({
  status: "fail",
  code,
  reason: `could not check: ${reason}`,
  fix,
  details: { ...details, notChecked: true },
});

/** @internal The titles of the checks, in one place for the CLI and `--json` alike. */
export const CHECK_TITLES: Readonly<Record<CheckId, string>> = {
  "issuer-url": "Issuer URL is one STS accepts",
  "discovery-reachable": "Discovery document is reachable anonymously over HTTPS",
  "discovery-headers": "Discovery document has sane Content-Type and Cache-Control",
  "discovery-document": "Discovery document is JSON with an https jwks_uri",
  "discovery-issuer": "Discovery document names exactly this issuer",
  "jwks-reachable": "JWKS is reachable anonymously over HTTPS",
  "jwks-headers": "JWKS has sane Content-Type and Cache-Control",
  "jwks-keys": "JWKS holds only public keys STS accepts, each under its own kid",
  "jwks-empty-kid": "JWKS has the empty-kid twin of the current key",
  "cloudfront-distribution":
    "CloudFront distribution is deployed, reads the private bucket, serves its bytes",
  "cluster-key-published": "The cluster's current signing key is published",
  "retired-keys": "Published keys no longer in the cluster",
  "iam-oidc-provider": "IAM OIDC provider exists for this issuer",
  "iam-provider-audience": "IAM OIDC provider lists the audience",
  "cluster-issuer": "API server issues tokens for this issuer",
  "cluster-jwks": "API server's keys are all published",
  "service-account": "Service account is annotated for IRSA",
  "pod-identity-webhook": "Pod identity webhook is registered",
  pods: "Running pods of the service account have the IRSA environment",
  "role-trust-policy": "Role's trust policy lets the service account in",
  "smoke-token": "A token minted as kube-apiserver would verifies as STS verifies it",
  "smoke-assume-role": "STS AssumeRoleWithWebIdentity answers with credentials",
};
