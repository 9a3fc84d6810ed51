import { request as httpRequest, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { firstLine, formatMs, trackRequest } from "@irsa-anywhere/errors";
import { type KubeconfigOptions, loadKubeconfig } from "./lib/kubeconfig.js";

/** An API server's answer to a GET, or why there was none. */
export type KubeAnswer = { status: number; body: unknown } | { error: string };

/** A connection to one API server, with the kubeconfig's credentials. */
export interface KubeApi {
  /** The API server's URL, for messages. */
  server: string;
  /** GETs a path (with query) and parses the JSON answer. Never throws. */
  get(path: string): Promise<KubeAnswer>;
}

/**
 * Loads the kubeconfig as kubectl does and returns a reader that GETs raw API paths with its
 * credentials (token, client certificate, exec plugin) and CA, like `kubectl get --raw`, each
 * under `timeoutMs`. It answers status and body and never throws, for a caller (doctor) that
 * reports every answer, a refusal or a 404 included, as a finding of its own.
 *
 * @throws {KubeError} `ERR_KUBECONFIG_INVALID`.
 *
 * @example
 * const api = await connectKube({ kubeconfig: "prod.kubeconfig" }, 15_000);
 * const answer = await api.get("/.well-known/openid-configuration");
 */
export async function connectKube(options: KubeconfigOptions, timeoutMs: number): Promise<KubeApi> {
  const { config, server: configured } = await loadKubeconfig(options);
  const server = configured.replace(/\/+$/, "");
  return {
    server,
    async get(path) {
      const requestOptions: RequestOptions & { headers?: Record<string, string> } = {};
      try {
        await config.applyToHTTPSOptions(requestOptions);
      } catch (error) {
        return { error: `cannot use the kubeconfig's credentials: ${firstLine(error)}` };
      }
      return trackRequest(
        { service: "the Kubernetes API", endpoint: server, operation: `GET ${path.split("?")[0]}` },
        rawGet(`${server}${path}`, requestOptions, timeoutMs),
      );
    },
  };
}

function rawGet(url: string, options: RequestOptions, timeoutMs: number): Promise<KubeAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: KubeAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outgoing.destroy();
      resolve(answer);
    };
    const send = url.startsWith("http:") ? httpRequest : httpsRequest;
    const outgoing = send(
      url,
      { ...options, method: "GET", headers: { ...options.headers, accept: "application/json" } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: the caller sees the text
          }
          finish({ status: response.statusCode ?? 0, body });
        });
        response.on("error", (error) => finish({ error: firstLine(error) }));
      },
    );
    const timer = setTimeout(() => finish({ error: `no answer within ${formatMs(timeoutMs)}` }), timeoutMs);
    outgoing.on("error", (error) => finish({ error: describeNetworkError(error) }));
    outgoing.end();
  });
}

function describeNetworkError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  if (code === "ECONNREFUSED") return "the connection was refused";
  if (code.includes("CERT") || code.includes("SIGNATURE"))
    return `the API server's certificate is not trusted by the kubeconfig (${code})`;
  return firstLine(error);
}
