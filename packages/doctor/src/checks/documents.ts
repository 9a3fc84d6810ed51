import type { IncomingHttpHeaders } from "node:http";
import { type HttpsAnswer, type HttpsFailure, httpsGet, isFailure } from "@irsa-anywhere/discovery";
import { formatMs, quoteInput } from "@irsa-anywhere/errors";
import { STS_ERRORS } from "../check.js";
import { defineCheck, type Environment } from "../lib/check-model.js";
import { fail, type Outcome, pass, warn } from "../lib/outcome.js";

/** Answers slower than this risk STS's 5 s limit on a bad day. */
const SLOW_MS = 2_500;
/** Longer than this, caches keep serving the old keys for more than a day after a rotation. */
const MAX_SANE_MAX_AGE = 86_400;

/** @internal Which document, for messages and fixes. */
export type DocumentKind = "discovery document" | "JWKS";

/** @internal Reachable anonymously over trusted HTTPS, in time, with a 200. */
export function judgeReachable(kind: DocumentKind, url: string, result: HttpsAnswer | HttpsFailure): Outcome {
  const sts = STS_ERRORS.noKey;
  const details = { url, elapsedMs: result.elapsedMs };
  if (isFailure(result)) {
    switch (result.kind) {
      case "untrusted-certificate":
        return fail(
          "ERR_DOCUMENT_CERTIFICATE_UNTRUSTED",
          `${url}: ${result.message}; STS trusts only certificates that chain to a public root CA`,
          "serve the issuer with a certificate from a public CA (S3 and CloudFront have one); for a private CA in a test, pass --ca-file",
          { sts, details },
        );
      case "certificate-name":
        return fail(
          "ERR_DOCUMENT_CERTIFICATE_NAME",
          `${url}: ${result.message}`,
          `use a certificate whose subject alternative names include ${new URL(url).hostname}`,
          { sts, details },
        );
      case "expired-certificate":
        return fail(
          "ERR_DOCUMENT_CERTIFICATE_EXPIRED",
          `${url}: ${result.message}`,
          "renew the certificate",
          { sts, details },
        );
      case "timeout":
        return fail(
          "ERR_DOCUMENT_TIMEOUT",
          `${url}: ${result.message}; STS gives up after 5 s`,
          "serve the documents from a fast static host (S3, CloudFront), close to AWS",
          { sts, details },
        );
      case "too-large":
        return fail(
          "ERR_DOCUMENT_TOO_LARGE",
          `${url}: ${result.message}`,
          `serve only the ${kind} at this URL`,
          { sts, details },
        );
      default:
        return fail(
          "ERR_DOCUMENT_UNREACHABLE",
          `${url}: ${result.message}`,
          "STS fetches the documents from the internet: check that the host is public and serves HTTPS on this port",
          { sts, details },
        );
    }
  }
  const withStatus = { ...details, status: result.status };
  if (result.status >= 300 && result.status < 400) {
    const location = headerValue(result.headers, "location");
    return fail(
      "ERR_DOCUMENT_REDIRECT",
      `${url} answered HTTP ${result.status}, a redirect${location ? ` to ${location}` : ""}; STS expects the ${kind} at this very URL`,
      location
        ? "serve the document at the URL itself, or use the URL it redirects to as the issuer"
        : "serve the document at the URL itself",
      { sts, details: withStatus },
    );
  }
  if (result.status === 401 || result.status === 403) {
    return fail(
      "ERR_DOCUMENT_NOT_PUBLIC",
      `${url} answered HTTP ${result.status} to an anonymous request (S3 says so for a missing object too); STS reads it without credentials`,
      "make it publicly readable: irsa-anywhere publish --public-read-policy (which grants this issuer's two documents; with --public-read-scope document-names, every keys.json and .well-known/openid-configuration in the bucket, for many clusters in one bucket), or the statement in examples/iam/bucket-policy.json",
      { sts, details: withStatus },
    );
  }
  if (result.status === 404) {
    return fail(
      "ERR_DOCUMENT_NOT_FOUND",
      `${url} answered HTTP 404: nothing is published there`,
      "publish it: irsa-anywhere publish <key source> --bucket NAME (or --out-dir DIR)",
      {
        sts,
        details: withStatus,
      },
    );
  }
  if (result.status !== 200) {
    return fail(
      "ERR_DOCUMENT_HTTP_STATUS",
      `${url} answered HTTP ${result.status}`,
      `make it answer 200 with the ${kind}`,
      {
        sts,
        details: withStatus,
      },
    );
  }
  if (result.elapsedMs > SLOW_MS) {
    return warn(
      "WARN_DOCUMENT_SLOW",
      `${url} answered in ${formatMs(result.elapsedMs)}; STS gives up after 5 s`,
      "serve the documents from a faster host, or put a CDN in front",
      { details: withStatus },
    );
  }
  return pass(`HTTP 200 in ${formatMs(result.elapsedMs)}`, { details: withStatus });
}

