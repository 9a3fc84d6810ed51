import { createHash } from "node:crypto";
import { documentRequestPaths, validateIssuer } from "@irsa-anywhere/discovery";
import { quoteInput } from "@irsa-anywhere/errors";
import { KeysError, parseJwks } from "@irsa-anywhere/keys";
import { DOCUMENT_CACHE_CONTROL, DOCUMENT_CONTENT_TYPE } from "@irsa-anywhere/publisher";
import { ServeError } from "./errors.js";
import { type PreparedResponse, wireResponse } from "./prepared-response.js";

/** The two documents of an issuer, as published: the exact bytes to serve. */
export interface IssuerDocumentBodies {
  /** `.well-known/openid-configuration` */
  discovery: string;
  /** `keys.json` */
  jwks: string;
}

/** One document, ready to serve: its path on the server and its two possible answers. */
export interface PreparedDocument {
  /** The URL path, `/prod/keys.json`. */
  readonly path: string;
  /** Strong, quoted: `"3q2-7w..."`. */
  readonly etag: string;
  /** `200` with the body, for GET (and HEAD, which sends the same head without the body). */
  readonly ok: PreparedResponse;
  /** `304` for a request whose `If-None-Match` names the current ETag. */
  readonly notModified: PreparedResponse;
}

/** An issuer's documents with every response computed, so that serving one allocates nothing. */
export interface IssuerDocuments {
  readonly issuer: string;
  readonly discovery: PreparedDocument;
  readonly jwks: PreparedDocument;
  /** Both documents by URL path. */
  readonly byPath: ReadonlyMap<string, PreparedDocument>;
  /** The kids `keys.json` holds, in order (without the empty-kid twin). */
  readonly kids: readonly string[];
}

/**
 * Checks an issuer's documents and computes everything a request can be answered with: bodies,
 * ETags and headers. A discovery document for another issuer, or one whose `jwks_uri` is not the
 * `keys.json` served beside it, is refused, as is a `keys.json` that is not a valid public JWKS.
 *
 * @param origin Where the documents came from, for messages (`directory ./site`).
 * @throws {ServeError} `ERR_DOCUMENTS_INVALID`.
 */
export function prepareIssuerDocuments(
  issuer: string,
  bodies: IssuerDocumentBodies,
  origin = "the documents",
): IssuerDocuments {
  validateIssuer(issuer);
  // Requests are matched as STS sends them: percent-encoded as the issuer is.
  const paths = documentRequestPaths(issuer);
  const invalid = (what: string) =>
    new ServeError(
      "ERR_DOCUMENTS_INVALID",
      `${what} (in ${origin}); publish them again with irsa-anywhere publish --issuer ${issuer}`,
    );
  let kids: string[];
  try {
    kids = parseJwks(bodies.jwks, "keys.json").keys.map((key) => key.kid);
  } catch (error) {
    if (error instanceof KeysError) throw invalid(error.message);
    throw error;
  }
  let discovery: { issuer?: unknown; jwks_uri?: unknown } | null;
  try {
    discovery = JSON.parse(bodies.discovery) as typeof discovery;
  } catch {
    throw invalid("the discovery document is not valid JSON");
  }
  if (discovery?.issuer !== issuer) {
    throw invalid(
      `the discovery document is for issuer ${quoteInput(discovery?.issuer)}, not ${quoteInput(issuer)}`,
    );
  }
  const jwksUri = `${issuer}/keys.json`;
  if (discovery.jwks_uri !== jwksUri) {
    throw invalid(
      `the discovery document's jwks_uri is ${quoteInput(discovery.jwks_uri)}, not ${jwksUri}, the keys.json served here`,
    );
  }
  const prepared = {
    discovery: prepareDocument(paths.discovery, bodies.discovery),
    jwks: prepareDocument(paths.jwks, bodies.jwks),
  };
  return {
    issuer,
    ...prepared,
    byPath: new Map([
      [prepared.discovery.path, prepared.discovery],
      [prepared.jwks.path, prepared.jwks],
    ]),
    kids,
  };
}

function prepareDocument(path: string, text: string): PreparedDocument {
  const body = Buffer.from(text, "utf8");
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
  // RFC 9110 §15.4.5: a 304 carries the validators and caching headers a 200 would have.
  const cacheHeaders = ["cache-control", DOCUMENT_CACHE_CONTROL, "etag", etag];
  return {
    path,
    etag,
    ok: wireResponse(
      200,
      [
        "content-type",
        DOCUMENT_CONTENT_TYPE,
        "content-length",
        String(body.length),
        ...cacheHeaders,
        "x-content-type-options",
        "nosniff",
      ],
      body,
    ),
    notModified: wireResponse(304, cacheHeaders, undefined),
  };
}
