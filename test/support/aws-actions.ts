// The IAM action behind each request a command sent, read from what the recording proxy saw: how
// the examples/iam policies are checked against what the commands really do.
import type { RecordedRequest } from "./recording-proxy.js";

/**
 * The IAM actions of each CloudFront (REST) or ACM (JSON) request; other services' requests give none.
 *
 * @example
 * const used = new Set(cloudFrontAndAcmActions(proxy.requests));
 */
export function cloudFrontAndAcmActions(requests: readonly RecordedRequest[]): string[] {
  return requests.flatMap((r) => {
    const target = String(r.headers["x-amz-target"] ?? "");
    if (target.startsWith("CertificateManager."))
      return [`acm:${target.slice("CertificateManager.".length)}`];
    const path = r.path.split("?")[0] ?? "";
    if (!path.startsWith("/2020-05-31/")) return [];
    const rest = path.slice("/2020-05-31/".length);
    const table: Array<[string, RegExp, string[]]> = [
      ["GET", /^distribution$/, ["cloudfront:ListDistributions"]],
      // CreateDistributionWithTags is authorised as both.
      ["POST", /^distribution$/, ["cloudfront:CreateDistribution", "cloudfront:TagResource"]],
      ["GET", /^distribution\/[^/]+$/, ["cloudfront:GetDistribution"]],
      ["POST", /^distribution\/[^/]+\/invalidation$/, ["cloudfront:CreateInvalidation"]],
      ["GET", /^distribution\/[^/]+\/invalidation\/[^/]+$/, ["cloudfront:GetInvalidation"]],
      ["GET", /^origin-access-control$/, ["cloudfront:ListOriginAccessControls"]],
      ["POST", /^origin-access-control$/, ["cloudfront:CreateOriginAccessControl"]],
    ];
    const row = table.find(([method, pattern]) => method === r.method && pattern.test(rest));
    if (!row) throw new Error(`no IAM action known for CloudFront ${r.method} ${path}`);
    return row[2];
  });
}
