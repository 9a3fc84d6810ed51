import { openIdConfiguration, serializeOpenIdConfiguration } from "@irsa-anywhere/discovery";
import { emit } from "../emit.js";
import { hasKeySource, type KeySourceArgs, readKeys } from "../key-sources.js";

export interface DiscoveryArgs extends KeySourceArgs {
  issuer: string;
  "jwks-uri"?: string | undefined;
  out?: string | undefined;
}

export async function runDiscovery(args: DiscoveryArgs): Promise<void> {
  const keys = hasKeySource(args) ? await readKeys(args) : [];
  const document = openIdConfiguration({
    issuer: args.issuer,
    algorithms: keys.map((key) => key.alg),
    ...(args["jwks-uri"] === undefined ? {} : { jwksUri: args["jwks-uri"] }),
  });
  await emit(serializeOpenIdConfiguration(document), args.out);
}
