import { createHash, randomUUID } from "node:crypto";
import type { ACMClient } from "@aws-sdk/client-acm";
import type { CloudFrontClient, DistributionConfig, DistributionSummary } from "@aws-sdk/client-cloudfront";
import type { S3Client } from "@aws-sdk/client-s3";
import { documentPathsUnder } from "@irsa-anywhere/discovery";
import { formatMs, quoteInput } from "@irsa-anywhere/errors";
import {
  type AwsClientSettings,
  loadAwsSdk,
  makeAwsClient,
  matchesWildcard,
  partitionOf,
  translateAwsError,
} from "@irsa-anywhere/iam";
import {
  CLOUDFRONT_CERTIFICATE_REGION,
  checkCertificate,
  refuseCertificateOutsideCloudFrontRegion,
  validateIssuerDomain,
} from "./acm-certificate.js";
import type { PolicyStatement } from "./bucket-policy.js";
import { type BucketPolicyOutcome, ensureBucketStatement } from "./bucket-policy-write.js";
import { PublishError } from "./errors.js";
import type { DocumentOutcome } from "./publish-documents.js";

/**
 * CloudFront's managed cache policy CachingOptimized: it caches for as long as the object's own
 * `Cache-Control` says (between 1 s and a year), so the documents' five minutes hold at the edge.
 */
export const CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6";
/** North America and Europe: the cheapest class, and STS reads from AWS's own regions. */
export const DEFAULT_PRICE_CLASS = "PriceClass_100";
/** How long a publish waits for a distribution to deploy, or an invalidation to complete, by default. */
export const DEFAULT_CLOUDFRONT_WAIT_MS = 20 * 60_000;
const DEFAULT_POLL_MS = 15_000;
const ORIGIN_ID = "irsa-anywhere-s3";
const PRICE_CLASSES = ["PriceClass_100", "PriceClass_200", "PriceClass_All"];

/**
 * How to serve a bucket's issuer through CloudFront (`publish --cloudfront`): the bucket stays
 * private, and the issuer is the distribution's URL (or `domain`'s).
 *
 * @example
 * const keys = publicKeysFromPem(await readFile("sa.pub", "utf8"), "sa.pub");
 * const result = await publish({
 *   keys,
 *   bucket: "my-oidc",
 *   prefix: "prod",
 *   region: "us-west-2",
 *   cloudFront: { onProgress: (line) => console.error(line) },
 * });
 * console.log(result.issuer); // https://d111111abcdef8.cloudfront.net/prod
 */
export interface CloudFrontOptions {
  /** A custom issuer host, e.g. `oidc.example.com`; needs `certificateArn`. Default the distribution's own `dXXXX.cloudfront.net`. */
  domain?: string | undefined;
  /** An ACM certificate in us-east-1, issued, covering `domain`. */
  certificateArn?: string | undefined;
  /** Default `PriceClass_100`. */
  priceClass?: string | undefined;
  /** Wait for a new distribution to deploy before registering the IAM provider (default true). */
  wait?: boolean | undefined;
  /** The longest the deployment wait, and the invalidation wait, may each take; default 20 minutes. */
  waitTimeoutMs?: number | undefined;
  /** How often to ask while waiting; default 15 s. */
  pollIntervalMs?: number | undefined;
  /** Told what is being waited for, once per poll: a progress line for the CLI. */
  onProgress?: ((message: string) => void) | undefined;
}

/** What a publish did with the CloudFront distribution that serves the issuer. */
export interface DistributionOutcome {
  /** Empty on a dry run that would create it: CloudFront names it when it is made. */
  id: string;
  arn: string;
  /** `dXXXX.cloudfront.net`. */
  domainName: string;
  /** The custom issuer host it serves, if any. */
  alias?: string;
  action: "create" | "unchanged";
  /**
   * CloudFront's status when the publish last looked: `InProgress` or `Deployed`; `Deployed`,
   * without asking, when a republish that changed nothing read the documents through it.
   */
  status: string;
  /** The invalidation made for the documents that changed; none when none changed. */
  invalidation?: { id: string; paths: string[]; completed: boolean };
}

