import { type FaultTable, IrsaAnywhereError } from "@irsa-anywhere/errors";

/**
 * Stable codes for every failure of this package; assert on these, not on message text.
 *
 * @example
 * const code: RoleErrorCode = "ERR_OIDC_PROVIDER_MISSING";
 */
export type RoleErrorCode =
  | "ERR_ROLE_NAME_INVALID"
  | "ERR_ROLE_OPTION_INVALID"
  | "ERR_POLICY_ARN_INVALID"
  | "ERR_ARN_PARTITION_MISMATCH"
  | "ERR_POLICY_INVALID"
  | "ERR_NAMESPACE_NOT_FOUND"
  | "ERR_OIDC_PROVIDER_MISSING"
  | "ERR_ANNOTATION_CONFLICT"
  | "ERR_TRUST_POLICY_TOO_WIDE"
  | "ERR_TRUST_POLICY_CONFLICT"
  | "ERR_SERVICE_ACCOUNT_NOT_ANNOTATED"
  | "ERR_ROLE_INCOMPLETE";

const faults: FaultTable<RoleErrorCode> = {
  ERR_ROLE_NAME_INVALID: "input",
  ERR_ROLE_OPTION_INVALID: "input",
  ERR_POLICY_ARN_INVALID: "input",
  ERR_ARN_PARTITION_MISMATCH: "input",
  ERR_POLICY_INVALID: "input",
  ERR_NAMESPACE_NOT_FOUND: "input",
  ERR_OIDC_PROVIDER_MISSING: "input",
  ERR_ANNOTATION_CONFLICT: "input",
  ERR_TRUST_POLICY_TOO_WIDE: "input",
  // Another writer kept changing the trust policy under us: a re-run later resolves it.
  ERR_TRUST_POLICY_CONFLICT: "environment",
  // The role was written; the cluster failed: a re-run finishes the job.
  ERR_SERVICE_ACCOUNT_NOT_ANNOTATED: "environment",
  // Some of the role's writes were made, then AWS failed: the message says which were.
  ERR_ROLE_INCOMPLETE: "environment",
};

/**
 * The one error class of `@irsa-anywhere/role`. Its message is one line that says what was wrong
 * and what to do; when a run stopped half-way, what it had already done.
 *
 * @example
 * try {
 *   await ensureServiceAccountRole({
 *     issuer: "https://oidc.example.com/prod",
 *     roleName: "payments-api",
 *     serviceAccounts: ["payments/api"],
 *   });
 * } catch (error) {
 *   if (error instanceof RoleError && error.fault === "input") console.error(error.message);
 *   else throw error;
 * }
 */
export class RoleError extends IrsaAnywhereError<RoleErrorCode> {
  override readonly name = "RoleError";

  constructor(code: RoleErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, faults[code], message, options);
  }
}
