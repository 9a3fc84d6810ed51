import { withExitCodes } from "../command-help.js";
import { defineCommand } from "../command-module.js";
import { emit } from "../emit.js";
import { issuerOption } from "../issuer-option.js";
import { hasKeySource, type KeySourceArgs, keySourceOptions, readKeys } from "../key-sources.js";
import { OUT_OPTION } from "../out-option.js";

export interface DiscoveryArgs extends KeySourceArgs {
  issuer: string;
  "jwks-uri"?: string | undefined;
  out?: string | undefined;
}

export const discoveryCommand = defineCommand({
  command: "discovery",
  describe: "Print the OIDC discovery document (.well-known/openid-configuration) for an issuer",
  builder: (y) =>
    withExitCodes(keySourceOptions(y))
      .option("issuer", issuerOption("Issuer URL, https:// with no trailing slash"))
      .option("jwks-uri", {
        type: "string",
        requiresArg: true,
        describe: "Where the JWKS is served (default <issuer>/keys.json)",
      })
      .option("out", OUT_OPTION)
      .example(
        "$0 discovery --issuer https://oidc.example.com/prod --key sa.pub",
        "Signing algorithms taken from the key",
      ),
  handler: (args) => runDiscovery(args),
});

export async function runDiscovery(args: DiscoveryArgs): Promise<void> {
  // Loaded here, so that the other commands never pay for it.
  const { openIdConfiguration, serializeOpenIdConfiguration } = await import("@irsa-anywhere/discovery");
  const keys = hasKeySource(args) ? await readKeys(args) : [];
  const document = openIdConfiguration({
    issuer: args.issuer,
    algorithms: keys.map((key) => key.alg),
    ...(args["jwks-uri"] === undefined ? {} : { jwksUri: args["jwks-uri"] }),
  });
  await emit(serializeOpenIdConfiguration(document), args.out);
}
