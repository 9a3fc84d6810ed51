import type { ACMClient } from "@aws-sdk/client-acm";
import type { CloudFrontClient } from "@aws-sdk/client-cloudfront";
import type { IAMClient } from "@aws-sdk/client-iam";
import type { S3Client } from "@aws-sdk/client-s3";
import type { STSClient } from "@aws-sdk/client-sts";
import { documentPathsUnder, type httpsGet, issuerHostPath, validateIssuer } from "@irsa-anywhere/discovery";
import { quoteInput } from "@irsa-anywhere/errors";
import {
  type AwsClientSettings,
  audienceProblem,
  callerIdentity,
  DEFAULT_AUDIENCE,
  ensureOidcProvider,
  loadAwsSdk,
  lookUpOidcProvider,
  MAX_AUDIENCES,
  makeAwsClient,
  type OidcProviderOutcome,
  oidcProviderArn,
  type ProviderLookup,
  partitionOf,
  validateRegion,
} from "@irsa-anywhere/iam";
import type { PublicSigningKey } from "@irsa-anywhere/keys";
import { PUBLIC_READ_SCOPES, type PublicReadScope, planPublicReadPolicy } from "./bucket-policy.js";
import { type BucketPolicyOutcome, ensureBucketStatement, readBucketPolicy } from "./bucket-policy-write.js";
import {
  type CloudFrontOptions,
  type DistributionOutcome,
  prepareDistribution,
  refuseWithCloudFront,
  undeployedWarning,
} from "./cloudfront.js";
import type { RotationStep } from "./decide-state.js";
import { directoryTarget } from "./directory-target.js";
import { PublishError } from "./errors.js";
import { readBlockPublicAccess } from "./issuer-bucket.js";
import { requestsOnTheWire } from "./lib/requests-on-the-wire.js";
import { resolveRegion, s3ClientFor, validateBucketName } from "./lib/s3-client.js";
import { type PublishDocumentsResult, publishDocuments, stateWriteCondition } from "./publish-documents.js";
import { normalizePrefix, objectPrefixForIssuer, s3Issuer, s3IssuerUrl } from "./s3-location.js";
import { type S3Target, s3Target } from "./s3-target.js";
import { verifyServedDocuments } from "./served-documents.js";
import { recordedInState, type StateRecords, stateWithRecords } from "./state.js";
import type { PublishTarget } from "./target.js";
import { republishUnchanged, sameServedRecord, servedRecord } from "./unchanged-republish.js";

/** What every publish takes, wherever it publishes. */
interface CommonPublishOptions {
  /** The cluster's current keys, e.g. from `publicKeysFromPem` or `publicKeysFromCluster`. */
  keys: readonly PublicSigningKey[];
  emptyKidTwin?: boolean | undefined;
  /** A rotation phase, decided on the same state as the publish (the rotate phases). */
  rotation?: RotationStep | undefined;
  /** How long a key stays published after it left the cluster; default `DEFAULT_RETAIN_MS`. */
  retainMs?: number | undefined;
  /** The clock (tests). */
  now?: (() => Date) | undefined;
  dryRun?: boolean | undefined;
}

/** What a publish to an S3 bucket takes besides the keys. */
interface BucketSettings {
  /** Object key prefix in the bucket, so several clusters can share one. */
  prefix?: string | undefined;
  /** The bucket's region; default the SDK's (`AWS_REGION`, the profile's). */
  region?: string | undefined;
  /** An S3 endpoint (S3-compatible store, local test); default `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL`. */
  endpointUrl?: string | undefined;
  externalIssuer?: boolean | undefined;
  /** Audiences (client IDs) of the IAM provider; default `["sts.amazonaws.com"]`. */
  audiences?: readonly string[] | undefined;
  /** Add a bucket policy statement that makes the two documents publicly readable. */
  publicReadPolicy?: boolean | undefined;
  /**
   * How that statement names the documents: exactly (one statement per cluster), or by name for
   * every cluster in the bucket; default `auto`, exact until the policy nears S3's size limit
   * (see {@link PublicReadScope}).
   */
  publicReadScope?: PublicReadScope | undefined;
  /** Register the IAM OIDC provider (default true with a bucket). */
  oidcProvider?: boolean | undefined;
  /** Tags the IAM provider with the cluster's name. */
  clusterName?: string | undefined;
  /** Serve the issuer through a CloudFront distribution in front of the private bucket. */
  cloudFront?: CloudFrontOptions | undefined;
  /**
   * Clients to use instead of ones made from the environment (custom credentials, tests);
   * `httpsGet` reads the documents back as STS does (a test's stands in for DNS and the edge).
   */
  clients?:
    | {
        s3?: S3Client;
        iam?: IAMClient;
        /** Asked for the account when nothing read so far names it (a first publish). */
        sts?: STSClient;
        cloudFront?: CloudFrontClient;
        acm?: ACMClient;
        httpsGet?: typeof httpsGet;
      }
    | undefined;
  /** The profile and timeouts of the clients made here. */
  aws?: AwsClientSettings | undefined;
}

