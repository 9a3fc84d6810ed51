import { generateKeyPairSync } from "node:crypto";
import { openIdConfiguration, serializeOpenIdConfiguration } from "@irsa-anywhere/discovery";
import { buildJwks, kidForPublicKey, publicKeysFromPem, serializeJwks } from "@irsa-anywhere/keys";
import { describe, expect, it } from "vitest";
import { ServeError } from "./errors.js";
import { prepareIssuerDocuments } from "./prepare-documents.js";

const issuer = "https://oidc.example.com";
const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
const keys = publicKeysFromPem(pair.publicKey.export({ type: "spki", format: "pem" }) as string, "sa.pub");
const jwks = serializeJwks(buildJwks(keys));
const discovery = serializeOpenIdConfiguration(openIdConfiguration({ issuer }));

function refusal(bodies: { discovery: string; jwks: string }, forIssuer = issuer): ServeError {
  try {
    prepareIssuerDocuments(forIssuer, bodies, "directory ./site");
  } catch (error) {
    expect(error).toBeInstanceOf(ServeError);
    expect((error as ServeError).message).not.toContain("\n");
    return error as ServeError;
  }
  throw new Error("expected the documents to be refused");
}

describe("prepareIssuerDocuments", () => {
  it("serves an issuer at the root of its host at /keys.json and /.well-known/openid-configuration", () => {
    const documents = prepareIssuerDocuments(issuer, { discovery, jwks });
    expect([...documents.byPath.keys()]).toEqual(["/.well-known/openid-configuration", "/keys.json"]);
    expect(documents.kids).toEqual([kidForPublicKey(pair.publicKey)]);
  });

  it("gives the same ETag to the same bytes, and another to other bytes", () => {
    const once = prepareIssuerDocuments(issuer, { discovery, jwks });
    const again = prepareIssuerDocuments(issuer, { discovery, jwks });
    expect(again.jwks.etag).toBe(once.jwks.etag);
    expect(once.discovery.etag).not.toBe(once.jwks.etag);
    const reformatted = prepareIssuerDocuments(issuer, { discovery, jwks: jwks.trimEnd() });
    expect(reformatted.jwks.etag).not.toBe(once.jwks.etag);
  });

  it.each([
    ["keys.json is not JSON", { discovery, jwks: "{" }],
    ["keys.json is not a JWKS", { discovery, jwks: '{"keys": 1}' }],
    [
      "keys.json carries a private member",
      {
        discovery,
        jwks: JSON.stringify({ keys: [{ ...pair.privateKey.export({ format: "jwk" }), kid: "x" }] }),
      },
    ],
    ["the discovery document is not JSON", { discovery: "<html>", jwks }],
    [
      "the discovery document is for another issuer",
      {
        discovery: serializeOpenIdConfiguration(openIdConfiguration({ issuer: "https://other.example.com" })),
        jwks,
      },
    ],
    [
      "jwks_uri points somewhere else",
      {
        discovery: serializeOpenIdConfiguration(
          openIdConfiguration({ issuer, jwksUri: "https://cdn.example.com/keys.json" }),
        ),
        jwks,
      },
    ],
  ])("refuses documents when %s", (_, bodies) => {
    const error = refusal(bodies);
    expect(error.code).toBe("ERR_DOCUMENTS_INVALID");
    expect(error.isInputError).toBe(true);
    expect(error.message).toContain("directory ./site");
    expect(error.message).not.toMatch(/"d"|PRIVATE/);
  });
});
