import type { HttpsAnswer, HttpsFailure } from "@irsa-anywhere/discovery";
import { describe, expect, it } from "vitest";
import type { CheckCode } from "../check.js";
import {
  issuerDifference,
  judgeDiscoveryDocument,
  judgeDiscoveryIssuer,
  judgeHeaders,
  judgeReachable,
} from "./documents.js";

const issuer = "https://oidc.example.com/prod";
const answer = (headers: Record<string, string>, status = 200, elapsedMs = 12): HttpsAnswer => ({
  status,
  headers,
  body: "{}",
  elapsedMs,
});

describe("issuerDifference", () => {
  it.each([
    [`${issuer}/`, "has a trailing slash"],
    ["http://oidc.example.com/prod", "uses http instead of https"],
    ["https://OIDC.example.com/prod", "differs in upper and lower case"],
    ["https://OIDC.example.com/prod/", "differs in case and trailing slash"],
    ["https://oidc.example.com/staging", `is not ${issuer}`],
  ])("says how %s differs", (published, words) => {
    expect(issuerDifference(issuer, published)).toBe(words);
  });
});

describe("judgeDiscoveryIssuer", () => {
  it("passes the issuer byte for byte", () => {
    expect(judgeDiscoveryIssuer(issuer, issuer).status).toBe("pass");
  });
  it("fails a trailing slash, saying so", () => {
    const outcome = judgeDiscoveryIssuer(issuer, `${issuer}/`);
    expect(outcome).toMatchObject({ status: "fail", code: "ERR_DISCOVERY_ISSUER_MISMATCH" });
    expect(outcome.reason).toMatch(/has a trailing slash/);
    expect(outcome.fix).toContain(`--issuer ${issuer}`);
  });
  it("fails a missing issuer", () => {
    expect(judgeDiscoveryIssuer(issuer, undefined)).toMatchObject({
      status: "fail",
      code: "ERR_DISCOVERY_ISSUER_MISSING",
    });
  });
});

describe("judgeDiscoveryDocument", () => {
  it.each([
    ["not JSON", "<html></html>", "ERR_DISCOVERY_NOT_JSON"],
    ["a list", "[]", "ERR_DISCOVERY_NOT_OBJECT"],
    ["no jwks_uri", JSON.stringify({ issuer }), "ERR_DISCOVERY_JWKS_URI"],
    [
      "an http jwks_uri",
      JSON.stringify({ issuer, jwks_uri: "http://oidc.example.com/keys.json" }),
      "ERR_DISCOVERY_JWKS_URI",
    ],
  ])("fails %s", (_name, body, code) => {
    const { outcome, document } = judgeDiscoveryDocument(body);
    expect(outcome).toMatchObject({ status: "fail", code });
    expect(document).toBeUndefined();
  });
});

describe("judgeHeaders", () => {
  it.each([
    ["application/json", "public, max-age=300"],
    ["application/json; charset=utf-8", "max-age=3600"],
  ])("passes %s with %s", (contentType, cacheControl) => {
    expect(
      judgeHeaders("JWKS", answer({ "content-type": contentType, "cache-control": cacheControl })).status,
    ).toBe("pass");
  });
  it("takes the JWK Set media type for the JWKS only", () => {
    const headers = { "content-type": "application/jwk-set+json", "cache-control": "max-age=300" };
    expect(judgeHeaders("JWKS", answer(headers)).status).toBe("pass");
    expect(judgeHeaders("discovery document", answer(headers)).status).toBe("warn");
  });
  it.each([
    [
      { "content-type": "text/plain", "cache-control": "max-age=300" },
      /served as text\/plain, not application\/json/,
    ],
    [{ "cache-control": "max-age=300" }, /no Content-Type/],
    [{ "content-type": "application/json" }, /no Cache-Control/],
    [{ "content-type": "application/json", "cache-control": "no-cache" }, /sends every fetch to the origin/],
    [
      { "content-type": "application/json", "cache-control": "public, max-age=0" },
      /sends every fetch to the origin/,
    ],
    [{ "content-type": "application/json", "cache-control": "max-age=604800" }, /more than a day/],
  ])("warns on %j", (headers, reason) => {
    const outcome = judgeHeaders("JWKS", answer(headers));
    expect(outcome).toMatchObject({ status: "warn", code: "WARN_DOCUMENT_HEADERS" });
    // Which header is wrong, and how, is the point of the message.
    expect(outcome.reason).toMatch(reason);
    expect(outcome.fix).toMatch(/Cache-Control: public, max-age=300/);
  });
});

describe("judgeReachable", () => {
  const url = `${issuer}/.well-known/openid-configuration`;
  it.each<[string, HttpsAnswer | HttpsFailure, CheckCode, RegExp]>([
    ["a 404", answer({}, 404), "ERR_DOCUMENT_NOT_FOUND", /irsa-anywhere publish/],
    ["a 403", answer({}, 403), "ERR_DOCUMENT_NOT_PUBLIC", /--public-read-policy/],
    [
      "a redirect",
      answer({ location: "https://elsewhere.example.com/x" }, 301),
      "ERR_DOCUMENT_REDIRECT",
      /issuer/,
    ],
    ["a 500", answer({}, 500), "ERR_DOCUMENT_HTTP_STATUS", /answer 200/],
    [
      "a self-signed certificate",
      {
        kind: "untrusted-certificate",
        message: "the certificate is self-signed (DEPTH_ZERO_SELF_SIGNED_CERT)",
        elapsedMs: 3,
      },
      "ERR_DOCUMENT_CERTIFICATE_UNTRUSTED",
      /--ca-file/,
    ],
    [
      "a timeout",
      { kind: "timeout", message: "no complete answer within 5 s", elapsedMs: 5000 },
      "ERR_DOCUMENT_TIMEOUT",
      /fast/,
    ],
  ])("fails %s, with the STS error it causes", (_name, result, code, fix) => {
    const outcome = judgeReachable("discovery document", url, result);
    expect(outcome).toMatchObject({ status: "fail", code });
    expect(outcome.fix).toMatch(fix);
    expect(outcome.sts).toMatch(/^InvalidIdentityToken: Couldn't retrieve verification key/);
  });
  it("warns on an answer slower than half of STS's limit", () => {
    expect(judgeReachable("JWKS", url, answer({}, 200, 3200))).toMatchObject({
      status: "warn",
      code: "WARN_DOCUMENT_SLOW",
    });
  });
  it("passes a quick 200", () => {
    expect(judgeReachable("JWKS", url, answer({}, 200, 40))).toMatchObject({
      status: "pass",
      code: "OK",
      reason: "HTTP 200 in 40 ms",
    });
  });
});