/** A publish into an S3 bucket, which also registers the IAM OIDC provider. */
export interface BucketPublishOptions extends CommonPublishOptions, BucketSettings {
  /** Publish into this S3 bucket and register the IAM OIDC provider. */
  bucket: string;
  /**
   * The issuer, exactly as the cluster's tokens carry it. Defaults to the bucket's S3 URL (with
   * `prefix`), and must be on that host unless `externalIssuer` says something else (CloudFront)
   * serves the bucket.
   */
  issuer?: string | undefined;
  outDir?: undefined;
  target?: undefined;
}

/** A publish into a local directory, for any static web host. */
export interface DirectoryPublishOptions extends CommonPublishOptions {
  /** Publish into this directory. */
  outDir: string;
  /** The issuer, exactly as the cluster's tokens carry it: the URL that will serve the directory. */
  issuer: string;
  bucket?: undefined;
  target?: undefined;
}

/** A publish into a target of your own (or a wrapped `directoryTarget`). */
export interface TargetPublishOptions extends CommonPublishOptions {
  /** Publish into this target. */
  target: PublishTarget;
  /** The issuer, exactly as the cluster's tokens carry it. */
  issuer: string;
  bucket?: undefined;
  outDir?: undefined;
}

/**
 * What `publish` needs: the keys, and where to publish them: a `bucket`, an `outDir` or a
 * `target` (the last two with the `issuer` that serves them). A call that names none of them
 * does not compile.
 */
export type PublishOptions = BucketPublishOptions | DirectoryPublishOptions | TargetPublishOptions;

/** Every option `publish` reads, as one record: what its run-time checks see. */
type PublishSettings = CommonPublishOptions &
  BucketSettings & {
    bucket?: string | undefined;
    outDir?: string | undefined;
    target?: PublishTarget | undefined;
    issuer?: string | undefined;
  };

export type { BucketPolicyOutcome } from "./bucket-policy-write.js";

/**
 * What `publish` did: the documents' outcomes, where they went and, for a bucket, the IAM provider.
 */
export interface PublishResult extends PublishDocumentsResult {
  target:
    | { kind: "directory"; path: string }
    | { kind: "custom"; description: string }
    | { kind: "s3"; bucket: string; prefix: string; region: string };
  bucketPolicy?: BucketPolicyOutcome;
  /** With `cloudFront`: the distribution that serves the issuer. */
  distribution?: DistributionOutcome;
  oidcProvider?: OidcProviderOutcome;
  /** Things the user should fix that did not stop the publish, one line each. */
  warnings: string[];
}

/**
 * Publishes a cluster's issuer: the documents to a directory or an S3 bucket and, for a bucket,
 * the IAM OIDC provider. Idempotent: what is already right is left alone, so a republish of an
 * unchanged key writes nothing (and, to a bucket, makes at most four requests, all reads).
 *
 * @example
 * const keys = publicKeysFromPem(await readFile("sa.pub", "utf8"), "sa.pub");
 * const result = await publish({ keys, bucket: "my-oidc", prefix: "prod", region: "us-west-2" });
 * console.log(result.issuer, result.oidcProvider?.arn);
 */
