import { withExitCodes } from "../command-help.js";
import { defineCommand } from "../command-module.js";
import { jsonOptions } from "../json-output.js";
import { keySourceOptions } from "../key-sources.js";
import { publishTargetOptions } from "../publish-options.js";
import { runPublish } from "../publish-run.js";

export const publishCommand = defineCommand({
  command: "publish",
  describe:
    "Publish keys.json and the discovery document to S3 (and register the IAM OIDC provider) or a directory",
  builder: (y) =>
    jsonOptions(
      publishTargetOptions(withExitCodes(keySourceOptions(y))),
      "Print the result as one JSON object",
    )
      .example(
        "$0 publish --cluster prod --bucket my-oidc --prefix prod --region us-west-2 --public-read-policy",
        "Right after eksctl anywhere create cluster",
      )
      .example(
        "$0 publish --cluster-jwks --bucket my-oidc --prefix prod",
        "In the cluster, as the scheduled job: no secret needed",
      )
      .example(
        "$0 publish --key sa.pub --issuer https://oidc.example.com/prod --out-dir site",
        "Writes site/prod/keys.json and site/prod/.well-known/openid-configuration",
      ),
  handler: (args) => runPublish(args),
});
