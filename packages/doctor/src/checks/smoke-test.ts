import type { STSClient } from "@aws-sdk/client-sts";
import { quoteInput } from "@irsa-anywhere/errors";
import { describeAwsFailure, loadAwsSdk } from "@irsa-anywhere/iam";
import { decodeProtectedHeader, importJWK, jwtVerify } from "jose";
import { STS_ERRORS } from "../check.js";
import { defineCheck } from "../lib/check-model.js";
import { fail, type Outcome, pass } from "../lib/outcome.js";
import { mintServiceAccountToken, SMOKE_TOKEN_LIFETIME_S } from "../lib/service-account-token.js";
import { type PublishedKeys, STS_ALGORITHMS } from "./jwks.js";

/** @internal What STS would use to verify the token. */
export interface Verifier {
  issuer: string;
  /** The published keys, when the JWKS could be read. */
  published: PublishedKeys | undefined;
  /** The discovery document's `issuer`, when it could be read. */
  discoveryIssuer: unknown;
  /** The audiences STS accepts: the IAM provider's client IDs, or else the expected audience. */
  audiences: readonly string[];
  now: Date;
}

/**
 * @internal
 * Verifies a token the way STS does before it looks at any role: the issuer's discovery document
 * names the token's `iss`; the key is the JWKS entry with the token's `kid` (or, for a token
 * without one, the entry with an empty kid); the signature, `iss`, `aud` (one of the provider's
 * client IDs), `exp`, `nbf` and the algorithm check out.
 */
