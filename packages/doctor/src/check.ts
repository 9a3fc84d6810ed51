/** How one link of the chain fared. */
export type CheckStatus = "pass" | "warn" | "fail" | "skip";

/**
 * Every check `diagnose()` reports, in the order it reports them. Stable: scripts may rely on
 * these names.
 */
export const CHECK_IDS = [
  "issuer-url",
  "discovery-reachable",
  "discovery-headers",
  "discovery-document",
  "discovery-issuer",
  "jwks-reachable",
  "jwks-headers",
  "jwks-keys",
  "jwks-empty-kid",
  "cloudfront-distribution",
  "cluster-key-published",
  "retired-keys",
  "iam-oidc-provider",
  "iam-provider-audience",
  "cluster-issuer",
  "cluster-jwks",
  "service-account",
  "pod-identity-webhook",
  "pods",
  "role-trust-policy",
  "smoke-token",
  "smoke-assume-role",
] as const;

export type CheckId = (typeof CHECK_IDS)[number];

/**
 * What one check found, as a stable code: assert on it, not on `reason`. `OK` for every pass;
 * `ERR_*` for a failure and `WARN_*` for a warning the check found; `SKIP_*` for a check that
 * did not run because something it needs is missing (named by the code); `NOT_CHECKED_*` (a
 * warning) and `COULD_NOT_CHECK_*` (a failure, for what the user asked for) for a check the
 * environment kept from running.
 */
export type CheckCode =
  | "OK"
  // The issuer and its documents, as STS fetches them (discovery-*, jwks-reachable, jwks-headers).
  | "ERR_ISSUER_URL_INVALID"
  | "ERR_DOCUMENT_CERTIFICATE_UNTRUSTED"
  | "ERR_DOCUMENT_CERTIFICATE_NAME"
  | "ERR_DOCUMENT_CERTIFICATE_EXPIRED"
  | "ERR_DOCUMENT_TIMEOUT"
  | "ERR_DOCUMENT_TOO_LARGE"
  | "ERR_DOCUMENT_UNREACHABLE"
  | "ERR_DOCUMENT_REDIRECT"
  | "ERR_DOCUMENT_NOT_PUBLIC"
  | "ERR_DOCUMENT_NOT_FOUND"
  | "ERR_DOCUMENT_HTTP_STATUS"
  | "WARN_DOCUMENT_SLOW"
  | "WARN_DOCUMENT_HEADERS"
  | "ERR_DISCOVERY_NOT_JSON"
  | "ERR_DISCOVERY_NOT_OBJECT"
  | "ERR_DISCOVERY_JWKS_URI"
  | "ERR_DISCOVERY_ISSUER_MISSING"
  | "ERR_DISCOVERY_ISSUER_MISMATCH"
  // The published keys (jwks-keys, jwks-empty-kid, cluster-key-published).
  | "ERR_JWKS_NOT_JSON"
  | "ERR_JWKS_NOT_A_SET"
  | "ERR_JWKS_EMPTY"
  | "ERR_JWKS_PRIVATE_KEY"
  | "ERR_JWKS_KEY_INVALID"
  | "WARN_JWKS_NO_ALG"
  | "WARN_EMPTY_KID_MISSING"
  | "WARN_EMPTY_KID_AMBIGUOUS"
  | "WARN_EMPTY_KID_NOT_CURRENT"
  | "WARN_EMPTY_KID_UNKNOWN"
  | "ERR_JWKS_KEY_MISSING"
  // CloudFront in front of a private bucket (cloudfront-distribution).
  | "ERR_DISTRIBUTION_MISSING"
  | "ERR_DISTRIBUTION_NOT_DEPLOYED"
  | "ERR_DISTRIBUTION_ORIGIN"
  | "ERR_DISTRIBUTION_STALE"
  // IAM (iam-oidc-provider, iam-provider-audience, role-trust-policy).
  | "ERR_PROVIDER_MISSING"
  | "ERR_PROVIDER_AUDIENCE_MISSING"
  | "ERR_ROLE_MISSING"
  | "ERR_TRUST_DENIED"
  | "WARN_TRUST_UNDECIDED"
  | "WARN_TRUST_TOO_BROAD"
  | "NOT_CHECKED_AWS"
  // The cluster (cluster-issuer, cluster-jwks, service-account, pod-identity-webhook, pods).
  | "ERR_CLUSTER_ISSUER_MISSING"
  | "ERR_CLUSTER_ISSUER_MISMATCH"
  | "ERR_CLUSTER_JWKS_INVALID"
  | "ERR_CLUSTER_KEY_UNPUBLISHED"
  | "ERR_SERVICE_ACCOUNT_MISSING"
  | "ERR_ROLE_ANNOTATION_MISSING"
  | "ERR_ROLE_ANNOTATION_INVALID"
  | "ERR_ROLE_ANNOTATION_MISMATCH"
  | "ERR_AUDIENCE_ANNOTATION_UNLISTED"
  | "WARN_ANNOTATION_IGNORED"
  | "ERR_WEBHOOK_MISSING"
  | "WARN_WEBHOOK_NOT_FOR_PODS"
  | "ERR_WEBHOOK_UNHEALTHY"
  | "WARN_WEBHOOK_UNHEALTHY"
  | "ERR_PODS_STALE"
  | "NOT_CHECKED_CLUSTER_FORBIDDEN"
  | "NOT_CHECKED_CLUSTER_UNSUPPORTED"
  | "NOT_CHECKED_CLUSTER_HTTP_STATUS"
  | "COULD_NOT_CHECK_CLUSTER_UNREACHABLE"
  | "COULD_NOT_CHECK_CLUSTER_FORBIDDEN"
  | "COULD_NOT_CHECK_CLUSTER_HTTP_STATUS"
  // The cluster's keys, given as a source that could not be read.
  | "NOT_CHECKED_KEYS"
  | "COULD_NOT_CHECK_KEYS"
  // The smoke test (smoke-token, smoke-assume-role).
  | "ERR_TOKEN_NO_DISCOVERY"
  | "ERR_TOKEN_NO_JWKS"
  | "ERR_TOKEN_KEY_MISSING"
  | "ERR_TOKEN_AUDIENCE"
  | "ERR_TOKEN_SIGNATURE"
  | "ERR_TOKEN_REFUSED"
  | "ERR_STS_INVALID_TOKEN"
  | "ERR_STS_ACCESS_DENIED"
  | "ERR_STS_IDP_COMMUNICATION"
  | "ERR_STS_FAILED"
  // Skipped: what was missing. Given by the user: the issuer URL, the keys, AWS, a kubeconfig,
  // a service account, --smoke-test, a role. Learned by an earlier check: the rest.
  | "SKIP_NO_ISSUER"
  | "SKIP_NOT_CLOUDFRONT"
  | "SKIP_NO_KEYS"
  | "SKIP_AWS_OFF"
  | "SKIP_NO_CLUSTER"
  | "SKIP_NO_SERVICE_ACCOUNT"
  | "SKIP_NO_SMOKE_TEST"
  | "SKIP_NO_ROLE"
  | "SKIP_NO_DISCOVERY"
  | "SKIP_NO_JWKS_URI"
  | "SKIP_NO_JWKS"
  | "SKIP_NO_PROVIDER"
  | "SKIP_NO_SERVICE_ACCOUNT_READ"
  | "SKIP_NO_ROLE_ANNOTATION"
  | "SKIP_TRUST_DENIED"
  | "SKIP_TOKEN_REFUSED";