/** The distribution found or made for the bucket, before the documents are published. */
export interface PreparedDistribution {
  issuer: string;
  distribution: DistributionOutcome;
  bucketPolicy: BucketPolicyOutcome;
  /** Deployed: the issuer URL serves (or will once the documents are there). */
  deployed: boolean;
  /** Things the user should fix that do not stop the publish, such as a public grant left in the policy. */
  warnings: string[];
  /** Invalidates the documents that were written, and waits (bounded) until the edge drops them. */
  invalidate(documents: readonly DocumentOutcome[]): Promise<string[]>;
}

type CloudFrontModule = typeof import("@aws-sdk/client-cloudfront");

/**
 * Finds the distribution this tool made for the bucket and prefix (by its comment) or creates it
 * (an origin access control that always signs, HTTPS only, GET and HEAD, a cache that honours the
 * objects' `Cache-Control`), adds the one bucket policy statement that lets exactly it read exactly
 * the two documents, and waits until it is deployed. A re-run finds the same distribution and
 * makes only reads. A custom domain's certificate is checked before anything is created.
 *
 * @throws {PublishError} `ERR_CERTIFICATE_UNUSABLE`, `ERR_CLOUDFRONT_INVALID` before anything is
 * created; `ERR_DISTRIBUTION_NOT_DEPLOYED` when the wait ran out (a re-run continues).
 */
