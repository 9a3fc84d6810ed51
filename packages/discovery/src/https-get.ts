import type { IncomingHttpHeaders } from "node:http";
import { formatMs } from "@irsa-anywhere/errors";

/** An answer to an anonymous GET. */
export interface HttpsAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  elapsedMs: number;
}

/** Why an anonymous GET got no answer. */
export interface HttpsFailure {
  kind:
    | "untrusted-certificate"
    | "certificate-name"
    | "expired-certificate"
    | "timeout"
    | "unreachable"
    | "too-large";
  /** One line, e.g. "the certificate is self-signed (DEPTH_ZERO_SELF_SIGNED_CERT)". */
  message: string;
  elapsedMs: number;
}

/** How {@link httpsGet} asks. */
export interface HttpsGetOptions {
  /** PEM certificates to trust besides Node's public roots (`--ca-file`). */
  ca?: readonly string[] | undefined;
  timeoutMs: number;
  /** Bodies larger than this are cut off and reported; default 1 MiB. */
  maxBytes?: number;
  /** Request headers besides `accept` and `user-agent`, such as `cache-control: no-cache`. */
  headers?: Readonly<Record<string, string>> | undefined;
}

const untrusted = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_REVOKED",
]);

/**
 * GETs a URL as STS does: anonymously (no credentials, no cookies), over HTTPS with the
 * certificate checked, without following redirects, all within `timeoutMs` (connect, TLS,
 * headers and body together), reading at most `maxBytes`. A plain `http:` URL (an S3-compatible
 * store or a test endpoint) is read the same way without TLS. Node's `http` modules load on the
 * first call, not with this package: `fetch` would load undici, some 20 ms of a cold start.
 *
 * @example
 * const answer = await httpsGet("https://oidc.example.com/prod/keys.json", { timeoutMs: 5000 });
 * if (!isFailure(answer) && answer.status === 200) console.log(answer.body);
 */
export async function httpsGet(url: string, options: HttpsGetOptions): Promise<HttpsAnswer | HttpsFailure> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  const { request } = url.startsWith("http:") ? await import("node:http") : await import("node:https");
  const ca = options.ca?.length ? [...(await import("node:tls")).rootCertificates, ...options.ca] : undefined;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: HttpsAnswer | HttpsFailure) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outgoing.destroy();
      resolve(result);
    };
    const outgoing = request(
      url,
      {
        method: "GET",
        // No pooled socket outlives the request.
        agent: false,
        headers: { accept: "application/json", "user-agent": "irsa-anywhere", ...options.headers },
        ...(ca ? { ca } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            finish({
              kind: "too-large",
              message: `the answer is larger than ${Math.round(maxBytes / 1024)} KiB`,
              elapsedMs: elapsed(),
            });
            return;
          }
          chunks.push(chunk);
        });
        response.on("end", () =>
          finish({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString("utf8"),
            elapsedMs: elapsed(),
          }),
        );
        response.on("error", (error) => finish(networkFailure(error, elapsed())));
      },
    );
    const timer = setTimeout(
      () =>
        finish({
          kind: "timeout",
          message: `no complete answer within ${formatMs(options.timeoutMs)}`,
          elapsedMs: elapsed(),
        }),
      options.timeoutMs,
    );
    outgoing.on("error", (error) => finish(networkFailure(error, elapsed())));
    outgoing.end();
  });
}

/** Whether {@link httpsGet} got no answer (the answer may still be an error status). */
export function isFailure(result: HttpsAnswer | HttpsFailure): result is HttpsFailure {
  return "kind" in result;
}

function networkFailure(error: Error, elapsedMs: number): HttpsFailure {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  if (code === "DEPTH_ZERO_SELF_SIGNED_CERT" || code === "SELF_SIGNED_CERT_IN_CHAIN") {
    return { kind: "untrusted-certificate", message: `the certificate is self-signed (${code})`, elapsedMs };
  }
  if (untrusted.has(code)) {
    return {
      kind: "untrusted-certificate",
      message: `the certificate does not chain to a trusted root (${code})`,
      elapsedMs,
    };
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return {
      kind: "certificate-name",
      message: "the certificate is not valid for this host name",
      elapsedMs,
    };
  }
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") {
    return { kind: "expired-certificate", message: `the certificate is not valid now (${code})`, elapsedMs };
  }
  const reason =
    code === "ECONNREFUSED"
      ? "the connection was refused"
      : code === "ENOTFOUND" || code === "EAI_AGAIN"
        ? "the host name does not resolve"
        : code === "ECONNRESET"
          ? "the connection was reset"
          : `${code || error.name}: ${error.message.split("\n")[0]}`;
  return { kind: "unreachable", message: reason, elapsedMs };
}
