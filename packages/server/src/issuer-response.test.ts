import { createHash, generateKeyPairSync } from "node:crypto";
import { openIdConfiguration, serializeOpenIdConfiguration } from "@irsa-anywhere/discovery";
import { buildJwks, publicKeysFromPem, serializeJwks } from "@irsa-anywhere/keys";
import { describe, expect, it } from "vitest";
import { etagMatches, issuerResponse } from "./issuer-response.js";
import { type IssuerDocuments, prepareIssuerDocuments } from "./prepare-documents.js";

const issuer = "https://oidc.example.com/clusters/prod";
const pem = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({
  type: "spki",
  format: "pem",
}) as string;
const keys = publicKeysFromPem(pem, "sa.pub");
const jwks = serializeJwks(buildJwks(keys));
const discovery = serializeOpenIdConfiguration(openIdConfiguration({ issuer, algorithms: ["ES256"] }));
const documents: IssuerDocuments = prepareIssuerDocuments(issuer, { discovery, jwks });

const jwksPath = "/clusters/prod/keys.json";
const discoveryPath = "/clusters/prod/.well-known/openid-configuration";

function answer(method: string, url: string, ifNoneMatch?: string, ready = true) {
  const response = issuerResponse(documents, { method, url, ifNoneMatch }, ready);
  const headers: Record<string, string> = {};
  for (let i = 0; i < response.headers.length; i += 2) {
    headers[response.headers[i] ?? ""] = response.headers[i + 1] ?? "";
  }
  return { status: response.status, headers, body: response.body?.toString("utf8") };
}

describe("issuerResponse", () => {
  it("serves keys.json and the discovery document with type, length, ETag and cache headers", () => {
    for (const [path, body] of [
      [jwksPath, jwks],
      [discoveryPath, discovery],
    ] as const) {
      const response = answer("GET", path);
      expect(response.status).toBe(200);
      expect(response.body).toBe(body);
      expect(response.headers).toMatchObject({
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(body)),
        "cache-control": "public, max-age=300",
      });
      const digest = createHash("sha256").update(body).digest("base64url").slice(0, 22);
      expect(response.headers.etag).toBe(`"${digest}"`);
    }
  });

  it("answers HEAD with the same head as GET (the server leaves the body out)", () => {
    expect(answer("HEAD", jwksPath).headers).toEqual(answer("GET", jwksPath).headers);
  });

  it("ignores a query string", () => {
    expect(answer("GET", `${jwksPath}?cache-buster=1`).body).toBe(jwks);
  });

  it("answers 304 with the validators and no body when If-None-Match names the current ETag", () => {
    const { etag } = documents.jwks;
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, `"a",W/${etag} , "b"`, "*"]) {
      const response = answer("GET", jwksPath, header);
      expect(response, header).toMatchObject({ status: 304, body: undefined });
      expect(response.headers).toEqual({ "cache-control": "public, max-age=300", etag });
    }
    expect(answer("GET", jwksPath, '"stale"').status).toBe(200);
    expect(answer("GET", jwksPath, documents.discovery.etag).status).toBe(200);
  });

  it.each(["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])(
    "answers %s on a document with 405 and Allow",
    (method) => {
      const response = answer(method, jwksPath);
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe("GET, HEAD");
    },
  );

  // Paths are compared byte for byte: nothing is decoded or normalized, so nothing else is reachable.
  it.each([
    "/",
    "/keys.json",
    "/clusters/keys.json",
    "/clusters/prod",
    "/clusters/prod/",
    "/clusters/prod/keys.json/",
    "//clusters/prod/keys.json",
    "/clusters//prod/keys.json",
    "/CLUSTERS/prod/keys.json",
    "/clusters/prod/keys%2ejson",
    "/clusters/prod/keys.json%00",
    "/clusters/prod/./keys.json",
    "/clusters/prod/../prod/keys.json",
    "/clusters/prod/.well-known/../keys.json",
    "/..%2f",
    "/..%2fclusters/prod/keys.json",
    "/clusters/prod/..%2f..%2fetc/passwd",
    "/clusters/prod/.irsa-anywhere-state.json",
    "/clusters/prod/.well-known/",
    "https://oidc.example.com/clusters/prod/keys.json",
    "*",
    "",
  ])("answers %j with 404", (path) => {
    expect(answer("GET", path).status).toBe(404);
    expect(answer("POST", path).status).toBe(404);
  });

  it("answers /healthz always and /readyz until shutdown begins", () => {
    expect(answer("GET", "/healthz").status).toBe(200);
    expect(answer("GET", "/healthz", undefined, false).status).toBe(200);
    expect(answer("GET", "/readyz").status).toBe(200);
    expect(answer("HEAD", "/readyz", undefined, false).status).toBe(503);
    expect(answer("POST", "/readyz").status).toBe(405);
  });

  it("hands out the same prepared answer every time: serving allocates nothing", () => {
    const first = issuerResponse(documents, { method: "GET", url: jwksPath }, true);
    expect(issuerResponse(documents, { method: "GET", url: jwksPath }, true)).toBe(first);
    expect(first).toBe(documents.jwks.ok);
  });
});

describe("etagMatches", () => {
  it.each([
    ['"a"', '"a"', true],
    ['W/"a"', '"a"', true],
    ['"b", "a"', '"a"', true],
    ["*", '"a"', true],
    ['"b"', '"a"', false],
    ["a", '"a"', false],
    ['W/"b"', '"a"', false],
    ["", '"a"', false],
  ])("%s against %s: %s", (header, etag, expected) => {
    expect(etagMatches(header, etag)).toBe(expected);
  });
});