export async function publish(input: PublishOptions): Promise<PublishResult> {
  // JavaScript callers and command lines reach here with any shape: the checks below are theirs.
  const options: PublishSettings = input;
  const given = [options.outDir, options.bucket, options.target].filter((where) => where !== undefined);
  if (given.length !== 1) {
    throw new PublishError("ERR_TARGET_MISSING", "say where to publish: one of bucket, outDir or target");
  }
  if (options.outDir !== undefined || options.target !== undefined) return publishToTarget(options);
  return publishToBucket(options, options.bucket as string);
}

/**
 * What {@link publish} does with `outDir`: a function of its own, so that a caller that publishes
 * only into directories (the CLI's quick `publish --out-dir`) can bundle it without the code for
 * S3, CloudFront and IAM.
 *
 * @example
 * const keys = publicKeysFromPem(await readFile("sa.pub", "utf8"), "sa.pub");
 * const result = await publishToDirectory({ keys, outDir: "site", issuer: "https://oidc.example.com/prod" });
 * console.log(result.documents.map((doc) => doc.action));
 */
export function publishToDirectory(options: DirectoryPublishOptions): Promise<PublishResult> {
  return publishToTarget(options);
}

async function publishToTarget(options: PublishSettings): Promise<PublishResult> {
  if (options.issuer === undefined) {
    throw new PublishError(
      "ERR_TARGET_MISSING",
      "publishing to a directory or a target needs the issuer URL that will serve it (issuer)",
    );
  }
  const target = options.target ?? directoryTarget(options.outDir as string);
  const documents = await publishDocuments({ issuer: options.issuer, target, ...documentOptions(options) });
  return {
    ...documents,
    target: options.target
      ? { kind: "custom", description: target.description }
      : { kind: "directory", path: options.outDir as string },
  };
}