/** @internal `Content-Type` is JSON, `Cache-Control` lets caches keep it a while, but not for days. */
export function judgeHeaders(kind: DocumentKind, answer: HttpsAnswer): Outcome {
  const contentType = headerValue(answer.headers, "content-type");
  const cacheControl = headerValue(answer.headers, "cache-control");
  const details = { contentType: contentType ?? null, cacheControl: cacheControl ?? null };
  const problems: string[] = [];
  const mediaType = contentType?.split(";")[0]?.trim().toLowerCase();
  const jsonTypes = kind === "JWKS" ? ["application/json", "application/jwk-set+json"] : ["application/json"];
  if (!mediaType || !jsonTypes.includes(mediaType)) {
    problems.push(
      contentType ? `served as ${contentType}, not application/json` : "served with no Content-Type",
    );
  }
  const directives = (cacheControl ?? "").toLowerCase();
  const maxAge = /(?:^|[\s,])max-age=(\d+)/.exec(directives)?.[1];
  if (!cacheControl) {
    problems.push("no Cache-Control, so every cache guesses");
  } else if (/no-cache|no-store/.test(directives) || maxAge === "0") {
    problems.push(`Cache-Control "${cacheControl}" sends every fetch to the origin`);
  } else if (maxAge !== undefined && Number(maxAge) > MAX_SANE_MAX_AGE) {
    problems.push(
      `Cache-Control max-age=${maxAge} lets caches serve old keys for more than a day after a rotation`,
    );
  }
  if (problems.length === 0) return pass(`${contentType}; ${cacheControl}`, { details });
  return warn(
    "WARN_DOCUMENT_HEADERS",
    `the ${kind} is ${problems.join("; ")}`,
    "serve it with Content-Type: application/json and Cache-Control: public, max-age=300 (what irsa-anywhere publish sets)",
    { details },
  );
}

/** @internal The discovery document's members that matter to STS. */
export interface DiscoveryDocument {
  issuer: unknown;
  jwksUri: string;
  algorithms: unknown;
}

/** @internal JSON, an object, a `jwks_uri` over https. */
export function judgeDiscoveryDocument(body: string): { outcome: Outcome; document?: DiscoveryDocument } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return {
      outcome: fail(
        "ERR_DISCOVERY_NOT_JSON",
        "the discovery document is not JSON",
        "republish it: irsa-anywhere publish writes it from the issuer",
        { sts: STS_ERRORS.noKey },
      ),
    };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return {
      outcome: fail(
        "ERR_DISCOVERY_NOT_OBJECT",
        "the discovery document is not a JSON object",
        "republish it with irsa-anywhere publish",
        {
          sts: STS_ERRORS.noKey,
        },
      ),
    };
  }
  const record = parsed as Record<string, unknown>;
  const jwksUri = record.jwks_uri;
  let url: URL | undefined;
  try {
    url = typeof jwksUri === "string" ? new URL(jwksUri) : undefined;
  } catch {
    url = undefined;
  }
  if (typeof jwksUri !== "string" || url?.protocol !== "https:") {
    return {
      outcome: fail(
        "ERR_DISCOVERY_JWKS_URI",
        typeof jwksUri === "string"
          ? `jwks_uri ${JSON.stringify(jwksUri)} is not an https:// URL; STS fetches the keys over https only`
          : "the discovery document has no jwks_uri, so STS cannot find the keys",
        "republish it with irsa-anywhere publish (jwks_uri is <issuer>/keys.json)",
        { sts: STS_ERRORS.noKey, details: { jwksUri: jwksUri ?? null } },
      ),
    };
  }
  return {
    outcome: pass(`jwks_uri is ${jwksUri}`, { details: { jwksUri } }),
    document: { issuer: record.issuer, jwksUri, algorithms: record.id_token_signing_alg_values_supported },
  };
}

