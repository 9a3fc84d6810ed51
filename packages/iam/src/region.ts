import { IamError } from "./errors.js";

/**
 * The region a client resolved by the SDK's own chain (the one given, `AWS_REGION`, the profile's
 * `region`), or undefined when none names one. One resolution for every command.
 *
 * @example
 * const region = await resolvedRegion(new S3Client({ profile: "prod" }));
 */
export async function resolvedRegion(client: { config: { region: unknown } }): Promise<string | undefined> {
  try {
    const region = client.config.region;
    const value = typeof region === "function" ? await region() : region;
    return typeof value === "string" && value !== "" ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks that a region is a region's name (a DNS label such as `us-west-2`), before it becomes part
 * of an endpoint's host name: `evil.com` would otherwise send the request elsewhere, or fail with
 * an error that names nothing.
 *
 * @throws {IamError} `ERR_REGION_INVALID`.
 *
 * @example
 * validateRegion("us-west-2"); // passes
 */
export function validateRegion(region: string): void {
  if (!/^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$/.test(region)) {
    throw new IamError(
      "ERR_REGION_INVALID",
      `${JSON.stringify(region)} is not an AWS region; give one such as us-west-2 or cn-north-1`,
    );
  }
}
