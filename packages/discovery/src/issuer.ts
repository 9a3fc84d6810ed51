import { quoteInput } from "@irsa-anywhere/errors";
import { DiscoveryError } from "./errors.js";

/**
 * Checks that a URL can be an OIDC issuer for AWS STS and IAM, and returns it unchanged, since
 * the issuer must match the tokens' `iss` claim byte for byte. kube-apiserver accepts forms that
 * AWS cannot use; each refusal names the rule (README.md, "Issuer URLs AWS accepts"):
 *
 * - not `https://`, a query or a fragment: OIDC Core §2 and IAM's CreateOpenIDConnectProvider;
 * - a user name or password: RFC 9110 §4.2.4 (no userinfo in an https URL);
 * - an explicit port `:443`: IAM, "The URL should not contain a port number";
 * - a trailing slash: OIDC Discovery §4 removes it before appending the well-known path, and the
 *   document's `issuer` must then equal the token's `iss`, which it cannot;
 * - upper case in the host: the token's `iss` is compared as written, and AWS documents no case
 *   folding of the provider URL (HTTP clients lower-case the host);
 * - an empty path segment (`//`), or a percent-encoded `/`, `.` or `..` segment: directories and
 *   static servers merge or resolve them, so the documents would not be where the issuer says.
 *
 * Other percent-encoded characters are fine: their documents live at the decoded path
 * ({@link documentPaths}), where S3 and static servers look.
 *
 * @throws {DiscoveryError} `ERR_ISSUER_INVALID`, saying what is wrong and how to write it.
 *
 * @example
 * validateIssuer("https://my-bucket.s3.us-west-2.amazonaws.com/prod"); // ok
 * validateIssuer("https://example.com/"); // throws: trailing slash
 */
export function validateIssuer(issuer: string): string {
  const fail = (what: string): never => {
    throw new DiscoveryError("ERR_ISSUER_INVALID", `issuer ${quoteInput(issuer)} ${what}`);
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
  // Control characters and white space first: the URL parser drops some of them silently.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are what is refused
  if (/[\s\u0000-\u001f\u007f]/.test(issuer)) fail("contains white space or a control character; remove it");
  if (url.username !== "" || url.password !== "") {
    fail(
      "contains a user name or password; RFC 9110 §4.2.4 forbids userinfo in an https URL and IAM names a provider by host and path only, so remove it (here and in the API server's --service-account-issuer)",
    );
  }
  if (issuer.includes("?"))
    fail("has a query string; an issuer may not (OIDC Core §2), remove everything from ?");
  if (issuer.includes("#"))
    fail("has a fragment; an issuer may not (OIDC Core §2), remove everything from #");
  const authority = issuer.slice("https://".length).split("/")[0] ?? "";
  if (/:443$/.test(authority)) {
    fail(
      `names port 443; IAM's CreateOpenIDConnectProvider says "The URL should not contain a port number", so use ${quoteInput(issuer.replace(":443", ""))} (here and in the API server's --service-account-issuer)`,
    );
  }
  if (authority !== authority.toLowerCase()) {
    fail(
      `has upper case in its host; tokens carry the issuer byte for byte, IAM's provider URL must correspond to their iss, and AWS documents no case folding of either, so use ${quoteInput(issuer.replace(authority, authority.toLowerCase()))} (here and in the API server's --service-account-issuer)`,
    );
  }
  if (issuer.endsWith("/")) {
    fail(
      `ends with a slash; OpenID Connect Discovery §4 removes it before appending /.well-known/openid-configuration and requires the document's issuer to equal that URL, so it cannot equal the tokens' iss: use ${quoteInput(issuer.replace(/\/+$/, ""))} (here and in the API server's --service-account-issuer)`,
    );
  }
  const rawPath = issuer.slice("https://".length + authority.length);
  if (rawPath.includes("//")) {
    fail(
      `has an empty path segment (//); directories and static servers merge it, so the documents would not be where the issuer says: use ${quoteInput(`${issuer.slice(0, issuer.length - rawPath.length)}${rawPath.replace(/\/{2,}/g, "/")}`)}`,
    );
  }
  for (const segment of rawPath.split("/").slice(1)) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return fail(`has a malformed percent-encoding in ${quoteInput(segment)}; encode each byte as %XX`);
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: these are what is refused
    if (/[/\\\u0000-\u001f\u007f]/.test(decoded) || decoded === "." || decoded === "..") {
      fail(
        `has a path segment ${quoteInput(segment)} that decodes to ${quoteInput(decoded)}; S3 and static servers decode it, so no object or file can be at that path: spell it without the encoded character`,
      );
    }
  }
  if (url.href !== issuer && url.href !== `${issuer}/`) {
    fail(
      `is not in canonical form (${quoteInput(url.href.replace(/\/$/, ""))}); tokens carry the issuer byte for byte, so use the canonical spelling`,
    );
  }
  return issuer;
}

/**
 * The path of an issuer as object keys and file names hold it: without its leading slash, each
 * segment percent-decoded as S3 and static servers decode a request (`https://host/c%34` is
 * `c4`); `""` for `https://host`.
 *
 * @example
 * issuerPath("https://oidc.example.com/prod"); // "prod"
 */
export function issuerPath(issuer: string): string {
  return issuerUrlPath(issuer)
    .split("/")
    .filter((segment) => segment !== "")
    .map((segment) => decodeURIComponent(segment))
    .join("/");
}

/** The issuer's path as it stands in the URL (still percent-encoded), without the leading slash. */
function issuerUrlPath(issuer: string): string {
  return new URL(validateIssuer(issuer)).pathname.replace(/^\/+/, "").replace(/\/+$/, "");
}

/**
 * The issuer as IAM names its OIDC provider and as trust policy condition keys start: host and path, no scheme.
 *
 * @example
 * issuerHostPath("https://oidc.example.com/prod"); // "oidc.example.com/prod"
 */
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

/**
 * The paths, relative to the web root of the issuer's host, of the discovery document and JWKS,
 * decoded: the object keys and file names (`issuerPath`).
 *
 * @example
 * documentPaths("https://oidc.example.com/prod").jwks; // "prod/keys.json"
 */
export function documentPaths(issuer: string): DocumentPaths {
  return documentPathsUnder(issuerPath(issuer));
}

/**
 * The request targets STS sends for the two documents (`/c%34/keys.json`), percent-encoded as
 * the issuer is: what a server compares a request's path with.
 *
 * @example
 * documentRequestPaths("https://oidc.example.com/c%34").jwks; // "/c%34/keys.json"
 */
export function documentRequestPaths(issuer: string): DocumentPaths {
  const paths = documentPathsUnder(issuerUrlPath(issuer));
  return { discovery: `/${paths.discovery}`, jwks: `/${paths.jwks}` };
}

/**
 * The two documents' paths under `path` (no leading or trailing slash; empty for the root): the
 * object keys of a bucket prefix, for one.
 *
 * @example
 * documentPathsUnder("clusters/prod").discovery; // "clusters/prod/.well-known/openid-configuration"
 */
export function documentPathsUnder(path: string): DocumentPaths {
  const prefix = path === "" ? "" : `${path}/`;
  return { discovery: `${prefix}.well-known/openid-configuration`, jwks: `${prefix}keys.json` };
}