export async function verifyAsSts(token: string, verifier: Verifier): Promise<Outcome> {
  const header = decodeProtectedHeader(token);
  const kid = typeof header.kid === "string" ? header.kid : "";
  const details = {
    kid,
    alg: header.alg,
    audiences: [...verifier.audiences],
    lifetimeS: SMOKE_TOKEN_LIFETIME_S,
  };
  if (verifier.discoveryIssuer !== verifier.issuer) {
    return fail(
      "ERR_TOKEN_NO_DISCOVERY",
      "STS would find no discovery document naming the token's issuer (see discovery checks above)",
      "fix the discovery document first",
      { sts: STS_ERRORS.noKey, details },
    );
  }
  if (!verifier.published) {
    return fail(
      "ERR_TOKEN_NO_JWKS",
      "STS would find no usable JWKS (see the JWKS checks above)",
      "fix the JWKS first",
      {
        sts: STS_ERRORS.noKey,
        details,
      },
    );
  }
  const jwk = verifier.published.jwks.find((candidate) => (candidate.kid ?? "") === kid);
  if (!jwk) {
    return fail(
      "ERR_TOKEN_KEY_MISSING",
      `the JWKS has no key with kid ${quoteInput(kid)}, the kid kube-apiserver puts in tokens signed with this key`,
      "publish the cluster's current key: irsa-anywhere publish <key source> ...",
      { sts: STS_ERRORS.noKey, details },
    );
  }
  try {
    const key = await importJWK(jwk as Parameters<typeof importJWK>[0], header.alg);
    await jwtVerify(token, key, {
      issuer: verifier.issuer,
      audience: [...verifier.audiences],
      algorithms: [...STS_ALGORITHMS],
      currentDate: verifier.now,
      requiredClaims: ["exp", "iat", "sub"],
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const claim = (error as { claim?: string }).claim;
    if (code === "ERR_JWT_CLAIM_VALIDATION_FAILED" && claim === "aud") {
      return fail(
        "ERR_TOKEN_AUDIENCE",
        `the token's audience is not one the IAM provider lists (${verifier.audiences.join(", ")})`,
        "add the audience to the provider (irsa-anywhere publish --audience A) or mint tokens for one it lists",
        { sts: STS_ERRORS.audience, details },
      );
    }
    if (code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED") {
      return fail(
        "ERR_TOKEN_SIGNATURE",
        `the published key ${quoteInput(kid)} does not verify the signature: the JWKS holds another key under this kid`,
        "republish the cluster's keys: irsa-anywhere publish <key source> ...",
        { sts: STS_ERRORS.noKey, details },
      );
    }
    return fail(
      "ERR_TOKEN_REFUSED",
      `STS would refuse the token: ${code ?? "error"}${claim ? ` (claim ${claim})` : ""}`,
      "check the checks above",
      { details },
    );
  }
  return pass(
    `a token for ${verifier.audiences.length === 1 ? verifier.audiences[0] : "the audience"} signed with key ${kid || '""'} (${String(header.alg)}) verifies against the published JWKS`,
    { details },
  );
}

/**
 * @internal
 * Calls AssumeRoleWithWebIdentity with the token, as the AWS SDK in a pod does, and reports the
 * assumed-role ARN. The credentials STS returns are dropped at once.
 */
export async function assumeRoleWithToken(
  token: string,
  client: STSClient,
  roleArn: string,
  redact: (text: string) => string,
): Promise<Outcome> {
  const sts = loadAwsSdk<typeof import("@aws-sdk/client-sts")>(import.meta.url, "@aws-sdk/client-sts");
  try {
    const answer = await client.send(
      new sts.AssumeRoleWithWebIdentityCommand({
        RoleArn: roleArn,
        RoleSessionName: "irsa-anywhere-doctor",
        WebIdentityToken: token,
        DurationSeconds: 900,
      }),
    );
    const assumed = answer.AssumedRoleUser?.Arn ?? "(no ARN in the answer)";
    return pass(`assumed ${assumed}`, { details: { roleArn, assumedRoleArn: assumed } });
  } catch (error) {
    const failure = describeAwsFailure(error);
    const message = redact(((error as { message?: string }).message ?? "").split("\n")[0] ?? "");
    const said = `${failure.name}${message && message !== failure.name ? `: ${message}` : ""}`;
    if (failure.name === "InvalidIdentityToken" || failure.name === "InvalidIdentityTokenException") {
      return fail(
        "ERR_STS_INVALID_TOKEN",
        `STS refused the token: ${said}`,
        "fix the checks above that name this STS error",
        {
          sts: said,
          details: { roleArn },
        },
      );
    }
    if (failure.kind === "access-denied") {
      return fail(
        "ERR_STS_ACCESS_DENIED",
        `STS refused: ${said}`,
        "fix the role's trust policy (see role-trust-policy)",
        {
          sts: STS_ERRORS.notAuthorized,
          details: { roleArn },
        },
      );
    }
    if (failure.name === "IDPCommunicationError" || failure.name === "IDPCommunicationErrorException") {
      return fail(
        "ERR_STS_IDP_COMMUNICATION",
        `STS could not fetch the issuer's documents: ${said}`,
        "make the documents reachable (see discovery checks)",
        {
          sts: said,
          details: { roleArn },
        },
      );
    }
    return fail(
      "ERR_STS_FAILED",
      `AssumeRoleWithWebIdentity failed: ${redact(failure.summary)}`,
      "check the network and AWS_REGION / AWS_ENDPOINT_URL",
      {
        details: { roleArn },
      },
    );
  }
}

export const smokeTokenCheck = defineCheck({
  id: "smoke-token",
  needs: ["smokeTest", "serviceAccount", "hostPath", "audience"],
  uses: ["annotations", "jwks", "discoveryDocument", "provider"],
  provides: {
    smokeToken: {
      reason: "STS would refuse the token (see smoke-token); not sent",
      code: "SKIP_TOKEN_REFUSED",
    },
  },
  run: async (
    { smokeTest, serviceAccount, audience, annotations, jwks, discoveryDocument, provider },
    env,
  ) => {
    // The token lives in the facts of this run only: it is never printed, logged, stored, or put in a message.
    const token = await mintServiceAccountToken({
      signingKey: smokeTest,
      issuer: env.issuer,
      audience,
      account: serviceAccount,
      uid: annotations?.uid,
      now: env.now,
    });
    const redact = (text: string) =>
      text
        .split(token)
        .join("[token]")
        .replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, "[token]");
    const verified = await verifyAsSts(token, {
      issuer: env.issuer,
      published: jwks,
      discoveryIssuer: discoveryDocument?.issuer,
      audiences: provider ? provider.clientIds : [audience],
      now: env.now,
    });
    const outcome = { ...verified, reason: redact(verified.reason) };
    return verified.status === "fail" ? outcome : { ...outcome, facts: { smokeToken: { token, redact } } };
  },
});

export const smokeAssumeRoleCheck = defineCheck({
  id: "smoke-assume-role",
  needs: ["smokeToken", "aws", "role", "providerNotMissing", "trust"],
  run: async ({ smokeToken, role }, env) =>
    assumeRoleWithToken(smokeToken.token, await env.sts(), role.arn, smokeToken.redact),
});
