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

/** One check's outcome, as data: what `--json` prints. */
export interface Check {
  id: CheckId;
  /** What the check looks at, e.g. "Discovery document is reachable". */
  title: string;
  status: CheckStatus;
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
