import { type FaultTable, IrsaAnywhereError } from "@irsa-anywhere/errors";

/**
 * Stable codes for every failure of this package; assert on these, not on message text. Reading
 * the cluster fails with `@irsa-anywhere/kube`'s `KubeError` (`ERR_KUBECONFIG_INVALID`,
 * `ERR_CLUSTER_*`), and an AWS call with `@irsa-anywhere/iam`'s `IamError`
 * (`ERR_AWS_*`): each code is raised as the error of the one package that owns it.
 */
export type DoctorErrorCode =
  | "ERR_AUDIENCE_INVALID"
  | "ERR_SMOKE_TEST_INCOMPLETE"
  | "ERR_SIGNING_KEY_MISSING"
  | "ERR_SIGNING_KEY_INVALID";

const faults: FaultTable<DoctorErrorCode> = {
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
 * Errors are for calls that cannot be made as given (an audience IAM would refuse, a smoke test
 * without a signing key); a malformed role ARN or service account is `@irsa-anywhere/iam`'s
 * `IamError`.
 *
 * @example
 * try {
 *   await diagnose({ issuer: "https://oidc.example.com/prod", smokeTest: true });
 * } catch (error) {
 *   if (error instanceof DoctorError && error.code === "ERR_SIGNING_KEY_MISSING") console.error(error.message);
 *   else throw error;
 * }
 */
export class DoctorError extends IrsaAnywhereError<DoctorErrorCode> {
  override readonly name = "DoctorError";

  constructor(code: DoctorErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, faults[code], message, options);
  }
}
