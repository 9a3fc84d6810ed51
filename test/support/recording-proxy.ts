// An HTTP proxy for tests that sits between an AWS SDK client and moto: it records every request,
// so that a test can assert on what a client sent ("a republish made no PUT"), and it can delay,
// fail or cut requests, so that a test can see what a client does when the network misbehaves.

import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from "node:http";
import { performance } from "node:perf_hooks";

/** One request as the proxy received it. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query, exactly as sent (still percent-encoded). */
  readonly path: string;
  /** The Host header, which the proxy forwards unchanged (SigV4 signs it). */
  readonly host: string | undefined;
  /** Whether it is signed (SigV4 in the Authorization header, or a presigned URL), or anonymous as STS reads. */
  readonly signed: boolean;
  /** The request's headers, names in lower case. */
  readonly headers: IncomingHttpHeaders;
  /**
   * The body as UTF-8 text, read in full before the request is forwarded. IAM and STS send every
   * call as `POST /`, so the action is only here (`Action=CreateOpenIDConnectProvider&...`).
   */
  body: string;
  /** The status the client was sent; `undefined` until then, and for ever when the connection was cut. */
  status: number | undefined;
  /** Set when the proxy answered or cut the request itself (see `failNext`, `resetNext`, `denyAnonymous`). */
  fault: "fail" | "reset" | "deny" | undefined;
  /** When the request arrived and when its answer was sent (`performance.now()`), for the benches' round trips. */
  readonly receivedAt: number;
  answeredAt: number | undefined;
}

export interface FailOptions {
  /** The status to answer with; default 503. 500 and 503 are what AWS sends when it is at fault. */
  status?: number;
  /**
   * The response body; default an XML error whose code matches the status, shaped for the service
   * the request was signed for (S3's `<Error>`, or IAM's and STS's `<ErrorResponse>`), so that
   * the SDK reads its code.
   */
  body?: string;
  /** Which requests to fail; default any. Requests that do not match pass through and keep the fault waiting. */
  match?: (request: RecordedRequest) => boolean;
}

export interface ResetOptions {
  /**
   * Forward the request first and cut the connection instead of passing moto's answer on: the
   * request took effect but the client never learns it (the hard case for retried writes).
   * Default false: the request never reaches moto.
   */
  afterForwarding?: boolean;
  /** Which requests to cut; default any. */
  match?: (request: RecordedRequest) => boolean;
}

export interface RecordingProxy {
  /** `http://127.0.0.1:<port>`: use it as the SDK client's `endpoint`. */
  readonly url: string;
  /** Every request received since the start or the last `clear()`, in order of arrival. */
  readonly requests: RecordedRequest[];
  /** Milliseconds to hold each request before handling it; 0 (the default) for none. */
  delayMs: number;
  /**
   * When true, requests without a signature (no Authorization header, no `X-Amz-Signature` query
   * parameter) get 403 AccessDenied without reaching moto. moto judges anonymous reads by the
   * bucket policy and object ACLs but ignores Block Public Access, so this stands in for a bucket
   * or account that blocks public access. Default false.
   */
  denyAnonymous: boolean;
  /**
   * Awaited before each request is handled, so that a test can pause requests and let them
   * through in the order it chooses; what it resolves to is called once the answer has been
   * sent (or the connection cut). Default none.
   */
  hold: ((request: RecordedRequest) => Promise<(() => void) | undefined>) | undefined;
  /**
   * Rewrites the body of moto's answer before the client gets it (its Content-Length follows),
   * for a state moto cannot be put in, such as an invalidation that never completes. `undefined`
   * keeps the answer as it is. Default none.
   */
  rewrite: ((request: RecordedRequest, body: string) => string | undefined) | undefined;
  /** Answers the next `count` matching requests with an error instead of forwarding them. */
  failNext(count: number, options?: FailOptions): void;
  /** Destroys the client's connection on the next `count` matching requests, without an answer. */
  resetNext(count: number, options?: ResetOptions): void;
  /** Forgets the recorded requests and pending faults, and sets `delayMs` and `denyAnonymous` back. */
  clear(): void;
  /** Stops listening and destroys every open connection. Safe to call more than once. */
  close(): Promise<void>;
}

type Fault =
  | { kind: "fail"; status: number; body: string | undefined; match: (request: RecordedRequest) => boolean }
  | { kind: "reset"; afterForwarding: boolean; match: (request: RecordedRequest) => boolean };

const anyRequest = () => true;

/**
 * Starts a proxy on 127.0.0.1 that forwards every request to `targetUrl` (moto) unchanged: same
 * method, path, headers (Host included, so signatures still verify) and body.
 *
 * @example
 * const proxy = await startRecordingProxy(moto.endpoint);
 * const s3 = new S3Client(s3TestClientConfig(proxy.url));
 * await publish(...);
 * expect(proxy.requests.filter((r) => r.method === "PUT")).toHaveLength(0);
 * proxy.failNext(1, { status: 503, match: (r) => r.method === "PUT" });
 */