async function publishToBucket(options: PublishSettings, bucket: string): Promise<PublishResult> {
  const dryRun = options.dryRun ?? false;
  if (options.issuer !== undefined) validateIssuer(options.issuer);
  validateBucketName(bucket);
  validateAudiences(options.audiences);
  const scope = options.publicReadScope;
  if (scope !== undefined && !PUBLIC_READ_SCOPES.includes(scope)) {
    throw new PublishError(
      "ERR_TARGET_MISSING",
      `${quoteInput(String(scope))} is not a public-read scope; give one of ${PUBLIC_READ_SCOPES.join(", ")}`,
    );
  }
  if (options.cloudFront) refuseWithCloudFront(options);
  if (options.region !== undefined) validateRegion(options.region);
  const { s3, client, endpoint } = await s3ClientFor(options);
  const region = await resolveRegion(client, options.region);
  const audiences = options.audiences?.length ? options.audiences : [DEFAULT_AUDIENCE];
  const request = { ...options, bucket, region };
  // Where something else serves the issuer (so nothing reads the bucket anonymously), a republish
  // that changes nothing proves it with reads alone, in two round trips; anything else comes back
  // undefined, for the full path below, which reads the state no second time.
  const signedOnly =
    options.cloudFront !== undefined ||
    (options.externalIssuer && options.issuer !== undefined && s3IssuerUrl(options.issuer) === undefined)
      ? s3Target({ s3, client, bucket, region })
      : undefined;
  if (signedOnly) {
    const unchanged = await republishUnchanged({
      request,
      target: signedOnly,
      documents: documentOptions(options),
      oidcProvider:
        (options.oidcProvider ?? true)
          ? { make: () => makeIamClient(options, region), audiences, clusterName: options.clusterName }
          : undefined,
      httpsGet: options.clients?.httpsGet,
    });
    if (unchanged) return unchanged;
  }
  // Before the issuer: CloudFront's distribution names it, and must deploy before anything is published.
  const cloudFront = options.cloudFront
    ? await prepareDistribution({
        cloudFront: options.cloudFront,
        s3,
        s3Client: client,
        bucket,
        region,
        prefix: normalizePrefix(options.prefix),
        clients: options.clients,
        aws: options.aws,
        dryRun,
      })
    : undefined;
  const issuer =
    cloudFront?.issuer ??
    options.issuer ??
    s3Issuer({ bucket, region, prefix: normalizePrefix(options.prefix) });
  const prefix = objectPrefixForIssuer({
    issuer,
    bucket,
    region,
    prefix: options.prefix,
    external: options.externalIssuer || cloudFront !== undefined,
  });
  const paths = documentPathsUnder(prefix);
  const external =
    (options.externalIssuer === true || cloudFront !== undefined) && s3IssuerUrl(issuer) === undefined;
  // What the next run needs to take the path above.
  const servedAt = external ? servedRecord(request, issuer, cloudFront?.distribution) : undefined;
  // Anonymous reads go where STS goes: the issuer's own S3 host (an endpoint stands in for it).
  const publicBaseUrl = external
    ? undefined
    : endpoint
      ? `${endpoint.replace(/\/+$/, "")}/${bucket}`
      : s3BaseUrl(issuer, bucket);
  const target =
    signedOnly && publicBaseUrl === undefined
      ? signedOnly
      : s3Target({
          s3,
          client,
          bucket,
          region,
          publicBaseUrl,
          anonymousReadTimeoutMs: Math.min(10_000, options.aws?.requestTimeoutMs ?? 10_000),
        });
  const warnings: string[] = [];
  const stateAt = target.statePath(paths.jwks);

  // The IAM client loads while S3 answers. The provider lookup waits only for the state, which
  // may name the provider (see recordInState), and its outcome (a create or an update) only
  // until STS can read the documents.
  // Loaded once the first reads are on the wire: loading is synchronous (see loadAwsSdk).
  const iamReady =
    (options.oidcProvider ?? true)
      ? requestsOnTheWire().then(() => makeIamClient(options, region))
      : undefined;
  // Awaited below; a failure of the S3 work first must not leave it unhandled.
  iamReady?.catch(() => undefined);

  // Round trip 1: the documents as STS reads them (with credentials when STS reads them from
  // somewhere else), and the state, which every run reads.
  await Promise.all([
    target.prefetch([paths.jwks, paths.discovery]),
    target.prefetchSigned(publicBaseUrl === undefined ? [stateAt, paths.jwks, paths.discovery] : [stateAt]),
  ]);
  const knownArn = recordedInState(target.peek(stateAt)?.body).oidcProviderArn;
  const provider = iamReady?.then(async (iam) => ({
    ...iam,
    lookup: await lookUpOidcProvider(iam.client, issuerHostPath(issuer), knownArn),
  }));
  provider?.catch(() => undefined);
  // Beside the list, when the state names no provider: the account, should the list name none
  // (no provider in it yet), so that the first state write can record the provider's ARN.
  // Neither a refusal nor a failure stops the publish: the ARN is then recorded once it is made.
  // Credentials that carry the account (IRSA's web identity, assume-role, SSO, AWS_ACCOUNT_ID)
  // answer without STS: the IAM client's, since the provider is made in their account (a caller
  // may give an IAM client with other credentials than the S3 one's), unless the caller gives
  // STS a client of its own to ask.
  const recordsArn = provider !== undefined && !(cloudFront && !cloudFront.deployed);
  const caller =
    iamReady && recordsArn && knownArn === undefined && !dryRun
      ? iamReady
          .then(async (iam) => {
            // Once the list and the S3 reads beside it are on the wire: loading the STS module is
            // synchronous (see loadAwsSdk).
            await requestsOnTheWire();
            return callerIdentity({
              region,
              awsSettings: options.aws,
              client: options.clients?.sts,
              credentials: options.clients?.sts ? undefined : iam.client.config.credentials,
            });
          })
          .catch(() => undefined)
      : undefined;
  const alreadyPublic =
    target.publiclyReadable(paths.jwks) === true && target.publiclyReadable(paths.discovery) === true;
  // Round trip 2, when the documents were not both read anonymously: what they are, and the
  // bucket's public access settings and policy. The policy's write, if it needs one, goes beside
  // the state write: publishDocuments writes no document before it succeeds, so that if Block
  // Public Access refuses it, nothing is half-published.
  let checked = () => {};
  const policyChecked = new Promise<void>((resolve) => {
    checked = resolve;
  });
  const publicRead =
    options.publicReadPolicy && !alreadyPublic
      ? ensurePublicReadPolicy({
          s3,
          client,
          bucket,
          region,
          objectKeys: [paths.jwks, paths.discovery],
          scope: options.publicReadScope ?? "auto",
          dryRun,
          beforeWrite: checked,
        })
      : undefined;
  // Awaited by publishDocuments and below; a failure of the reads first must not leave it unhandled.
  publicRead?.catch(() => undefined);
  await target.prefetchSigned([paths.jwks, paths.discovery]);

  const published = new Map<string, string>();
  const versions = new Map<string, string | undefined>();
  const documents = await publishDocuments({
    issuer,
    target: recordingBodies(target, published, versions),
    paths: { ...paths, state: stateAt },
    keepPublishedIssuer: options.issuer === undefined,
    ...documentOptions(options),
    // Known by the state write (the lookup started with the first reads): recorded in it, so
    // that a first publish need not write the state again once the provider is made.
    oidcProviderArn:
      provider && recordsArn
        ? provider
            .then(({ lookup }) => expectedProviderArn(lookup, issuerHostPath(issuer), caller))
            .catch(() => undefined)
        : undefined,
    // No provider names the issuer: nothing trusts it yet, so a first publish may write both
    // documents at once (see publishDocuments). An error in the lookup says nothing of the kind.
    issuerUntrusted: provider?.then(({ lookup }) => lookup.kind === "missing").catch(() => false),
    servedAt,
    beforeDocuments: publicRead && {
      // Checked once it writes, or done (nothing to write, or refused).
      checked: Promise.race([policyChecked, publicRead]),
      done: publicRead,
    },
  });
  const bucketPolicy: BucketPolicyOutcome | undefined = (await publicRead) ?? cloudFront?.bucketPolicy;

  // The edge drops what changed before anything reads it back (or says until when it may not).
  const stale = cloudFront && !dryRun ? await cloudFront.invalidate(documents.documents) : [];
  warnings.push(...(cloudFront?.warnings ?? []), ...stale);
  const undeployed = cloudFront !== undefined && !cloudFront.deployed && !dryRun;
  if (undeployed) warnings.push(undeployedWarning(cloudFront.distribution));
  // What was read anonymously and left alone is what STS reads; anything else is read again.
  const provenServed = alreadyPublic && !external && !documents.documents.some((d) => d.written);
  const warnedBefore = warnings.length;
  if (!dryRun && !provenServed && !undeployed && stale.length === 0) {
    const urls = external
      ? { jwks: `${issuer}/keys.json`, discovery: `${issuer}/.well-known/openid-configuration` }
      : { jwks: target.locate(paths.jwks), discovery: target.locate(paths.discovery) };
    warnings.push(
      ...(await verifyServedDocuments({
        documents: [
          ...(["jwks", "discovery"] as const).map((name) => ({
            url: urls[name],
            expected: published.get(paths[name]) ?? "",
            readStored: async () => (await target.read(paths[name]))?.body,
          })),
        ],
        ...(options.clients?.httpsGet ? { httpsGet: options.clients.httpsGet } : {}),
        fix: cloudFront
          ? {
              notPublic: `check that distribution ${cloudFront.distribution.id} reads bucket ${bucket} through its origin access control and that the bucket policy statement ${cloudFront.bucketPolicy.sid} is there (irsa-anywhere doctor checks both)`,
              notFound: `check that the objects s3://${bucket}/${paths.jwks} and s3://${bucket}/${paths.discovery} exist`,
            }
          : external
            ? {
                notPublic: `let ${new URL(issuer).host} read the bucket (CloudFront: an origin access control and its bucket policy statement)`,
                notFound: `make ${new URL(issuer).host} serve s3://${bucket}/${prefix} at the issuer's path, or give the --prefix it serves`,
              }
            : {
                notPublic:
                  "run again with --public-read-policy, or add the statement in examples/iam/bucket-policy.json",
                notFound: `check that --issuer names bucket ${bucket} on its S3 host`,
              },
      })),
    );
  }

  // The read-back could not reach the issuer: the next run would try it in vain before the full path.
  const unreachable = warnings.length > warnedBefore;

  let oidcProvider: OidcProviderOutcome | undefined;
  // Not before the distribution serves the documents: STS must be able to read them first.
  if (provider && !undeployed) {
    const { iam, client: iamClient, lookup } = await provider;
    oidcProvider = await ensureOidcProvider({
      iam,
      client: iamClient,
      issuer,
      audiences,
      clusterName: options.clusterName,
      dryRun,
      lookup,
    });
  }
  // What the state does not record yet (a first run, or one after an upgrade), in one write; and
  // no issuer this machine cannot read.
  const recorded = recordedInState(published.get(stateAt));
  const records: StateRecords = {
    ...(oidcProvider?.arn !== undefined && oidcProvider.arn !== recorded.oidcProviderArn
      ? { oidcProviderArn: oidcProvider.arn }
      : {}),
    ...(external && !sameServedRecord(unreachable ? undefined : servedAt, recorded.servedAt)
      ? { servedAt: unreachable ? undefined : servedAt }
      : {}),
  };
  if (!dryRun && Object.keys(records).length > 0) {
    await recordInState(target, stateAt, published.get(stateAt), versions.get(stateAt), records);
  }

  return {
    ...documents,
    changed:
      documents.changed ||
      Boolean(bucketPolicy?.written) ||
      cloudFront?.distribution.action === "create" ||
      (oidcProvider !== undefined && oidcProvider.action !== "unchanged"),
    target: { kind: "s3", bucket, prefix, region },
    ...(bucketPolicy ? { bucketPolicy } : {}),
    ...(cloudFront ? { distribution: cloudFront.distribution } : {}),
    ...(oidcProvider ? { oidcProvider } : {}),
    warnings: [...documents.warnings, ...(bucketPolicy?.widened ? [bucketPolicy.widened] : []), ...warnings],
  };
}

