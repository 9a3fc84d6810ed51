/**
 * Whether a policy's wildcard pattern matches a value, as IAM matches action names and resource
 * ARNs: `*` any run of characters, `?` one character. Action names are case-insensitive
 * (`ignoreCase`), ARNs are not.
 *
 * @example
 * matchesWildcard("s3:Get*", "s3:getobject", { ignoreCase: true }); // true
 * matchesWildcard("arn:aws:s3:::my-oidc/*", "arn:aws:s3:::my-oidc/prod/keys.json"); // true
 */
export function matchesWildcard(
  pattern: string,
  value: string,
  options: { ignoreCase?: boolean } = {},
): boolean {
  const source = pattern
    .split("")
    .map((char) => (char === "*" ? ".*" : char === "?" ? "." : char.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`, options.ignoreCase ? "is" : "s").test(value);
}