export async function startRecordingProxy(targetUrl: string): Promise<RecordingProxy> {
  const target = new URL(targetUrl);
  // Keep-alive towards the target, destroyed with the proxy so that no socket outlives a test.
  const agent = new Agent({ keepAlive: true });
  const requests: RecordedRequest[] = [];
  let faults: Fault[] = [];
  let delayMs = 0;
  let denyAnonymous = false;
  let hold: RecordingProxy["hold"];
  let rewrite: RecordingProxy["rewrite"];

  const takeFault = (recorded: RecordedRequest): Fault | undefined => {
    const index = faults.findIndex((fault) => fault.match(recorded));
    return index === -1 ? undefined : faults.splice(index, 1)[0];
  };

  const handle = async (incoming: IncomingMessage, response: ServerResponse) => {
    const recorded: RecordedRequest = {
      method: incoming.method ?? "GET",
      path: incoming.url ?? "/",
      host: incoming.headers.host,
      signed: isSigned(incoming),
      headers: incoming.headers,
      body: "",
      status: undefined,
      fault: undefined,
      receivedAt: performance.now(),
      answeredAt: undefined,
    };
    requests.push(recorded);
    response.once("close", () => {
      recorded.answeredAt = performance.now();
    });
    // The whole body is read before a fault is chosen, so that `match` can see it: IAM and STS
    // name their action only in the body. Requests here are small documents and API calls.
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    recorded.body = body.toString("utf8");
    const settled = hold ? await hold(recorded) : undefined;
    if (settled) response.once("close", settled);
    const deny = denyAnonymous && !recorded.signed;
    // Faults go to requests in order of arrival, whatever the delay.
    const fault = deny ? undefined : takeFault(recorded);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));

    if (deny || fault?.kind === "fail") {
      const status = fault?.kind === "fail" ? fault.status : 403;
      recorded.fault = deny ? "deny" : "fail";
      recorded.status = status;
      response.writeHead(status, { "content-type": "application/xml" });
      response.end(
        fault?.kind === "fail"
          ? (fault.body ?? injectedError(status, recorded.headers.authorization))
          : accessDenied,
      );
      return;
    }
    if (fault?.kind === "reset" && !fault.afterForwarding) {
      recorded.fault = "reset";
      incoming.socket.destroy();
      return;
    }

    const upstream = request({
      host: target.hostname,
      port: target.port,
      method: incoming.method,
      path: incoming.url,
      // The raw list keeps every header as sent: case, order, repeats, and Host.
      headers: incoming.rawHeaders,
      agent,
    });
    upstream.on("response", (answer) => {
      if (fault?.kind === "reset") {
        answer.resume();
        answer.on("end", () => {
          recorded.fault = "reset";
          incoming.socket.destroy();
        });
        return;
      }
      recorded.status = answer.statusCode;
      if (!rewrite) {
        response.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
        answer.pipe(response);
        return;
      }
      const rewriting = rewrite;
      const chunks: Buffer[] = [];
      answer.on("data", (chunk: Buffer) => chunks.push(chunk));
      answer.on("end", () => {
        const original = Buffer.concat(chunks).toString("utf8");
        const body = Buffer.from(rewriting(recorded, original) ?? original);
        const headers = { ...answer.headers, "content-length": String(body.length) };
        response.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
        response.end(body);
      });
    });
    upstream.on("error", (error) => {
      recorded.status = 502;
      if (response.headersSent) {
        response.destroy(error);
        return;
      }
      response.writeHead(502, { "content-type": "text/plain" });
      response.end(`recording proxy: ${targetUrl} failed: ${error.message}`);
    });
    upstream.end(body);
  };

  const server = createServer((incoming, response) => {
    handle(incoming, response).catch((error: unknown) => response.destroy(error as Error));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no TCP port");

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    get hold() {
      return hold;
    },
    set hold(value: RecordingProxy["hold"]) {
      hold = value;
    },
    get rewrite() {
      return rewrite;
    },
    set rewrite(value: RecordingProxy["rewrite"]) {
      rewrite = value;
    },
    get delayMs() {
      return delayMs;
    },
    set delayMs(value: number) {
      delayMs = value;
    },
    get denyAnonymous() {
      return denyAnonymous;
    },
    set denyAnonymous(value: boolean) {
      denyAnonymous = value;
    },
    failNext(count, options = {}) {
      for (let i = 0; i < count; i++)
        faults.push({
          kind: "fail",
          status: options.status ?? 503,
          body: options.body,
          match: options.match ?? anyRequest,
        });
    },
    resetNext(count, options = {}) {
      for (let i = 0; i < count; i++)
        faults.push({
          kind: "reset",
          afterForwarding: options.afterForwarding ?? false,
          match: options.match ?? anyRequest,
        });
    },
    clear() {
      requests.length = 0;
      faults = [];
      delayMs = 0;
      denyAnonymous = false;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      });
      return closing;
    },
  };
}

/** SigV4 in the Authorization header, or a presigned URL. */
function isSigned(incoming: IncomingMessage): boolean {
  return incoming.headers.authorization !== undefined || /[?&]X-Amz-Signature=/i.test(incoming.url ?? "");
}

const accessDenied = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>recording-proxy</RequestId></Error>`;

/** The error AWS would send for `status`, in the XML shape of the service named in the signature. */
function injectedError(status: number, authorization: string | undefined): string {
  const [code, message] =
    status === 503
      ? ["ServiceUnavailable", "Service is unable to handle request."]
      : status === 500
        ? ["InternalError", "We encountered an internal error. Please try again."]
        : ["InjectedError", `The recording proxy answered ${status}.`];
  const error = `<Code>${code}</Code><Message>${message}</Message>`;
  // SigV4: Credential=<key>/<date>/<region>/<service>/aws4_request
  const service = /Credential=[^/]*\/[^/]*\/[^/]*\/([^/]*)\//.exec(authorization ?? "")?.[1];
  return service === undefined || service === "s3"
    ? `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${error}<RequestId>recording-proxy</RequestId></Error>`
    : `<ErrorResponse><Error><Type>Receiver</Type>${error}</Error><RequestId>recording-proxy</RequestId></ErrorResponse>`;
}