/**
 * The ARN IAM gives (or gave) the issuer's provider: the one found, or one in the account of
 * another provider the list returned, else in the caller's account (`caller`, when asked);
 * undefined when neither says the account. A hint, like every ARN in the state: a wrong one
 * sends a later run back to the list, and a publish that makes the provider records IAM's
 * answer when it differs.
 */
async function expectedProviderArn(
  lookup: ProviderLookup,
  hostPath: string,
  caller: Promise<{ accountId: string; partition: string } | undefined> | undefined,
): Promise<string | undefined> {
  if (lookup.kind === "found") return lookup.arn;
  if (lookup.kind !== "missing") return undefined;
  const [, partition, , , accountId] = lookup.otherArns[0]?.split(":") ?? [];
  if (partition && accountId) return oidcProviderArn(partition, accountId, hostPath);
  const identity = await caller;
  return identity && oidcProviderArn(identity.partition, identity.accountId, hostPath);
}

/**
 * Records in the state what the next run needs: the provider's ARN, so that it asks IAM for it by
 * name (one request instead of two on every republish), and where the issuer is served, so that
 * a republish that changes nothing can prove so with reads alone (see `republishUnchanged`).
 * Written over the state this run read or wrote, and left to a later run when another one wrote
 * it in between.
 */
async function recordInState(
  target: S3Target,
  stateAt: string,
  body: string | undefined,
  version: string | undefined,
  records: StateRecords,
): Promise<void> {
  const next = body === undefined ? undefined : stateWithRecords(body, target.locate(stateAt), records);
  if (next === undefined || version === undefined) return;
  try {
    await target.write(stateAt, next, stateWriteCondition(version));
  } catch (error) {
    if (!(error instanceof PublishError && error.code === "ERR_PRECONDITION_FAILED")) throw error;
  }
}

