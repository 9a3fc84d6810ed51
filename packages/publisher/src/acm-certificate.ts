import type { ACMClient } from "@aws-sdk/client-acm";
import { isDnsSubdomain, quoteInput } from "@irsa-anywhere/errors";
import { translateAwsError } from "@irsa-anywhere/iam";
import { PublishError } from "./errors.js";

/** CloudFront takes its viewer certificates from ACM in this region only. */
export const CLOUDFRONT_CERTIFICATE_REGION = "us-east-1";

/**
 * Checks a custom issuer domain's form: a lower-case DNS name with at least two labels, no port,
 * no scheme. Made before any request, so a typo costs nothing.
 *
 * @throws {PublishError} `ERR_CLOUDFRONT_INVALID`.
 */
export function validateIssuerDomain(domain: string): string {
  if (!isDnsSubdomain(domain) || !domain.includes(".") || /^[\d.]+$/.test(domain)) {
    throw new PublishError(
      "ERR_CLOUDFRONT_INVALID",
      `--domain ${quoteInput(domain)} is not a DNS name; give the issuer's host alone, in lower case, e.g. --domain oidc.example.com`,
    );
  }
  return domain;
}

/**
 * The region an ACM certificate ARN names, read from the ARN alone (no request), so that a
 * certificate CloudFront cannot use is refused before anything is created.
 *
 * @throws {PublishError} `ERR_CERTIFICATE_UNUSABLE` when it is not an ACM certificate ARN.
 */
export function certificateRegion(arn: string): string {
  const match = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate\/[A-Za-z0-9-]+$/.exec(arn);
  if (!match?.[1]) {
    throw new PublishError(
      "ERR_CERTIFICATE_UNUSABLE",
      `--certificate-arn ${quoteInput(arn)} is not an ACM certificate ARN (arn:aws:acm:us-east-1:ACCOUNT:certificate/ID); copy it from aws acm list-certificates --region us-east-1`,
    );
  }
  return match[1];
}

/**
 * Refuses, from the ARN alone, a certificate that is not in the region CloudFront takes them from.
 *
 * @throws {PublishError} `ERR_CERTIFICATE_UNUSABLE`.
 */
export function refuseCertificateOutsideCloudFrontRegion(arn: string, domain: string): void {
  const region = certificateRegion(arn);
  if (region !== CLOUDFRONT_CERTIFICATE_REGION) {
    throw new PublishError(
      "ERR_CERTIFICATE_UNUSABLE",
      `certificate ${arn} is in ${region}, and CloudFront uses certificates from ${CLOUDFRONT_CERTIFICATE_REGION} only; request one there (aws acm request-certificate --region ${CLOUDFRONT_CERTIFICATE_REGION} --domain-name ${domain} --validation-method DNS) and give its ARN`,
    );
  }
}

/** Whether a certificate name (`oidc.example.com`, `*.example.com`) covers `domain`. */
export function certificateNameCovers(name: string, domain: string): boolean {
  const lower = name.toLowerCase();
  if (!lower.startsWith("*.")) return lower === domain;
  const dot = domain.indexOf(".");
  return dot > 0 && domain.slice(dot + 1) === lower.slice(2);
}

/**
 * Checks that CloudFront can serve `domain` with the certificate: in us-east-1 (from the ARN,
 * before any request), issued, and naming the domain (exactly or by a one-label wildcard).
 *
 * @throws {PublishError} `ERR_CERTIFICATE_UNUSABLE`, one line that says what to do.
 */
export async function checkCertificate(options: {
  acm: typeof import("@aws-sdk/client-acm");
  client: () => Promise<ACMClient>;
  arn: string;
  domain: string;
}): Promise<void> {
  const { arn, domain } = options;
  refuseCertificateOutsideCloudFrontRegion(arn, domain);
  let certificate: import("@aws-sdk/client-acm").CertificateDetail | undefined;
  try {
    const client = await options.client();
    certificate = (await client.send(new options.acm.DescribeCertificateCommand({ CertificateArn: arn })))
      .Certificate;
  } catch (error) {
    if ((error as { name?: string }).name === "ResourceNotFoundException") {
      throw new PublishError(
        "ERR_CERTIFICATE_UNUSABLE",
        `certificate ${arn} does not exist in this account's ACM in ${CLOUDFRONT_CERTIFICATE_REGION}; check --certificate-arn (aws acm list-certificates --region ${CLOUDFRONT_CERTIFICATE_REGION})`,
        { cause: error },
      );
    }
    throw translateAwsError(error, { action: "acm:DescribeCertificate", resource: arn });
  }
  const status = certificate?.Status ?? "UNKNOWN";
  if (status !== "ISSUED") {
    throw new PublishError(
      "ERR_CERTIFICATE_UNUSABLE",
      `certificate ${arn} is ${status}, not ISSUED; ${status === "PENDING_VALIDATION" ? "add the DNS validation record ACM asks for (aws acm describe-certificate) and run again once it is issued" : "request a new one for the domain"}`,
    );
  }
  const names = [
    ...new Set([certificate?.DomainName ?? "", ...(certificate?.SubjectAlternativeNames ?? [])]),
  ].filter(Boolean);
  if (!names.some((name) => certificateNameCovers(name, domain))) {
    throw new PublishError(
      "ERR_CERTIFICATE_UNUSABLE",
      `certificate ${arn} is for ${names.join(", ") || "no name"}, not ${domain}; give a certificate whose names cover --domain ${domain}`,
    );
  }
}
