import type { IncomingHttpHeaders } from "node:http";
import type { DistributionSummary } from "@aws-sdk/client-cloudfront";
import { quoteInput } from "@irsa-anywhere/errors";
import { awsFix, describeAwsFailure, loadAwsSdk } from "@irsa-anywhere/iam";
import { defineCheck } from "../lib/check-model.js";
import { fail, notChecked, type Outcome, pass, skip } from "../lib/outcome.js";

/** An S3 REST endpoint as a CloudFront origin: `BUCKET.s3[.REGION].amazonaws.com[.cn]`. */
const S3_ORIGIN = /^(?<bucket>.+)\.s3(?:[.-](?<region>[a-z]{2}(?:-[a-z]+)+-\d+))?\.amazonaws\.com(?:\.cn)?$/;

/** @internal CloudFront serves the issuer: its own host, or an answer with CloudFront's request id. */
export function servedByCloudFront(issuer: string, headers: IncomingHttpHeaders): boolean {
  return (
    new URL(issuer).hostname.endsWith(".cloudfront.net") ||
    headers["x-amz-cf-id"] !== undefined ||
    /CloudFront/i.test(String(headers.via ?? ""))
  );
}

/** @internal The distribution that answers for `host`: by its own name or an alternate one. */
export function distributionFor(
  distributions: readonly DistributionSummary[],
  host: string,
): DistributionSummary | undefined {
  const name = host.toLowerCase();
  return distributions.find(
    (d) =>
      d.DomainName?.toLowerCase() === name || (d.Aliases?.Items ?? []).some((a) => a.toLowerCase() === name),
  );
}

/**
 * @internal
 * The distribution is there, deployed, reads an S3 bucket through an origin access control (the
 * bucket stays private), and serves the same bytes as the objects: what an edge still caches
 * after a publish is what STS gets.
 */
export const cloudFrontDistributionCheck = defineCheck({
  id: "cloudfront-distribution",
  needs: ["aws", "discovery", "jwksAnswer", "discoveryDocument"],
  run: async ({ discovery, jwksAnswer, discoveryDocument }, env): Promise<Outcome> => {
    if (!servedByCloudFront(env.issuer, discovery.headers)) {
      return skip("the issuer is not served by CloudFront", "SKIP_NOT_CLOUDFRONT");
    }
    const host = new URL(env.issuer).hostname;
    const cf = loadAwsSdk<typeof import("@aws-sdk/client-cloudfront")>(
      import.meta.url,
      "@aws-sdk/client-cloudfront",
    );
    const distributions: DistributionSummary[] = [];
    try {
      const client = await env.cloudFront();
      let marker: string | undefined;
      for (let page = 0; page < 100; page++) {
        const list = await client.send(new cf.ListDistributionsCommand(marker ? { Marker: marker } : {}));
        distributions.push(...(list.DistributionList?.Items ?? []));
        if (!list.DistributionList?.IsTruncated || !list.DistributionList.NextMarker) break;
        marker = list.DistributionList.NextMarker;
      }
    } catch (error) {
      const failure = describeAwsFailure(error);
      return notChecked(
        "NOT_CHECKED_AWS",
        `cloudfront:ListDistributions: ${failure.summary}`,
        awsFix(failure, ["cloudfront:ListDistributions"]),
      );
    }
    const distribution = distributionFor(distributions, host);
    if (!distribution) {
      return fail(
        "ERR_DISTRIBUTION_MISSING",
        `no CloudFront distribution of this account answers for ${host}`,
        "irsa-anywhere publish --cloudfront creates it; with --domain, the distribution must list the domain as an alternate name",
        { details: { host } },
      );
    }
    const details = { id: distribution.Id, domainName: distribution.DomainName, status: distribution.Status };
    if (distribution.Status !== "Deployed") {
      return fail(
        "ERR_DISTRIBUTION_NOT_DEPLOYED",
        `distribution ${distribution.Id} is ${distribution.Status}, not Deployed: its edges may not serve its configuration yet`,
        `wait for it (aws cloudfront wait distribution-deployed --id ${distribution.Id}) and run doctor again`,
        { details },
      );
    }
    const origin = (distribution.Origins?.Items ?? []).find((o) => S3_ORIGIN.test(o.DomainName ?? ""));
    if (!origin?.OriginAccessControlId) {
      return fail(
        "ERR_DISTRIBUTION_ORIGIN",
        origin
          ? `distribution ${distribution.Id} reads ${origin.DomainName} without an origin access control, so the bucket must be public or the reads fail`
          : `distribution ${distribution.Id} has no S3 bucket origin (${(distribution.Origins?.Items ?? []).map((o) => o.DomainName).join(", ") || "none"})`,
        "irsa-anywhere publish --cloudfront makes a distribution whose origin is the bucket, read through an origin access control that always signs",
        { details },
      );
    }
    const groups = S3_ORIGIN.exec(origin.DomainName ?? "")?.groups ?? {};
    const bucket = groups.bucket ?? "";
    const region = groups.region ?? "us-east-1";
    const originPath = (origin.OriginPath ?? "").replace(/^\/+|\/+$/g, "");
    const keyOf = (url: string) =>
      [originPath, decodeURIComponent(new URL(url).pathname).replace(/^\/+/, "")].filter(Boolean).join("/");
    const documents = [
      { url: `${env.issuer}/.well-known/openid-configuration`, served: discovery.body },
      { url: discoveryDocument.jwksUri, served: jwksAnswer.body },
    ];
    const stale: string[] = [];
    const s3 = loadAwsSdk<typeof import("@aws-sdk/client-s3")>(import.meta.url, "@aws-sdk/client-s3");
    for (const document of documents) {
      const key = keyOf(document.url);
      let stored: string;
      try {
        const client = await env.s3(region);
        const object = await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: key }));
        stored = (await object.Body?.transformToString("utf-8")) ?? "";
      } catch (error) {
        const failure = describeAwsFailure(error);
        return notChecked(
          "NOT_CHECKED_AWS",
          `s3:GetObject s3://${bucket}/${key}: ${failure.summary}`,
          awsFix(failure, ["s3:GetObject"]),
          details,
        );
      }
      if (stored !== document.served)
        stale.push(`/${keyOf(document.url).slice(originPath ? originPath.length + 1 : 0)}`);
    }
    if (stale.length > 0) {
      return fail(
        "ERR_DISTRIBUTION_STALE",
        `${host} serves other bytes than s3://${bucket}/ holds for ${stale.map((p) => quoteInput(p)).join(" and ")}: an edge still caches an older copy`,
        `aws cloudfront create-invalidation --distribution-id ${distribution.Id} --paths ${stale.join(" ")} (irsa-anywhere publish --cloudfront makes it when it changes a document)`,
        { details },
      );
    }
    return pass(
      `distribution ${distribution.Id} (${distribution.DomainName}) is deployed, reads s3://${bucket} through origin access control ${origin.OriginAccessControlId}, and serves the objects' bytes`,
      { details: { ...details, bucket, originAccessControlId: origin.OriginAccessControlId } },
    );
  },
});
