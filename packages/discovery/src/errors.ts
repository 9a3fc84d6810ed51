import { type FaultTable, IrsaAnywhereError } from "@irsa-anywhere/errors";

/** Stable codes for every failure of this package. */
export type DiscoveryErrorCode = "ERR_ISSUER_INVALID" | "ERR_JWKS_URI_INVALID" | "ERR_CLUSTER_CONFIG_INVALID";

const faults: FaultTable<DiscoveryErrorCode> = {
  ERR_ISSUER_INVALID: "input",
  ERR_JWKS_URI_INVALID: "input",
  ERR_CLUSTER_CONFIG_INVALID: "input",
};

/**
 * The one error class of `@irsa-anywhere/discovery`; always the caller's input at fault.
 *
 * @example
 * try {
 *   validateIssuer("https://oidc.example.com/prod/");
 * } catch (error) {
 *   if (error instanceof DiscoveryError) console.error(error.message); // "... ends with a slash ..."
 * }
 */
export class DiscoveryError extends IrsaAnywhereError<DiscoveryErrorCode> {
  override readonly name = "DiscoveryError";

  constructor(code: DiscoveryErrorCode, message: string) {
    super(code, faults[code], message);
  }
}
