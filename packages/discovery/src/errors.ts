/** Stable codes for every failure of this package. */
export type DiscoveryErrorCode = "ERR_ISSUER_INVALID" | "ERR_JWKS_URI_INVALID";

/** The one error class of `@irsa-anywhere/discovery`; always the caller's input at fault. */
export class DiscoveryError extends Error {
  override readonly name = "DiscoveryError";
  readonly code: DiscoveryErrorCode;
  readonly isInputError = true;

  constructor(code: DiscoveryErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
