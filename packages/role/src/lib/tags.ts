import { quoteInput } from "@irsa-anywhere/errors";
import { RoleError } from "../errors.js";

/** @internal The tags that say which issuers and service accounts a role was given for by this tool. */
export const ROLE_TAGS = {
  issuers: "irsa-anywhere/issuers",
  serviceAccounts: "irsa-anywhere/service-accounts",
  namespaces: "irsa-anywhere/namespaces",
} as const;

/** IAM's cap on a tag value. */
const MAX_TAG_VALUE = 256;

/** @internal The words of a space-separated tag value. */
export function tagWords(tags: readonly { Key: string; Value: string }[], key: string): string[] {
  return (tags.find((tag) => tag.Key === key)?.Value ?? "").split(" ").filter((word) => word !== "");
}

/**
 * @internal A tag value listing `words` (sorted, space-separated: IAM allows no commas or `*`).
 * @throws {RoleError} `ERR_ROLE_OPTION_INVALID` when they are over IAM's 256 characters.
 */
export function tagValue(key: string, words: Iterable<string>): string {
  const value = [...new Set(words)].sort().join(" ");
  if (value.length > MAX_TAG_VALUE) {
    throw new RoleError(
      "ERR_ROLE_OPTION_INVALID",
      `the role's tag ${key} would list more than IAM's ${MAX_TAG_VALUE} characters (${quoteInput(value.slice(0, 40))}...); give fewer service accounts per role, or --namespace-wide`,
    );
  }
  return value;
}