/** The IAM module and client a bucket publish uses. */
function makeIamClient(options: PublishSettings, region: string) {
  const iam = loadAwsSdk<typeof import("@aws-sdk/client-iam")>(import.meta.url, "@aws-sdk/client-iam");
  const client =
    options.clients?.iam ??
    makeAwsClient(
      iam.IAMClient,
      "IAM",
      { region: partitionOf(region).iamRegion, maxAttempts: 5 },
      options.aws,
    );
  return { iam, client };
}

/** The options that publishDocuments takes as they are, whatever the target. */
function documentOptions(options: PublishSettings) {
  return {
    keys: options.keys,
    emptyKidTwin: options.emptyKidTwin ?? true,
    dryRun: options.dryRun ?? false,
    ...(options.rotation ? { rotation: options.rotation } : {}),
    ...(options.retainMs === undefined ? {} : { retainMs: options.retainMs }),
    ...(options.now ? { now: options.now } : {}),
  };
}

/** A target that remembers the last body, and its version, read or written per key: what is stored there. */
function recordingBodies(
  target: S3Target,
  bodies: Map<string, string>,
  versions: Map<string, string | undefined>,
): PublishTarget {
  return {
    description: target.description,
    locate: target.locate,
    statePath: target.statePath,
    async read(key) {
      const document = await target.read(key);
      if (document) {
        bodies.set(key, document.body);
        versions.set(key, document.version);
      }
      return document;
    },
    async write(key, body, condition) {
      await target.write(key, body, condition);
      bodies.set(key, body);
      versions.set(key, target.versionWritten(key));
    },
  };
}