/** @internal The document's `issuer` equals the issuer URL byte for byte. */
export function judgeDiscoveryIssuer(issuer: string, documentIssuer: unknown): Outcome {
  const details = { expected: issuer, published: documentIssuer ?? null };
  if (documentIssuer === issuer) return pass(`"issuer" is ${issuer}`, { details });
  const fix = `republish with the issuer exactly as the cluster's tokens carry it (${issuer}): irsa-anywhere publish --issuer ${issuer} ...`;
  if (typeof documentIssuer !== "string") {
    return fail("ERR_DISCOVERY_ISSUER_MISSING", 'the discovery document has no "issuer"', fix, {
      sts: STS_ERRORS.noKey,
      details,
    });
  }
  return fail(
    "ERR_DISCOVERY_ISSUER_MISMATCH",
    `the discovery document says "issuer": ${quoteInput(documentIssuer)}, which ${issuerDifference(issuer, documentIssuer)}; tokens carry the issuer byte for byte`,
    fix,
    { sts: STS_ERRORS.noKey, details },
  );
}

/** How a published issuer differs from the expected one, in words. */
export function issuerDifference(expected: string, actual: string): string {
  if (actual === `${expected}/`) return "has a trailing slash";
  if (`${actual}/` === expected || actual === expected.replace(/\/+$/, "")) return "lacks the trailing slash";
  if (actual.replace(/^http:/, "https:") === expected) return "uses http instead of https";
  if (actual.toLowerCase() === expected.toLowerCase()) return "differs in upper and lower case";
  if (actual.replace(/\/+$/, "").toLowerCase() === expected.replace(/\/+$/, "").toLowerCase()) {
    return "differs in case and trailing slash";
  }
  return `is not ${expected}`;
}

/** @internal One header's value as one string. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** A document fetched and judged as STS fetches it, and its answer when that is a 200. */
async function fetchAsSts(
  kind: DocumentKind,
  url: string,
  env: Environment,
): Promise<{ outcome: Outcome; answer?: HttpsAnswer }> {
  const answer = await httpsGet(url, env.fetchOptions);
  const outcome = judgeReachable(kind, url, answer);
  return isFailure(answer) || answer.status !== 200 ? { outcome } : { outcome, answer };
}

export const discoveryReachableCheck = defineCheck({
  id: "discovery-reachable",
  needs: ["hostPath"],
  provides: { discovery: { reason: "the discovery document could not be read", code: "SKIP_NO_DISCOVERY" } },
  run: async (_, env) => {
    const read = await fetchAsSts(
      "discovery document",
      `${env.issuer}/.well-known/openid-configuration`,
      env,
    );
    return read.answer ? { ...read.outcome, facts: { discovery: read.answer } } : read.outcome;
  },
});

export const discoveryHeadersCheck = defineCheck({
  id: "discovery-headers",
  needs: ["discovery"],
  run: ({ discovery }) => judgeHeaders("discovery document", discovery),
});

export const discoveryDocumentCheck = defineCheck({
  id: "discovery-document",
  needs: ["discovery"],
  provides: {
    discoveryDocument: {
      reason: "the discovery document names no usable jwks_uri",
      code: "SKIP_NO_JWKS_URI",
    },
  },
  run: ({ discovery }) => {
    const { outcome, document } = judgeDiscoveryDocument(discovery.body);
    return document ? { ...outcome, facts: { discoveryDocument: document } } : outcome;
  },
});

export const discoveryIssuerCheck = defineCheck({
  id: "discovery-issuer",
  needs: ["discoveryDocument"],
  run: ({ discoveryDocument }, env) => judgeDiscoveryIssuer(env.issuer, discoveryDocument.issuer),
});

export const jwksReachableCheck = defineCheck({
  id: "jwks-reachable",
  needs: ["discoveryDocument"],
  provides: { jwksAnswer: { reason: "the JWKS could not be read", code: "SKIP_NO_JWKS" } },
  run: async ({ discoveryDocument }, env) => {
    const read = await fetchAsSts("JWKS", discoveryDocument.jwksUri, env);
    return read.answer ? { ...read.outcome, facts: { jwksAnswer: read.answer } } : read.outcome;
  },
});

export const jwksHeadersCheck = defineCheck({
  id: "jwks-headers",
  needs: ["jwksAnswer"],
  run: ({ jwksAnswer }) => judgeHeaders("JWKS", jwksAnswer),
});
