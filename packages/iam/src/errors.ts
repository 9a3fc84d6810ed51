import { type FaultTable, IrsaAnywhereError } from "@irsa-anywhere/errors";

/**
 * Stable codes for every failure of this package; assert on these, not on message text: a trust
 * policy that cannot be built or merged as asked, and the AWS failures. The `ERR_AWS_*` codes are what every package throws for an AWS call it cannot go on without: the
 * one reading of SDK errors ({@link describeAwsFailure}) lives here.
 */
export type IamErrorCode =
  | "ERR_AWS_ACCESS_DENIED"
  | "ERR_AWS_NO_CREDENTIALS"
  | "ERR_AWS_REQUEST_FAILED"
  | "ERR_AWS_UNREACHABLE"
  | "ERR_REGION_INVALID"
  | "ERR_SERVICE_ACCOUNT_INVALID"
  | "ERR_ROLE_ARN_INVALID"
  | "ERR_ROLE_NOT_FOUND"
  | "ERR_TRUST_POLICY_INVALID"
  | "ERR_TRUST_POLICY_UNMERGEABLE"
  | "ERR_ACCOUNT_ID_INVALID"
  | "ERR_AUDIENCE_INVALID";

const faults: FaultTable<IamErrorCode> = {
  ERR_AWS_ACCESS_DENIED: "environment",
  ERR_AWS_NO_CREDENTIALS: "environment",
  ERR_AWS_REQUEST_FAILED: "environment",
  ERR_AWS_UNREACHABLE: "environment",
  ERR_REGION_INVALID: "input",
  ERR_SERVICE_ACCOUNT_INVALID: "input",
  ERR_ROLE_ARN_INVALID: "input",
  ERR_ROLE_NOT_FOUND: "input",
  ERR_TRUST_POLICY_INVALID: "environment",
  ERR_TRUST_POLICY_UNMERGEABLE: "environment",
  ERR_ACCOUNT_ID_INVALID: "input",
  ERR_AUDIENCE_INVALID: "input",
};

/**
 * The one error class of `@irsa-anywhere/iam`. Its message is one line that says what was wrong
 * and what to do; it never holds credentials or a token.
 *
 * @example
 * const issuer = "https://oidc.example.com/prod";
 * try {
 *   await trustPolicy({ issuer, serviceAccounts: ["payments/api"] });
 * } catch (error) {
 *   if (error instanceof IamError && error.code === "ERR_AWS_NO_CREDENTIALS") console.error(error.message);
 *   else throw error;
 * }
 */
export class IamError extends IrsaAnywhereError<IamErrorCode> {
  override readonly name = "IamError";

  constructor(code: IamErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, faults[code], message, options);
  }
}