export async function prepareDistribution(options: {
  cloudFront: CloudFrontOptions;
  s3: typeof import("@aws-sdk/client-s3");
  s3Client: S3Client;
  bucket: string;
  region: string;
  prefix: string;
  clients?: { cloudFront?: CloudFrontClient; acm?: ACMClient } | undefined;
  aws?: AwsClientSettings | undefined;
  dryRun: boolean;
  /**
   * Runs once the options and the certificate are checked, before the distribution is looked up:
   * where `init` makes the bucket, so that a certificate CloudFront cannot use leaves nothing made.
   */
  beforeDistribution?: (() => Promise<void>) | undefined;
}): Promise<PreparedDistribution> {
  const { cloudFront, bucket, region, prefix, dryRun } = options;
  const settings = validateCloudFrontOptions(cloudFront);
  const cf = loadAwsSdk<typeof import("@aws-sdk/client-cloudfront")>(
    import.meta.url,
    "@aws-sdk/client-cloudfront",
  );
  const client =
    options.clients?.cloudFront ??
    makeAwsClient(
      cf.CloudFrontClient,
      "CloudFront",
      { region: CLOUDFRONT_CERTIFICATE_REGION, maxAttempts: 5 },
      options.aws,
    );
  if (settings.domain !== undefined && settings.certificateArn !== undefined) {
    const acm = loadAwsSdk<typeof import("@aws-sdk/client-acm")>(import.meta.url, "@aws-sdk/client-acm");
    await checkCertificate({
      acm,
      arn: settings.certificateArn,
      domain: settings.domain,
      client: async () =>
        options.clients?.acm ??
        makeAwsClient(
          acm.ACMClient,
          "ACM",
          { region: CLOUDFRONT_CERTIFICATE_REGION, maxAttempts: 5 },
          options.aws,
        ),
    });
  }

  await options.beforeDistribution?.();
  const marker = distributionMarker(bucket, prefix);
  const originDomain = `${bucket}.s3.${region}.${partitionOf(region).dnsSuffix}`;
  let summary = await findDistribution(cf, client, marker);
  let action: DistributionOutcome["action"] = "unchanged";
  if (summary) {
    refuseOtherDistribution(summary, { originDomain, domain: settings.domain, bucket, prefix });
  } else if (dryRun) {
    const host = settings.domain ?? "new-distribution.cloudfront.net";
    return {
      issuer: issuerAt(host, prefix),
      // Not made on a dry run: CloudFront names it (and so the issuer) when it is created.
      distribution: {
        id: "",
        arn: "",
        domainName: "",
        ...(settings.domain ? { alias: settings.domain } : {}),
        action: "create",
        status: "not created (dry run)",
      },
      bucketPolicy: { action: "create", reason: "the new distribution needs it", written: false, sid: "" },
      deployed: false,
      warnings: [],
      invalidate: async () => [],
    };
  } else {
    const made = await createDistribution(cf, client, {
      marker,
      bucket,
      prefix,
      originDomain,
      priceClass: settings.priceClass,
      domain: settings.domain,
      certificateArn: settings.certificateArn,
    });
    summary = made.summary;
    action = made.created ? "create" : "unchanged";
  }
  const id = summary.Id ?? "";
  const arn = summary.ARN ?? "";
  const domainName = summary.DomainName ?? "";
  const issuer = issuerAt(settings.domain ?? domainName, prefix);
  const { jwks, discovery } = documentPathsUnder(prefix);
  const objectKeys = [jwks, discovery];
  const {
    others,
    plan: _,
    ...bucketPolicy
  } = await ensureBucketStatement({
    s3: options.s3,
    client: options.s3Client,
    bucket,
    region,
    statement: distributionReadStatement({
      partition: partitionOf(region).name,
      bucket,
      objectKeys,
      distributionArn: arn,
    }),
    what: "CloudFront read",
    dryRun,
  });
  const outcome: DistributionOutcome = {
    id,
    arn,
    domainName,
    ...(settings.domain ? { alias: settings.domain } : {}),
    action,
    status: summary.Status ?? "InProgress",
  };
  if (outcome.status !== "Deployed" && settings.wait && !dryRun) {
    outcome.status = await waitUntilDeployed(cf, client, {
      id,
      domainName,
      bucket,
      prefix,
      timeoutMs: settings.waitTimeoutMs,
      pollMs: settings.pollIntervalMs,
      onProgress: cloudFront.onProgress,
    });
  }
  const deployed = outcome.status === "Deployed";
  const objectArns = objectKeys.map((key) => `arn:${partitionOf(region).name}:s3:::${bucket}/${key}`);
  return {
    issuer,
    distribution: outcome,
    bucketPolicy,
    deployed,
    warnings: others
      .filter((statement) => grantsPublicRead(statement, objectArns))
      .map(
        (statement) =>
          `bucket ${bucket}'s policy statement ${statement.Sid ? quoteInput(statement.Sid) : "(no Sid)"} still lets anyone read the documents, which CloudFront now serves from the private bucket; remove it (aws s3api get-bucket-policy / put-bucket-policy --bucket ${bucket})`,
      ),
    async invalidate(documents) {
      // A distribution made by this run has cached nothing yet.
      const paths = documents.filter((d) => d.written).map((d) => `/${d.path}`);
      if (paths.length === 0 || action === "create") return [];
      const made = await createInvalidation(cf, client, id, paths);
      outcome.invalidation = { id: made, paths, completed: false };
      outcome.invalidation.completed = await waitForInvalidation(cf, client, {
        distributionId: id,
        invalidationId: made,
        timeoutMs: settings.waitTimeoutMs,
        pollMs: settings.pollIntervalMs,
        onProgress: cloudFront.onProgress,
      });
      if (outcome.invalidation.completed) return [];
      const until = new Date(Date.now() + 300_000).toISOString().replace(/\.\d+Z$/, "Z");
      return [
        `invalidation ${made} of ${paths.join(" and ")} has not completed within ${formatMs(settings.waitTimeoutMs)}; edges that cached the old bytes may serve them until it completes, and at the latest until ${until} (their 5-minute Cache-Control): STS may refuse tokens signed with a new key until then`,
      ];
    },
  };
}

/**
 * Refuses, before any request, options that name another way to serve the bucket than the distribution.
 *
 * @throws {PublishError} `ERR_CLOUDFRONT_INVALID`.
 */
export function refuseWithCloudFront(options: {
  issuer?: string | undefined;
  publicReadPolicy?: boolean | undefined;
  externalIssuer?: boolean | undefined;
}): void {
  const other = [
    ...(options.issuer === undefined
      ? []
      : ["--issuer (the distribution's URL, or --domain's, is the issuer)"]),
    ...(options.publicReadPolicy
      ? ["--public-read-policy (the bucket stays private behind CloudFront)"]
      : []),
    ...(options.externalIssuer ? ["--external-issuer"] : []),
  ];
  if (other.length > 0) {
    throw new PublishError(
      "ERR_CLOUDFRONT_INVALID",
      `--cloudfront does not go with ${other.join(" or ")}; leave it out`,
    );
  }
}

