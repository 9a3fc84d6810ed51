import { describe, expect, it } from "vitest";
import {
  DiscoveryError,
  documentPaths,
  issuerHostPath,
  openIdConfiguration,
  validateIssuer,
} from "./index.js";

describe("validateIssuer", () => {
  it.each([
    "https://oidc.example.com",
    "https://my-bucket.s3.us-west-2.amazonaws.com/clusters/prod",
    "https://s3.us-west-2.amazonaws.com/my.dotted.bucket/prod",
    "https://oidc.example.com:8443/prod",
  ])("accepts %s unchanged", (issuer) => {
    expect(validateIssuer(issuer)).toBe(issuer);
  });

  it.each([
    ["http://oidc.example.com", /https/],
    ["oidc.example.com/prod", /not a URL/],
    ["https://oidc.example.com/", /slash/],
    ["https://oidc.example.com/prod/", /slash/],
    ["https://oidc.example.com/prod?x=1", /query/],
    ["https://oidc.example.com/prod#top", /fragment/],
    ["https://user:pw@oidc.example.com", /user name/],
    ["https://OIDC.example.com/prod", /canonical/],
  ])("refuses %s, saying what is wrong", (issuer, reason) => {
    let caught: unknown;
    try {
      validateIssuer(issuer);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DiscoveryError);
    expect((caught as DiscoveryError).code).toBe("ERR_ISSUER_INVALID");
    expect((caught as DiscoveryError).message).toMatch(reason);
  });
});

describe("documentPaths", () => {
  it.each([
    ["https://oidc.example.com", ".well-known/openid-configuration", "keys.json"],
    ["https://b.s3.us-east-1.amazonaws.com/a/b", "a/b/.well-known/openid-configuration", "a/b/keys.json"],
  ])("puts %s's documents at the paths its URL implies", (issuer, discovery, jwks) => {
    expect(documentPaths(issuer)).toEqual({ discovery, jwks });
  });

  it("names the IAM provider by host and path", () => {
    expect(issuerHostPath("https://oidc.example.com/prod")).toBe("oidc.example.com/prod");
  });
});

describe("openIdConfiguration", () => {
  it("builds the document STS reads, with the issuer exactly as given", () => {
    const issuer = "https://oidc.example.com/prod";
    expect(openIdConfiguration({ issuer })).toEqual({
      issuer,
      jwks_uri: `${issuer}/keys.json`,
      authorization_endpoint: "urn:kubernetes:programmatic_authorization",
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256"],
      claims_supported: ["sub", "iss"],
    });
  });

  it("lists the keys' algorithms once each, sorted as kube-apiserver sorts them", () => {
    const document = openIdConfiguration({
      issuer: "https://oidc.example.com",
      algorithms: ["RS256", "ES512", "ES384", "ES256", "ES384"],
    });
    expect(document.id_token_signing_alg_values_supported).toEqual(["ES256", "ES384", "ES512", "RS256"]);
  });

  it("takes a jwks_uri elsewhere, but only over https", () => {
    const issuer = "https://oidc.example.com";
    expect(openIdConfiguration({ issuer, jwksUri: "https://cdn.example.com/k.json" }).jwks_uri).toBe(
      "https://cdn.example.com/k.json",
    );
    expect(() => openIdConfiguration({ issuer, jwksUri: "http://cdn.example.com/k.json" })).toThrow(
      DiscoveryError,
    );
  });
});
