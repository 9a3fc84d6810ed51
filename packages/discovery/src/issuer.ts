import { DiscoveryError } from "./errors.js";

/**
 * Checks that a URL can be an OIDC issuer for AWS STS and IAM: `https://`, a host, no user
 * name or password, no query, no fragment, no trailing slash. Returns the URL unchanged, since
 * the issuer must match the tokens' `iss` claim byte for byte.
 *
 * @throws {DiscoveryError} `ERR_ISSUER_INVALID`, saying what is wrong and how to write it.
 *
 * @example
 * validateIssuer("https://my-bucket.s3.us-west-2.amazonaws.com/prod"); // ok
 * validateIssuer("https://example.com/"); // throws: trailing slash
 */
export function validateIssuer(issuer: string): string {
  const fail = (what: string) => {
    throw new DiscoveryError("ERR_ISSUER_INVALID", `issuer ${JSON.stringify(issuer)} ${what}`);
  };
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return fail("is not a URL; write it like https://example.com/cluster");
  }
  if (url.protocol !== "https:") {
    fail(`uses ${url.protocol.replace(":", "")}; AWS STS fetches issuers over https only, so use https://`);
  }
  if (url.username !== "" || url.password !== "") fail("contains a user name or password; remove them");
  if (issuer.includes("?")) fail("has a query string; an issuer may not, remove everything from ?");
  if (issuer.includes("#")) fail("has a fragment; an issuer may not, remove everything from #");
  if (issuer.endsWith("/")) fail(`ends with a slash; use ${issuer.replace(/\/+$/, "")}`);
  if (/\s/.test(issuer)) fail("contains white space; remove it");
  if (url.href !== issuer && url.href !== `${issuer}/`) {
    fail(
      `is not in canonical form (${url.href.replace(/\/$/, "")}); tokens carry the issuer byte for byte, so use the canonical spelling`,
    );
  }
  return issuer;
}

/** The path of an issuer URL without its leading slash: `""` for `https://host`. */
export function issuerPath(issuer: string): string {
  return new URL(validateIssuer(issuer)).pathname.replace(/^\/+/, "").replace(/\/+$/, "");
}

/** The issuer as IAM names its OIDC provider and as trust policy condition keys start: host and path, no scheme. */
export function issuerHostPath(issuer: string): string {
  return validateIssuer(issuer).replace(/^https:\/\//, "");
}

/** Where the two documents live relative to the issuer's host, e.g. for a directory or bucket. */
export interface DocumentPaths {
  /** `<path>/.well-known/openid-configuration` */
  discovery: string;
  /** `<path>/keys.json` */
  jwks: string;
}

/** The paths, relative to the web root of the issuer's host, of the discovery document and JWKS. */
export function documentPaths(issuer: string): DocumentPaths {
  const path = issuerPath(issuer);
  const prefix = path === "" ? "" : `${path}/`;
  return { discovery: `${prefix}.well-known/openid-configuration`, jwks: `${prefix}keys.json` };
}
