import { awsFix, type ProviderLookup, providerHostPath } from "@irsa-anywhere/iam";
import { STS_ERRORS } from "../check.js";
import { fail, notChecked, type Outcome, pass, skip } from "../lib/outcome.js";

const readActions = ["iam:ListOpenIDConnectProviders", "iam:GetOpenIDConnectProvider"];

/** @internal An IAM OIDC provider exists for exactly this issuer. */
export function judgeProvider(
  lookup: ProviderLookup,
  issuer: string,
  hostPath: string,
  audience: string,
): Outcome {
  if (lookup.kind === "error") {
    return notChecked(`${lookup.action}: ${lookup.failure.summary}`, awsFix(lookup.failure, readActions));
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
    `IAM has no OIDC provider for ${hostPath}${hint}`,
    `irsa-anywhere publish registers it, or: aws iam create-open-id-connect-provider --url ${issuer} --client-id-list ${audience}`,
    { sts: STS_ERRORS.noProvider(issuer), details: { expected: hostPath, otherProviders: lookup.otherArns } },
  );
}

/** @internal The provider lists the audience the tokens carry. */
export function judgeProviderAudience(lookup: ProviderLookup, audience: string): Outcome {
  if (lookup.kind === "error") return skip("the provider could not be read");
  if (lookup.kind === "missing") return skip("there is no provider");
  const details = { audience, clientIds: lookup.clientIds };
  if (lookup.clientIds.includes(audience)) return pass(`lists ${audience}`, { details });
  return fail(
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