/** One check's outcome, as data: what `--json` prints. */
export interface Check {
  id: CheckId;
  /** What the check looks at, e.g. "Discovery document is reachable". */
  title: string;
  status: CheckStatus;
  /** What the check found, stable for scripts and tests; see {@link CheckCode}. */
  code: CheckCode;
  /** One line: why it passed, failed or was skipped. */
  reason: string;
  /** One line: what to do, for a warning or a failure. */
  fix?: string;
  /**
   * The answer AWS STS gives a pod while this link is broken, e.g.
   * `InvalidIdentityToken: No OpenIDConnect provider found in your account for https://…`.
   */
  sts?: string;
  /** What the check saw, for scripts and bug reports. Never holds a token or key material. */
  details?: Record<string, unknown>;
}

/** The outcome of `diagnose()`. */
export interface Diagnosis {
  /** The issuer as given. */
  issuer: string;
  /** Every check of {@link CHECK_IDS}, in that order. */
  checks: Check[];
  /** `true` when no check failed (warnings and skipped checks allowed). */
  ok: boolean;
}

/** The messages of STS's `InvalidIdentityToken` and `AccessDenied` answers, for `Check.sts`. */
export const STS_ERRORS = {
  noProvider: (issuer: string) =>
    `InvalidIdentityToken: No OpenIDConnect provider found in your account for ${issuer}`,
  noKey:
    "InvalidIdentityToken: Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements",
  audience: "InvalidIdentityToken: Incorrect token audience",
  notAuthorized: "AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity",
} as const;
