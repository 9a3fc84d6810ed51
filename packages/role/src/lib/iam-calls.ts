import type { IAMClient } from "@aws-sdk/client-iam";
import { loadAwsSdk, translateAwsError } from "@irsa-anywhere/iam";

/** @internal The IAM SDK module, loaded on first use so that importing this package costs nothing. */
export type IamModule = typeof import("@aws-sdk/client-iam");

/** @internal */
export function loadIam(): Promise<IamModule> {
  return Promise.resolve(loadAwsSdk<IamModule>(import.meta.url, "@aws-sdk/client-iam"));
}

/**
 * @internal
 * One IAM call; an AWS failure becomes the one `IamError` reading of it, naming the action and
 * the role, so that a user learns which permission is missing.
 */
export async function iamCall<T>(
  client: IAMClient,
  // Any IAM command: the SDK's own union of them does not accept each command's precise type.
  command: { readonly input: unknown },
  action: string,
  resource: string,
): Promise<T> {
  // T is the caller's reading of the answer, as the command's output type gives it.
  try {
    return (await client.send(command as never)) as T;
  } catch (error) {
    throw translateAwsError(error, { action: `iam:${action}`, resource });
  }
}