/** Where object keys start on the issuer's S3 host: `https://host` (virtual-hosted) or `https://host/BUCKET`. */
function s3BaseUrl(issuer: string, bucket: string): string {
  const url = new URL(issuer);
  return url.hostname.startsWith(`${bucket}.`) ? url.origin : `${url.origin}/${bucket}`;
}

function validateAudiences(audiences: readonly string[] | undefined): void {
  if (audiences === undefined) return;
  const count = new Set(audiences).size;
  if (count > MAX_AUDIENCES) {
    throw new PublishError(
      "ERR_AUDIENCE_INVALID",
      `${count} audiences given; IAM takes at most ${MAX_AUDIENCES} client IDs per OIDC provider, so give fewer --audience`,
    );
  }
  for (const audience of audiences) {
    const problem = audienceProblem(audience);
    if (problem) throw new PublishError("ERR_AUDIENCE_INVALID", problem);
  }
}

async function ensurePublicReadPolicy(options: {
  s3: typeof import("@aws-sdk/client-s3");
  client: S3Client;
  bucket: string;
  region: string;
  objectKeys: string[];
  scope: PublicReadScope;
  dryRun: boolean;
  /** Called once the settings allow the policy and it is decided, right before it is written. */
  beforeWrite?: () => void;
}): Promise<BucketPolicyOutcome> {
  const { bucket, region } = options;
  // Both reads at once; the settings are judged first, whatever the policy read says.
  const [blocking, existing] = await Promise.allSettled([
    blockingPublicAccessSettings(options),
    readBucketPolicy(options),
  ]);
  if (blocking.status === "rejected") throw blocking.reason;
  if (blocking.value.length > 0) {
    throw new PublishError(
      "ERR_PUBLIC_ACCESS_BLOCKED",
      `bucket ${bucket}'s Block Public Access setting ${blocking.value.join(" and ")} stops a public-read policy; turn ${blocking.value.length > 1 ? "them" : "it"} off (aws s3api put-public-access-block --bucket ${bucket} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=false,RestrictPublicBuckets=false) or serve the issuer through CloudFront (--cloudfront instead of --public-read-policy)`,
    );
  }
  if (existing.status === "rejected") throw existing.reason;
  const {
    others: _,
    plan,
    ...outcome
  } = await ensureBucketStatement({
    ...options,
    existing: { policy: existing.value },
    statement: (policy) =>
      planPublicReadPolicy(policy, {
        partition: partitionOf(region).name,
        bucket,
        objectKeys: options.objectKeys,
        scope: options.scope,
      }),
    what: "public-read",
    onAccessDenied: (error) =>
      new PublishError(
        "ERR_PUBLIC_ACCESS_BLOCKED",
        `AWS refused the public-read policy on bucket ${bucket}: either this identity lacks s3:PutBucketPolicy, or the account's Block Public Access (BlockPublicPolicy) is on; check aws s3control get-public-access-block --account-id <id>`,
        { cause: error },
      ),
  });
  return {
    ...outcome,
    scope: plan.scope,
    grants: [plan.statement.Resource ?? []].flat(),
    ...(plan.widened ? { widened: plan.widened } : {}),
  };
}

async function blockingPublicAccessSettings(options: {
  s3: typeof import("@aws-sdk/client-s3");
  client: S3Client;
  bucket: string;
  region: string;
}): Promise<string[]> {
  const settings = await readBlockPublicAccess(options);
  return [
    ...(settings.BlockPublicPolicy ? ["BlockPublicPolicy"] : []),
    ...(settings.RestrictPublicBuckets ? ["RestrictPublicBuckets"] : []),
  ];
}
