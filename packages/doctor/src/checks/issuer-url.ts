import { issuerHostPath } from "@irsa-anywhere/discovery";
import { defineCheck } from "../lib/check-model.js";
import { fail, pass } from "../lib/outcome.js";

export const issuerUrlCheck = defineCheck({
  id: "issuer-url",
  needs: [],
  provides: { hostPath: { reason: "needs a valid issuer URL", code: "SKIP_NO_ISSUER" } },
  run: (_, env) => {
    let hostPath: string;
    try {
      hostPath = issuerHostPath(env.issuer);
    } catch (error) {
      return fail(
        "ERR_ISSUER_URL_INVALID",
        (error as Error).message,
        "use an issuer of the form https://host[/path] in the cluster (spec.podIamConfig.serviceAccountIssuer) and publish under it",
      );
    }
    return { ...pass(`IAM names its provider ${hostPath}`), facts: { hostPath } };
  },
});