/** What is left to do after a publish that did not wait for the distribution to deploy. */
export function undeployedWarning(distribution: DistributionOutcome): string {
  return `CloudFront distribution ${distribution.id} (${distribution.domainName}) is still ${distribution.status}: the documents are in the bucket, but the IAM OIDC provider is not registered and the issuer URL not checked; run the same command again once it is Deployed (aws cloudfront wait distribution-deployed --id ${distribution.id})`;
}

/** An Allow to everyone (`*`) of s3:GetObject on one of the objects (or a wildcard over it). */
function grantsPublicRead(statement: PolicyStatement, objectArns: readonly string[]): boolean {
  const principal = statement.Principal as string | { AWS?: string | string[] } | undefined;
  const everyone =
    principal === "*" || [typeof principal === "object" ? principal.AWS : undefined].flat().includes("*");
  const reads = [statement.Action ?? []]
    .flat()
    .some((action) => matchesWildcard(action, "s3:GetObject", { ignoreCase: true }));
  const covers = [statement.Resource ?? []]
    .flat()
    .some((resource) => objectArns.some((arn) => matchesWildcard(resource, arn)));
  return statement.Effect === "Allow" && everyone && reads && covers && statement.Condition === undefined;
}

/**
 * Checks CloudFront options before any request and fills in the defaults.
 *
 * @throws {PublishError} `ERR_CLOUDFRONT_INVALID`; `ERR_CERTIFICATE_UNUSABLE` for a certificate
 * ARN outside us-east-1.
 */
export function validateCloudFrontOptions(options: CloudFrontOptions) {
  if ((options.domain === undefined) !== (options.certificateArn === undefined)) {
    throw new PublishError(
      "ERR_CLOUDFRONT_INVALID",
      options.domain === undefined
        ? "--certificate-arn is for a custom --domain; give both, or neither for the distribution's own dXXXX.cloudfront.net"
        : `a custom --domain needs its certificate: give --certificate-arn of an ACM certificate in ${CLOUDFRONT_CERTIFICATE_REGION} that covers ${options.domain}`,
    );
  }
  if (options.domain !== undefined) validateIssuerDomain(options.domain);
  if (options.domain !== undefined && options.certificateArn !== undefined) {
    refuseCertificateOutsideCloudFrontRegion(options.certificateArn, options.domain);
  }
  const priceClass = options.priceClass ?? DEFAULT_PRICE_CLASS;
  if (!PRICE_CLASSES.includes(priceClass)) {
    throw new PublishError(
      "ERR_CLOUDFRONT_INVALID",
      `price class ${quoteInput(priceClass)} is not one of CloudFront's: ${PRICE_CLASSES.join(", ")}`,
    );
  }
  return {
    domain: options.domain,
    certificateArn: options.certificateArn,
    priceClass,
    wait: options.wait ?? true,
    waitTimeoutMs: options.waitTimeoutMs ?? DEFAULT_CLOUDFRONT_WAIT_MS,
    pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_MS,
  };
}

/** The issuer a distribution serves at `host` (its own name or the custom domain) for a prefix. */
export function issuerAt(host: string, prefix: string): string {
  return prefix === "" ? `https://${host}` : `https://${host}/${prefix}`;
}

/**
 * The comment that marks the distribution this tool made for a bucket and prefix: how a re-run
 * finds it in one list call (CloudFront's list carries comments, not tags). At most 128 characters.
 */
export function distributionMarker(bucket: string, prefix: string): string {
  const marker = `irsa-anywhere issuer s3://${bucket}/${prefix}`;
  if (marker.length <= 128) return marker;
  return `irsa-anywhere issuer ${createHash("sha256").update(`${bucket}/${prefix}`).digest("hex").slice(0, 32)}`;
}

/**
 * The statement that lets exactly one distribution (through its origin access control) read
 * exactly the two documents: no public grant, so it stands with Block Public Access fully on.
 */
