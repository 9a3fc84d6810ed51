import { quoteInput } from "@irsa-anywhere/errors";

/** The audience IAM's OIDC providers and STS expect unless told otherwise. */
export const DEFAULT_AUDIENCE = "sts.amazonaws.com";

/** IAM's limits on client IDs (CreateOpenIDConnectProvider, AddClientIDToOpenIDConnectProvider). */
export const MAX_AUDIENCES = 100;
export const MAX_AUDIENCE_LENGTH = 255;

/**
 * What is wrong with an audience (an IAM client ID, a token's `aud`), in one line naming
 * `--audience`, or `undefined` when IAM takes it: 1 to 255 characters, and no newline or other
 * control character (no token carries one, and it would break a log line).
 *
 * @example
 * audienceProblem("sts.amazonaws.com"); // undefined
 * audienceProblem("a".repeat(256)); // "--audience \"aaa…\" (256 characters) is longer than …"
 */
export function audienceProblem(audience: string): string | undefined {
  if (audience.trim() === "") {
    return "an audience is empty; give each --audience a value, such as sts.amazonaws.com (the default)";
  }
  if (audience.length > MAX_AUDIENCE_LENGTH) {
    return `--audience ${quoteInput(audience)} is longer than the ${MAX_AUDIENCE_LENGTH} characters IAM takes for a client ID`;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are what is refused
  if (/[\u0000-\u001f\u007f]/.test(audience)) {
    return `--audience ${quoteInput(audience)} contains a newline or control character; a token's aud never does, so remove it`;
  }
  return undefined;
}
