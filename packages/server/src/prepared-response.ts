import { isAscii } from "node:buffer";

/** An HTTP answer computed ahead of the request: status, headers, body. */
export interface PreparedResponse {
  readonly status: number;
  /** Flat `[name, value, name, value, ...]`, as `response.writeHead` takes them. */
  readonly headers: readonly string[];
  /** Sent for GET; a HEAD answer has the same headers and no body. */
  readonly body: Buffer | undefined;
}

/**
 * @internal A prepared response as the server sends it. An ASCII body also kept as a string goes
 * out in one write with the head (`end(text, "latin1")`), where a Buffer body costs a second
 * buffer in a `writev`: a measurable share of a request this small.
 */
export interface WireResponse extends PreparedResponse {
  readonly asciiBody: string | undefined;
}

/** @internal */
export function wireResponse(
  status: number,
  headers: readonly string[],
  body: Buffer | undefined,
): WireResponse {
  // Pure ASCII only: then the latin1 string is the very same bytes as the Buffer.
  const asciiBody = body !== undefined && isAscii(body) ? body.toString("latin1") : undefined;
  return { status, headers, body, asciiBody };
}
