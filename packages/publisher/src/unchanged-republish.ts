import type { IAMClient } from "@aws-sdk/client-iam";
import { documentPathsUnder, type httpsGet, issuerHostPath } from "@irsa-anywhere/discovery";
import { ensureOidcProvider, lookUpOidcProvider, partitionOf } from "@irsa-anywhere/iam";
import {
  type CloudFrontOptions,
  type DistributionOutcome,
  distributionReadStatement,
  issuerAt,
  validateCloudFrontOptions,
} from "./cloudfront.js";
import { requestsOnTheWire } from "./lib/requests-on-the-wire.js";
import type { PublishResult } from "./publish.js";
import { type PublishDocumentsOptions, unchangedDocuments } from "./publish-documents.js";
import { normalizePrefix, objectPrefixForIssuer } from "./s3-location.js";
import type { S3Target } from "./s3-target.js";
import { verifyServedDocuments } from "./served-documents.js";
import { recordedInState, type ServedRecord } from "./state.js";

/** What a bucket publish whose issuer something else serves was asked, as far as this decides. */
export interface ServedRequest {
  bucket: string;
  region: string;
  prefix?: string | undefined;
  /** The issuer given (`--external-issuer`); undefined with `cloudFront`, whose distribution names it. */
  issuer?: string | undefined;
  publicReadPolicy?: boolean | undefined;
  publicReadScope?: string | undefined;
  cloudFront?: CloudFrontOptions | undefined;
}

/**
 * What the state records of how the issuer is served (`PublisherState.servedAt`), for a run asked
 * `request` that found `distribution` (with `cloudFront`, once CloudFront named it).
 */
export function servedRecord(
  request: ServedRequest,
  issuer: string,
  distribution?: Pick<DistributionOutcome, "id" | "arn" | "domainName">,
): ServedRecord {
  const cloudFront = request.cloudFront;
  return {
    issuer,
    ...(request.publicReadPolicy ? { publicReadScope: request.publicReadScope ?? "auto" } : {}),
    ...(cloudFront && distribution
      ? {
          cloudFront: {
            id: distribution.id,
            arn: distribution.arn,
            domainName: distribution.domainName,
            ...(cloudFront.domain === undefined ? {} : { alias: cloudFront.domain }),
            ...(cloudFront.certificateArn === undefined ? {} : { certificateArn: cloudFront.certificateArn }),
          },
        }
      : {}),
  };
}

/** The same record, whatever order its fields were written in. */
export function sameServedRecord(a: ServedRecord | undefined, b: ServedRecord | undefined): boolean {
  const canonical = (record: ServedRecord | undefined) => {
    const cloudFront = record?.cloudFront;
    return JSON.stringify([
      record?.issuer,
      record?.publicReadScope,
      cloudFront && [
        cloudFront.id,
        cloudFront.arn,
        cloudFront.domainName,
        cloudFront.alias,
        cloudFront.certificateArn,
      ],
    ]);
  };
  return canonical(a) === canonical(b);
}

/**
 * A republish that changes nothing, proven in two round trips and at most four requests, all
 * reads, for an issuer that something other than the bucket's S3 URL serves (`--cloudfront`,
 * `--external-issuer`): first the state, signed, which records where the issuer is served
 * (`PublisherState.servedAt`) and the provider's ARN; then both documents read anonymously at the
 * issuer URL, as STS reads them, beside IAM `GetOpenIDConnectProvider` for that ARN. When the
 * state is of this run's asking (the same issuer, `--domain`, certificate and public-read scope),
 * stays as it is, and the issuer serves its render byte for byte, that is the proof the full path
 * makes: the documents are right and STS can read them, which for CloudFront also proves the
 * distribution, its origin access control and the bucket policy statement that lets it read the
 * bucket. Then the provider is ensured as after the full path; otherwise (state missing, older or
 * naming no distribution, other options, a read that fails or differs, no provider found) this
 * returns undefined, having written nothing, and the caller takes the full path.
 *
 * What the proof cannot see: an edge serves its cached copy (the documents' `Cache-Control`, five
 * minutes) whatever happened behind it since, so a distribution or a bucket policy statement
 * broken within the last five minutes passes until those copies expire; the next run after that
 * takes the full path, which repairs the statement or fails.
 */