export function distributionReadStatement(options: {
  partition: string;
  bucket: string;
  objectKeys: readonly string[];
  distributionArn: string;
}): PolicyStatement {
  const keys = [...options.objectKeys].sort();
  const digest = createHash("sha256")
    .update(`${options.distributionArn}\n${options.bucket}/${keys.join("\n")}`)
    .digest("hex")
    .slice(0, 12);
  return {
    Sid: `IrsaAnywhereCloudFrontRead${digest}`,
    Effect: "Allow",
    Principal: { Service: "cloudfront.amazonaws.com" },
    Action: "s3:GetObject",
    Resource: keys.map((key) => `arn:${options.partition}:s3:::${options.bucket}/${key}`),
    Condition: { StringEquals: { "AWS:SourceArn": options.distributionArn } },
  };
}

async function findDistribution(
  cf: CloudFrontModule,
  client: CloudFrontClient,
  marker: string,
): Promise<DistributionSummary | undefined> {
  let next: string | undefined;
  // CloudFront allows a few hundred distributions per account: a bounded number of pages.
  for (let page = 0; page < 100; page++) {
    let list: import("@aws-sdk/client-cloudfront").ListDistributionsCommandOutput;
    try {
      list = await client.send(new cf.ListDistributionsCommand(next ? { Marker: next } : {}));
    } catch (error) {
      throw translateAwsError(error, { action: "cloudfront:ListDistributions", resource: "*" });
    }
    const found = list.DistributionList?.Items?.find((item) => item.Comment === marker);
    if (found) return found;
    if (!list.DistributionList?.IsTruncated || !list.DistributionList.NextMarker) return undefined;
    next = list.DistributionList.NextMarker;
  }
  return undefined;
}

function refuseOtherDistribution(
  summary: DistributionSummary,
  expected: { originDomain: string; domain: string | undefined; bucket: string; prefix: string },
): void {
  const origins = summary.Origins?.Items ?? [];
  const aliases = summary.Aliases?.Items ?? [];
  const where = `distribution ${summary.Id} (${summary.DomainName}), made for s3://${expected.bucket}/${expected.prefix},`;
  if (
    !origins.some((origin) => origin.DomainName === expected.originDomain && origin.OriginAccessControlId)
  ) {
    throw new PublishError(
      "ERR_CLOUDFRONT_INVALID",
      `${where} no longer has the origin ${expected.originDomain} with an origin access control; restore it (irsa-anywhere doctor shows what is wrong) or delete the distribution and run again`,
    );
  }
  const want = expected.domain === undefined ? [] : [expected.domain];
  if (aliases.join(",") !== want.join(",")) {
    throw new PublishError(
      "ERR_CLOUDFRONT_INVALID",
      `${where} serves ${aliases.length ? aliases.join(", ") : "no custom domain"}, not ${expected.domain ?? "its own name alone"}; ${aliases.length ? `give --domain ${aliases[0]} with its certificate` : "leave --domain out"}, as the cluster's issuer already uses it (a new domain is a new issuer)`,
    );
  }
}

