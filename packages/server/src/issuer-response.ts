import type { IssuerDocuments } from "./prepare-documents.js";
import { type PreparedResponse, type WireResponse, wireResponse } from "./prepared-response.js";

/** The parts of a request that decide its answer. */
export interface IssuerRequest {
  method: string | undefined;
  /** The request target exactly as received (`request.url`): never decoded or normalized. */
  url: string | undefined;
  ifNoneMatch?: string | undefined;
}

/** Liveness and readiness paths, at the root of the host whatever the issuer's path. */
export const HEALTH_PATH = "/healthz";
export const READY_PATH = "/readyz";

function textResponse(status: number, text: string, extra: readonly string[] = []): WireResponse {
  const body = Buffer.from(`${text}\n`, "utf8");
  return wireResponse(
    status,
    [
      "content-type",
      "text/plain; charset=utf-8",
      "content-length",
      String(body.length),
      "cache-control",
      "no-store",
      "x-content-type-options",
      "nosniff",
      ...extra,
    ],
    body,
  );
}

const allow = ["allow", "GET, HEAD"];
const NOT_FOUND = textResponse(404, "not found");
const METHOD_NOT_ALLOWED = textResponse(405, "method not allowed; use GET or HEAD", allow);
const OK = textResponse(200, "ok");
const NOT_READY = textResponse(503, "shutting down");
/** @internal For requests that declare a body larger than the server accepts (it never needs one). */
export const PAYLOAD_TOO_LARGE = textResponse(413, "request body too large; this server takes no bodies");
/** @internal For a request line of an HTTP version other than 1.0 and 1.1. */
export const HTTP_VERSION_NOT_SUPPORTED = textResponse(505, "only HTTP/1.0 and HTTP/1.1 are served");

/**
 * Answers a request from the prepared documents, without I/O and, for the documents themselves,
 * without allocating: exactly the two document paths (GET and HEAD, `304` when `If-None-Match`
 * names the current ETag), `/healthz` and `/readyz`; `405` for another method on those paths,
 * `404` for any other path. The path is compared byte for byte, so no encoding or `..` can reach
 * anything else; a query string is ignored. The server writes the answer as it is:
 * `response.writeHead(answer.status, answer.headers).end(answer.body)`.
 */
export function issuerResponse(
  documents: IssuerDocuments,
  request: IssuerRequest,
  ready: boolean,
): PreparedResponse {
  const url = request.url ?? "";
  const query = url.indexOf("?");
  const path = query === -1 ? url : url.slice(0, query);
  const document = documents.byPath.get(path);
  if (document !== undefined) {
    if (request.method !== "GET" && request.method !== "HEAD") return METHOD_NOT_ALLOWED;
    const condition = request.ifNoneMatch;
    if (condition !== undefined && etagMatches(condition, document.etag)) return document.notModified;
    return document.ok;
  }
  if (path === HEALTH_PATH || path === READY_PATH) {
    if (request.method !== "GET" && request.method !== "HEAD") return METHOD_NOT_ALLOWED;
    return path === HEALTH_PATH || ready ? OK : NOT_READY;
  }
  return NOT_FOUND;
}

/** `If-None-Match` uses the weak comparison (RFC 9110 §13.1.2): `W/` is ignored; `*` matches. */
export function etagMatches(header: string, etag: string): boolean {
  if (header === etag) return true;
  for (const part of header.split(",")) {
    const tag = part.trim();
    if (tag === "*" || tag === etag || (tag.startsWith("W/") && tag.slice(2) === etag)) return true;
  }
  return false;
}
