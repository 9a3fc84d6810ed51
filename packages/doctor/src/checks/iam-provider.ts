import { awsFix, type ProviderLookup, providerHostPath } from "@irsa-anywhere/iam";
import { STS_ERRORS } from "../check.js";
import { defineCheck } from "../lib/check-model.js";
import { fail, notChecked, type Outcome, pass } from "../lib/outcome.js";

const readActions = ["iam:ListOpenIDConnectProviders", "iam:GetOpenIDConnectProvider"];

/** @internal An IAM OIDC provider exists for exactly this issuer. */
export function judgeProvider(
  lookup: ProviderLookup,
  issuer: string,
  hostPath: string,
  audience: string,
): Outcome {
  if (lookup.kind === "error") {
    return notChecked(
      "NOT_CHECKED_AWS",
      `${lookup.action}: ${lookup.failure.summary}`,
      awsFix(lookup.failure, readActions),
    );
  }
  if (lookup.kind === "found") {
    return pass(lookup.arn, { details: { arn: lookup.arn } });
  }
  const nearMisses = lookup.otherArns.filter((arn) => {
    const other = providerHostPath(arn);
    return other !== undefined && normalize(other) === normalize(hostPath);
  });
  const sameHost = lookup.otherArns.filter(
    (arn) => providerHostPath(arn)?.split("/")[0]?.toLowerCase() === hostPath.split("/")[0]?.toLowerCase(),
  );
  const hint =
    nearMisses.length > 0
      ? `; there is one for ${nearMisses.map(providerHostPath).join(", ")}, which is not the issuer byte for byte`
      : sameHost.length > 0
        ? `; this host has providers for ${sameHost.map(providerHostPath).join(", ")}`
        : "";
  return fail(
    "ERR_PROVIDER_MISSING",
    `IAM has no OIDC provider for ${hostPath}${hint}`,
    `irsa-anywhere publish registers it, or: aws iam create-open-id-connect-provider --url ${issuer} --client-id-list ${audience}`,
    { sts: STS_ERRORS.noProvider(issuer), details: { expected: hostPath, otherProviders: lookup.otherArns } },
  );
}

/** @internal The provider lists the audience the tokens carry. */
export function judgeProviderAudience(
  lookup: Extract<ProviderLookup, { kind: "found" }>,
  audience: string,
): Outcome {
  const details = { audience, clientIds: lookup.clientIds };
  if (lookup.clientIds.includes(audience)) return pass(`lists ${audience}`, { details });
  return fail(
    "ERR_PROVIDER_AUDIENCE_MISSING",
    `the provider lists ${lookup.clientIds.length ? lookup.clientIds.join(", ") : "no audience"}, not ${audience}, the audience of the tokens`,
    `aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn ${lookup.arn} --client-id ${audience} (or irsa-anywhere publish --audience ${audience})`,
    { sts: STS_ERRORS.audience, details },
  );
}

function normalize(hostPath: string): string {
  return hostPath
    .replace(/^https?:\/\//i, "")
    .replace(/\/+$/, "")
    .toLowerCase();
}

export const iamOidcProviderCheck = defineCheck({
  id: "iam-oidc-provider",
  needs: ["aws", "hostPath", "providerLookup", "audience"],
  provides: {
    provider: { reason: "the provider could not be read", code: "SKIP_NO_PROVIDER" },
    providerNotMissing: {
      reason: "STS would find no OIDC provider for the issuer (see iam-oidc-provider); not sent",
      code: "SKIP_NO_PROVIDER",
    },
  },
  run: ({ hostPath, providerLookup, audience }, env) => {
    const outcome = judgeProvider(providerLookup, env.issuer, hostPath, audience);
    if (providerLookup.kind === "missing") {
      return {
        ...outcome,
        missing: { provider: { reason: "there is no provider", code: "SKIP_NO_PROVIDER" } },
      };
    }
    return {
      ...outcome,
      facts: {
        providerNotMissing: true,
        ...(providerLookup.kind === "found" ? { provider: providerLookup } : {}),
      },
    };
  },
});

export const iamProviderAudienceCheck = defineCheck({
  id: "iam-provider-audience",
  needs: ["provider", "audience"],
  run: ({ provider, audience }) => judgeProviderAudience(provider, audience),
});