async function createDistribution(
  cf: CloudFrontModule,
  client: CloudFrontClient,
  options: {
    marker: string;
    bucket: string;
    prefix: string;
    originDomain: string;
    priceClass: string;
    domain: string | undefined;
    certificateArn: string | undefined;
  },
): Promise<{ summary: DistributionSummary; created: boolean }> {
  const controlId = await ensureOriginAccessControl(cf, client, options.bucket);
  const config: DistributionConfig = {
    // The same reference for the same issuer: two runs racing to create it get one distribution.
    CallerReference: createHash("sha256").update(options.marker).digest("hex").slice(0, 32),
    Comment: options.marker,
    Enabled: true,
    Aliases: options.domain ? { Quantity: 1, Items: [options.domain] } : { Quantity: 0 },
    Origins: {
      Quantity: 1,
      Items: [
        {
          Id: ORIGIN_ID,
          DomainName: options.originDomain,
          OriginPath: "",
          OriginAccessControlId: controlId,
          S3OriginConfig: { OriginAccessIdentity: "" },
        },
      ],
    },
    DefaultCacheBehavior: {
      TargetOriginId: ORIGIN_ID,
      ViewerProtocolPolicy: "redirect-to-https",
      AllowedMethods: {
        Quantity: 2,
        Items: ["GET", "HEAD"],
        CachedMethods: { Quantity: 2, Items: ["GET", "HEAD"] },
      },
      CachePolicyId: CACHING_OPTIMIZED_POLICY_ID,
      Compress: true,
    },
    PriceClass: options.priceClass as DistributionConfig["PriceClass"],
    HttpVersion: "http2and3",
    ViewerCertificate: options.certificateArn
      ? {
          ACMCertificateArn: options.certificateArn,
          SSLSupportMethod: "sni-only",
          MinimumProtocolVersion: "TLSv1.2_2021",
        }
      : { CloudFrontDefaultCertificate: true },
  };
  try {
    const created = await client.send(
      new cf.CreateDistributionWithTagsCommand({
        DistributionConfigWithTags: {
          DistributionConfig: config,
          Tags: {
            Items: [{ Key: "irsa-anywhere:issuer", Value: `s3://${options.bucket}/${options.prefix}` }],
          },
        },
      }),
    );
    const distribution = created.Distribution;
    const summary = {
      Id: distribution?.Id,
      ARN: distribution?.ARN,
      DomainName: distribution?.DomainName,
      Status: distribution?.Status,
    } as DistributionSummary;
    return { summary, created: true };
  } catch (error) {
    if ((error as { name?: string }).name === "DistributionAlreadyExists") {
      // Another run created it between our list and this call (the same caller reference): use that one.
      const found = await findDistribution(cf, client, options.marker);
      if (found) return { summary: found, created: false };
    }
    throw translateAwsError(error, {
      action: "cloudfront:CreateDistribution and cloudfront:TagResource",
      resource: "arn:aws:cloudfront::ACCOUNT:distribution/*",
    });
  }
}

/** One origin access control per bucket, found by name: signs every request to S3 with SigV4. */
async function ensureOriginAccessControl(
  cf: CloudFrontModule,
  client: CloudFrontClient,
  bucket: string,
): Promise<string> {
  const full = `irsa-anywhere-${bucket}`;
  const name =
    full.length <= 64
      ? full
      : `irsa-anywhere-${createHash("sha256").update(bucket).digest("hex").slice(0, 32)}`;
  const found = await findOriginAccessControl(cf, client, name);
  if (found) return found;
  try {
    const created = await client.send(
      new cf.CreateOriginAccessControlCommand({
        OriginAccessControlConfig: {
          Name: name,
          Description: `irsa-anywhere: CloudFront reads the issuer documents of bucket ${bucket}`.slice(
            0,
            256,
          ),
          SigningProtocol: "sigv4",
          SigningBehavior: "always",
          OriginAccessControlOriginType: "s3",
        },
      }),
    );
    return created.OriginAccessControl?.Id ?? "";
  } catch (error) {
    if ((error as { name?: string }).name === "OriginAccessControlAlreadyExists") {
      // Another run made it between our list and this call: use that one.
      const made = await findOriginAccessControl(cf, client, name);
      if (made) return made;
    }
    throw translateAwsError(error, {
      action: "cloudfront:CreateOriginAccessControl",
      resource: "arn:aws:cloudfront::ACCOUNT:origin-access-control/*",
    });
  }
}

async function findOriginAccessControl(
  cf: CloudFrontModule,
  client: CloudFrontClient,
  name: string,
): Promise<string | undefined> {
  let next: string | undefined;
  try {
    for (let page = 0; page < 100; page++) {
      const list = await client.send(new cf.ListOriginAccessControlsCommand(next ? { Marker: next } : {}));
      const found = list.OriginAccessControlList?.Items?.find((item) => item.Name === name);
      if (found?.Id) return found.Id;
      if (!list.OriginAccessControlList?.IsTruncated || !list.OriginAccessControlList.NextMarker)
        return undefined;
      next = list.OriginAccessControlList.NextMarker;
    }
  } catch (error) {
    throw translateAwsError(error, { action: "cloudfront:ListOriginAccessControls", resource: "*" });
  }
  return undefined;
}

/**
 * Reads a status until `done` says so, telling `onProgress` before each pause; gives up after
 * `timeoutMs`. The last status read, and whether it was done.
 */