export async function republishUnchanged(options: {
  request: ServedRequest;
  /**
   * The bucket, read with credentials only; the state read here stays prefetched in it (see
   * `S3Target.prefetchSigned`), so that the full path after this does not read it again.
   */
  target: S3Target;
  /** What the publish decides the documents from: the keys, the empty-kid twin, retention, a rotation phase, the clock, --dry-run. */
  documents: Omit<PublishDocumentsOptions, "issuer" | "target" | "paths"> & { dryRun: boolean };
  /** The IAM provider to ensure: its client (made once the state is on its way) and what it must list. */
  oidcProvider?:
    | {
        make: () => { iam: typeof import("@aws-sdk/client-iam"); client: IAMClient };
        audiences: readonly string[];
        clusterName?: string | undefined;
      }
    | undefined;
  httpsGet?: typeof httpsGet | undefined;
}): Promise<PublishResult | undefined> {
  const { request } = options;
  const { dryRun } = options.documents;
  const { bucket, region } = request;
  if (request.cloudFront) validateCloudFrontOptions(request.cloudFront);
  const prefix =
    request.cloudFront || request.issuer === undefined
      ? normalizePrefix(request.prefix)
      : objectPrefixForIssuer({
          issuer: request.issuer,
          bucket,
          region,
          prefix: request.prefix,
          external: true,
        });
  const { target } = options;
  const { jwks, discovery } = documentPathsUnder(prefix);
  const paths = { jwks, discovery, state: target.statePath(jwks) };

  // Round trip 1: the state. Any failure here is the full path's to report, in its own words.
  const iamReady = options.oidcProvider
    ? requestsOnTheWire().then(() => options.oidcProvider?.make())
    : undefined;
  iamReady?.catch(() => undefined);
  const read = await target.prefetchSigned([paths.state]).then(
    () => true,
    () => false,
  );
  const stateBody = read ? target.peek(paths.state)?.body : undefined;
  if (stateBody === undefined) return undefined;
  const { servedAt, oidcProviderArn } = recordedInState(stateBody);
  const recorded = servedAt?.cloudFront;
  const issuer = request.cloudFront
    ? recorded && issuerAt(recorded.alias ?? recorded.domainName, prefix)
    : request.issuer;
  if (
    issuer === undefined ||
    servedAt === undefined ||
    !sameServedRecord(servedAt, servedRecord(request, issuer, recorded)) ||
    (options.oidcProvider && oidcProviderArn === undefined)
  ) {
    return undefined;
  }
  const documents = unchangedDocuments({ ...options.documents, issuer, target, paths }, stateBody);
  if (documents === undefined) return undefined;

  // Round trip 2: both documents where STS reads them, and the provider the state names.
  const [served, provider] = await Promise.all([
    verifyServedDocuments({
      documents: [
        { url: `${issuer}/keys.json`, expected: documents.jwks },
        { url: `${issuer}/.well-known/openid-configuration`, expected: documents.discovery },
      ],
      fix: { notPublic: "", notFound: "" },
      ...(options.httpsGet ? { httpsGet: options.httpsGet } : {}),
    }).then(
      (warnings) => warnings.length === 0,
      () => false,
    ),
    iamReady?.then(async (iam) =>
      iam
        ? { ...iam, lookup: await lookUpOidcProvider(iam.client, issuerHostPath(issuer), oidcProviderArn) }
        : undefined,
    ),
  ]);
  if (!served || (options.oidcProvider && provider?.lookup.kind !== "found")) return undefined;

  // Proven served: the provider is ensured as the full path would, once STS can read the documents.
  const oidcProvider =
    provider && options.oidcProvider
      ? await ensureOidcProvider({
          iam: provider.iam,
          client: provider.client,
          issuer,
          audiences: options.oidcProvider.audiences,
          clusterName: options.oidcProvider.clusterName,
          dryRun,
          lookup: provider.lookup,
        })
      : undefined;
  return {
    ...documents.result,
    changed: oidcProvider !== undefined && oidcProvider.action !== "unchanged",
    target: { kind: "s3", bucket, prefix, region },
    ...(recorded
      ? {
          // Not asked of CloudFront: serving the documents is what a publish needs of it.
          distribution: {
            id: recorded.id,
            arn: recorded.arn,
            domainName: recorded.domainName,
            ...(recorded.alias === undefined ? {} : { alias: recorded.alias }),
            action: "unchanged",
            status: "Deployed",
          },
          bucketPolicy: {
            action: "unchanged",
            reason: "the distribution serves the documents",
            written: false,
            sid:
              distributionReadStatement({
                partition: partitionOf(region).name,
                bucket,
                objectKeys: [paths.jwks, paths.discovery],
                distributionArn: recorded.arn,
              }).Sid ?? "",
          },
        }
      : {}),
    ...(oidcProvider ? { oidcProvider } : {}),
  };
}
