// An HTTP proxy that forwards everything to one target (moto) unchanged and notes each request,
// so that a bench can count what a client sent. A stripped-down test/support/recording-proxy.ts
// (that file is TypeScript and also injects faults, which a bench never wants).
import { Agent, createServer, request } from "node:http";

/**
 * Starts the proxy on 127.0.0.1. Returns `{ url, requests, close() }`; `requests` holds
 * `{ method, path, action, signed, status }` in order of arrival, and may be emptied between
 * cases. `action` is the IAM action: IAM sends every call as `POST /`, naming it only in the body.
 * `signed` is false for the anonymous reads that publish() makes as STS would.
 */
export async function startCountingProxy(targetUrl) {
  const target = new URL(targetUrl);
  const agent = new Agent({ keepAlive: true });
  const requests = [];

  const server = createServer((incoming, response) => {
    const recorded = {
      method: incoming.method,
      path: incoming.url,
      action: undefined,
      // SigV4 in the Authorization header, or a presigned URL.
      signed: incoming.headers.authorization !== undefined || /[?&]X-Amz-Signature=/i.test(incoming.url),
      status: undefined,
    };
    requests.push(recorded);
    const chunks = [];
    incoming.on("data", (chunk) => chunks.push(chunk));
    incoming.on("end", () => {
      const body = Buffer.concat(chunks);
      if (incoming.method === "POST") {
        recorded.action = /(?:^|&)Action=([A-Za-z]+)/.exec(body.toString("utf8"))?.[1];
      }
      const upstream = request({
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        // Every header as sent, Host included: SigV4 signs it.
        headers: incoming.rawHeaders,
        agent,
      });
      upstream.on("response", (answer) => {
        recorded.status = answer.statusCode;
        response.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
        answer.pipe(response);
      });
      upstream.on("error", (error) => {
        recorded.status = 502;
        if (response.headersSent) return response.destroy(error);
        response.writeHead(502, { "content-type": "text/plain" });
        response.end(`counting proxy: ${targetUrl} failed: ${error.message}`);
      });
      upstream.end(body);
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });

  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      });
    },
  };
}

/** A write: any PUT, or a POST whose action does not only read (IAM's List* and Get*). */
export function isWrite(recorded) {
  return (
    recorded.method === "PUT" || (recorded.method === "POST" && !/^(List|Get)/.test(recorded.action ?? ""))
  );
}
