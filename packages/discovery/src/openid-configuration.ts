import { quoteInput } from "@irsa-anywhere/errors";
import type { SigningAlgorithm } from "@irsa-anywhere/keys";
import { DiscoveryError } from "./errors.js";
import { validateIssuer } from "./issuer.js";

/** The OIDC discovery document AWS STS reads at `<issuer>/.well-known/openid-configuration`. */
export interface OpenIdConfiguration {
  issuer: string;
  jwks_uri: string;
  authorization_endpoint: string;
  response_types_supported: string[];
  subject_types_supported: string[];
  id_token_signing_alg_values_supported: SigningAlgorithm[];
  claims_supported: string[];
}

/** What `openIdConfiguration` needs: the issuer and the algorithms of the keys it publishes. */
export interface OpenIdConfigurationOptions {
  /** Exactly as tokens carry it in `iss`. */
  issuer: string;
  /** Default `<issuer>/keys.json`. */
  jwksUri?: string;
  /** The algorithms of the published keys; default `["RS256"]`. */
  algorithms?: readonly SigningAlgorithm[];
}

// Sorted as kube-apiserver sorts them (a sorted string set), so that the document we publish for
// a cluster is byte for byte the one its API server serves at /.well-known/openid-configuration.
const algorithmOrder: readonly SigningAlgorithm[] = ["ES256", "ES384", "ES512", "RS256"];

/**
 * Where an issuer's keys are published: `<issuer>/keys.json`, the `jwks_uri` of the discovery
 * document, and what kube-apiserver's `--service-account-jwks-uri` must name.
 *
 * @example
 * jwksUriOf("https://oidc.example.com/prod"); // "https://oidc.example.com/prod/keys.json"
 */
export function jwksUriOf(issuer: string): string {
  return `${issuer}/keys.json`;
}

/**
 * Builds the openid-configuration document, with the members kube-apiserver serves plus the
 * two that the self-hosted IRSA setup guides publish (`authorization_endpoint`, which
 * Kubernetes marks as programmatic-only, and `claims_supported`). Members are always in the
 * same order, so the same input gives the same bytes.
 *
 * @throws {DiscoveryError} `ERR_ISSUER_INVALID` or `ERR_JWKS_URI_INVALID`.
 *
 * @example
 * openIdConfiguration({ issuer: "https://oidc.example.com/prod", algorithms: ["RS256"] });
 */
export function openIdConfiguration(options: OpenIdConfigurationOptions): OpenIdConfiguration {
  const issuer = validateIssuer(options.issuer);
  const jwksUri = options.jwksUri ?? jwksUriOf(issuer);
  validateJwksUri(jwksUri);
  const wanted = new Set(options.algorithms?.length ? options.algorithms : ["RS256"]);
  return {
    issuer,
    jwks_uri: jwksUri,
    authorization_endpoint: "urn:kubernetes:programmatic_authorization",
    response_types_supported: ["id_token"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: algorithmOrder.filter((alg) => wanted.has(alg)),
    claims_supported: ["sub", "iss"],
  };
}

/**
 * The bytes to publish: two-space indented JSON with a final newline.
 *
 * @example
 * const document = openIdConfiguration({ issuer: "https://oidc.example.com/prod", algorithms: ["RS256"] });
 * await writeFile("site/prod/.well-known/openid-configuration", serializeOpenIdConfiguration(document));
 */
export function serializeOpenIdConfiguration(document: OpenIdConfiguration): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

function validateJwksUri(uri: string): void {
  let url: URL | undefined;
  try {
    url = new URL(uri);
  } catch {
    // reported below
  }
  if (url?.protocol !== "https:" || uri.includes("#")) {
    throw new DiscoveryError(
      "ERR_JWKS_URI_INVALID",
      `jwks_uri ${quoteInput(uri)} must be an https:// URL without a fragment; AWS STS fetches it over https`,
    );
  }
}
