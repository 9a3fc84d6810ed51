/**
 * An error shaped as the AWS SDK throws one (`name`, `$fault`, `$metadata`), for failures moto
 * cannot produce: a denied permission, expired credentials, a bucket in another region.
 */
export function sdkError(name: string, status: number, extra: object = {}): Error {
  return Object.assign(new Error(`${name} from AWS`), {
    name,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status, requestId: "REQ123" },
    ...extra,
  });
}
