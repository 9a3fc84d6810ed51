// A self-hosted OIDC issuer on the loopback interface, serving the documents irsa-anywhere
// publishes over real HTTPS, so that tests can break one link at a time (a wrong issuer, a
// missing key, a slow answer, a certificate nobody trusts) and see what a client makes of it.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { openIdConfiguration, serializeOpenIdConfiguration } from "@irsa-anywhere/discovery";
import { type BuildJwksOptions, buildJwks, type PublicSigningKey, serializeJwks } from "@irsa-anywhere/keys";
import forge from "node-forge";
import { type RunningHttpsServer, startHttpsServer } from "./https-server.js";
import { type CertificateAuthority, issueServerCertificate } from "./tls.js";

/** What one path answers. */
export interface ServedDocument {
  /** Default 200. */
  status?: number;
  /** Replace the default headers (JSON, `Cache-Control: public, max-age=300`, a `Last-Modified`). */
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering, e.g. to be slower than a client's timeout. */
  delayMs?: number;
}

/** A request the issuer received. */
export interface IssuerRequest {
  method: string | undefined;
  path: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

export interface HttpsIssuer {
  /** The issuer URL, e.g. `https://127.0.0.1:41234/prod`. */
  readonly issuer: string;
  /** The CA that signed the server certificate, PEM (what `--ca-file` takes); for a self-signed server, its certificate. */
  readonly caPem: string;
  /** The paths of the two documents, e.g. `/prod/.well-known/openid-configuration` and `/prod/keys.json`. */
  readonly discoveryPath: string;
  readonly jwksPath: string;
  /** What each path answers; anything else is a 404. Tests change one entry to break one link. */
  readonly routes: Map<string, ServedDocument>;
  /** Every request, oldest first. */
  readonly seen: IssuerRequest[];
  /** Serves the two documents exactly as `irsa-anywhere publish` writes them for these keys. */
  publish(keys: readonly PublicSigningKey[], options?: BuildJwksOptions & { lastModified?: Date }): void;
  close(): Promise<void>;
}

export interface HttpsIssuerOptions {
  /** The CA whose certificate serves the issuer. */
  ca: CertificateAuthority;
  /** The issuer's path; default `/prod`. `""` for an issuer at the root. */
  path?: string;
  /**
   * What a path without a route serves, read at each request: e.g. a bucket's objects, as
   * CloudFront in front of the bucket serves them. Default none (404).
   */
  origin?: ((path: string) => Promise<ServedDocument | undefined>) | undefined;
  /** Serve with a self-signed certificate instead of one from `ca`. */
  selfSigned?: boolean;
}

const hosts = ["127.0.0.1", "localhost"];

/**
 * Starts an HTTPS issuer on 127.0.0.1. Its documents are empty (404) until `publish()`.
 *
 * @example
 * const issuer = await startHttpsIssuer({ ca });
 * issuer.publish(keys);
 * await diagnose({ issuer: issuer.issuer, ca: issuer.caPem, keys });
 */
export async function startHttpsIssuer(options: HttpsIssuerOptions): Promise<HttpsIssuer> {
  const path = options.path ?? "/prod";
  const routes = new Map<string, ServedDocument>();
  const seen: IssuerRequest[] = [];
  const tls = options.selfSigned
    ? selfSignedServerCertificate(hosts)
    : issueServerCertificate(options.ca, { hosts });
  const server: RunningHttpsServer = await startHttpsServer(
    async (request, response) => {
      const requestPath = request.url?.split("?")[0];
      seen.push({ method: request.method, path: requestPath, headers: { ...request.headers } });
      const served =
        requestPath === undefined
          ? undefined
          : (routes.get(requestPath) ?? (await options.origin?.(requestPath)));
      if (!served) {
        response.writeHead(404, { "content-type": "text/plain" });
        response.end("not found");
        return;
      }
      if (served.delayMs) await new Promise((resolve) => setTimeout(resolve, served.delayMs));
      if (response.destroyed) return;
      response.writeHead(served.status ?? 200, served.headers ?? defaultHeaders(new Date()));
      response.end(served.body ?? "");
    },
    { cert: tls.certPem, key: tls.keyPem },
  );
  const issuer = `${server.url}${path}`;
  const discoveryPath = `${path}/.well-known/openid-configuration`;
  const jwksPath = `${path}/keys.json`;
  return {
    issuer,
    caPem: options.selfSigned ? tls.certPem : options.ca.certPem,
    discoveryPath,
    jwksPath,
    routes,
    seen,
    publish(keys, publishOptions = {}) {
      const headers = defaultHeaders(publishOptions.lastModified ?? new Date());
      const document = openIdConfiguration({ issuer, algorithms: keys.map((key) => key.alg) });
      routes.set(discoveryPath, { headers, body: serializeOpenIdConfiguration(document) });
      routes.set(jwksPath, { headers, body: serializeJwks(buildJwks(keys, publishOptions)) });
    },
    close: () => server.close(),
  };
}

/** The headers `irsa-anywhere publish` gives the documents on S3. */
function defaultHeaders(lastModified: Date): Record<string, string> {
  return {
    "content-type": "application/json",
    "cache-control": "public, max-age=300",
    "last-modified": lastModified.toUTCString(),
  };
}

/** A server certificate signed by its own key: what a quick `openssl req -x509` gives. */
function selfSignedServerCertificate(names: readonly string[]): { certPem: string; keyPem: string } {
  const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyPem = pair.privateKey.export({ type: "pkcs1", format: "pem" }) as string;
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(
    pair.publicKey.export({ type: "spki", format: "pem" }) as string,
  );
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  certificate.serialNumber = serial.toString("hex");
  certificate.validity.notBefore = new Date(Date.now() - 60_000);
  certificate.validity.notAfter = new Date(Date.now() + 24 * 3_600_000);
  const subject = [{ name: "commonName", value: names[0] ?? "localhost" }];
  certificate.setSubject(subject);
  certificate.setIssuer(subject);
  certificate.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: names.map((name) =>
        /^[\d.]+$/.test(name) ? { type: 7, ip: name } : { type: 2, value: name },
      ),
    },
  ]);
  certificate.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(certificate), keyPem };
}
