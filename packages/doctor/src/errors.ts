import { type FaultTable, IrsaAnywhereError } from "@irsa-anywhere/errors";

/**
 * Stable codes for every failure of this package; assert on these, not on message text. Reading
 * the cluster fails with `@irsa-anywhere/kube`'s `KubeError` (`ERR_KUBECONFIG_INVALID`,
 * `ERR_CLUSTER_*`), and an AWS call with `@irsa-anywhere/publisher`'s `PublishError`
 * (`ERR_AWS_*`): each code is raised as the error of the one package that owns it.
 */
export type DoctorErrorCode =
  | "ERR_SERVICE_ACCOUNT_INVALID"
  | "ERR_ROLE_ARN_INVALID"
  | "ERR_ROLE_NOT_FOUND"
  | "ERR_TRUST_POLICY_INVALID"
  | "ERR_TRUST_POLICY_UNMERGEABLE"
  | "ERR_ACCOUNT_ID_INVALID"
  | "ERR_AUDIENCE_INVALID"
  | "ERR_SMOKE_TEST_INCOMPLETE"
  | "ERR_SIGNING_KEY_MISSING"
  | "ERR_SIGNING_KEY_INVALID";

const faults: FaultTable<DoctorErrorCode> = {
  ERR_SERVICE_ACCOUNT_INVALID: "input",
  ERR_ROLE_ARN_INVALID: "input",
  ERR_ROLE_NOT_FOUND: "input",
  ERR_TRUST_POLICY_INVALID: "environment",
  ERR_TRUST_POLICY_UNMERGEABLE: "environment",
  ERR_ACCOUNT_ID_INVALID: "input",
  ERR_AUDIENCE_INVALID: "input",
  ERR_SMOKE_TEST_INCOMPLETE: "input",
  ERR_SIGNING_KEY_MISSING: "input",
  ERR_SIGNING_KEY_INVALID: "input",
};

/**
 * The one error class of `@irsa-anywhere/doctor`. Its message is one line that says what was
 * wrong and what to do; it never holds key material, credentials or a token.
 *
 * A broken link of the IRSA chain is not an error: `diagnose()` reports it as a failed check.
 * Errors are for calls that cannot be made as given (a malformed role ARN, a smoke test without
 * a signing key) and, for `trustPolicy()`, an AWS account that cannot be found.
 *
 * @example
 * try {
 *   buildTrustPolicy({ issuer, serviceAccounts: ["payments/api"], accountId: "1111" });
 * } catch (error) {
 *   if (error instanceof DoctorError && error.code === "ERR_ACCOUNT_ID_INVALID") console.error(error.message);
 *   else throw error;
 * }
 */
export class DoctorError extends IrsaAnywhereError<DoctorErrorCode> {
  override readonly name = "DoctorError";

  constructor(code: DoctorErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, faults[code], message, options);
  }
}