async function pollStatus(options: {
  read: () => Promise<string>;
  done: (status: string) => boolean;
  timeoutMs: number;
  pollMs: number;
  waitingFor: string;
  onProgress: ((message: string) => void) | undefined;
}): Promise<{ status: string; done: boolean; elapsedMs: number }> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  for (;;) {
    const status = await options.read();
    const elapsedMs = Date.now() - started;
    if (options.done(status)) return { status, done: true, elapsedMs };
    const left = deadline - Date.now();
    if (left <= 0) return { status, done: false, elapsedMs };
    options.onProgress?.(
      `waiting for ${options.waitingFor}: ${status}, ${formatMs(elapsedMs)} so far, at most ${formatMs(options.timeoutMs)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.pollMs, left)));
  }
}

/** Polls until CloudFront says `Deployed`, bounded by `timeoutMs`. */
async function waitUntilDeployed(
  cf: CloudFrontModule,
  client: CloudFrontClient,
  options: {
    id: string;
    domainName: string;
    bucket: string;
    prefix: string;
    timeoutMs: number;
    pollMs: number;
    onProgress: ((message: string) => void) | undefined;
  },
): Promise<string> {
  const polled = await pollStatus({
    read: async () => {
      try {
        const answer = await client.send(new cf.GetDistributionCommand({ Id: options.id }));
        return answer.Distribution?.Status ?? "InProgress";
      } catch (error) {
        throw translateAwsError(error, {
          action: "cloudfront:GetDistribution",
          resource: `distribution ${options.id}`,
        });
      }
    },
    done: (status) => status === "Deployed",
    timeoutMs: options.timeoutMs,
    pollMs: options.pollMs,
    waitingFor: `CloudFront distribution ${options.id} (${options.domainName}) to deploy`,
    onProgress: options.onProgress,
  });
  if (polled.done) return polled.status;
  throw new PublishError(
    "ERR_DISTRIBUTION_NOT_DEPLOYED",
    `CloudFront distribution ${options.id} (${options.domainName}) for s3://${options.bucket}/${options.prefix} exists, with its bucket policy statement, but is still ${polled.status} after ${formatMs(polled.elapsedMs)}, so no document was published and no IAM provider registered; run the same command again later (it continues with this distribution), give a longer --timeout, or add --no-wait`,
  );
}

async function createInvalidation(
  cf: CloudFrontModule,
  client: CloudFrontClient,
  distributionId: string,
  paths: string[],
): Promise<string> {
  try {
    const made = await client.send(
      new cf.CreateInvalidationCommand({
        DistributionId: distributionId,
        // Fresh per run (the SDK's retries resend the same one): an earlier identical batch must not stand in.
        InvalidationBatch: {
          CallerReference: `irsa-anywhere-${randomUUID()}`,
          Paths: { Quantity: paths.length, Items: paths },
        },
      }),
    );
    return made.Invalidation?.Id ?? "";
  } catch (error) {
    throw translateAwsError(error, {
      action: "cloudfront:CreateInvalidation",
      resource: `distribution ${distributionId}`,
    });
  }
}

/** Polls until the invalidation has completed; false when `timeoutMs` ran out first. */
async function waitForInvalidation(
  cf: CloudFrontModule,
  client: CloudFrontClient,
  options: {
    distributionId: string;
    invalidationId: string;
    timeoutMs: number;
    pollMs: number;
    onProgress: ((message: string) => void) | undefined;
  },
): Promise<boolean> {
  const polled = await pollStatus({
    read: async () => {
      try {
        const answer = await client.send(
          new cf.GetInvalidationCommand({
            DistributionId: options.distributionId,
            Id: options.invalidationId,
          }),
        );
        return answer.Invalidation?.Status ?? "InProgress";
      } catch (error) {
        throw translateAwsError(error, {
          action: "cloudfront:GetInvalidation",
          resource: `distribution ${options.distributionId}`,
        });
      }
    },
    // CloudFront says "Completed" (moto "COMPLETED").
    done: (status) => status.toLowerCase() === "completed",
    timeoutMs: options.timeoutMs,
    pollMs: options.pollMs,
    waitingFor: `CloudFront invalidation ${options.invalidationId} to complete`,
    onProgress: options.onProgress,
  });
  return polled.done;
}
