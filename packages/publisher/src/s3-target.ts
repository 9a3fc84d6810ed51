import type { S3Client } from "@aws-sdk/client-s3";
import { httpsGet, isFailure } from "@irsa-anywhere/discovery";
import { partitionOf } from "@irsa-anywhere/iam";
import { PublishError } from "./errors.js";
import { translateS3Error } from "./s3-error.js";
import { statePath } from "./state.js";
import type { PublishTarget, StoredDocument } from "./target.js";

type S3Module = typeof import("@aws-sdk/client-s3");

export interface S3TargetOptions {
  s3: S3Module;
  client: S3Client;
  bucket: string;
  region: string;
  /**
   * Where the objects can be read anonymously, as STS reads them (`https://bucket.s3.region.
   * amazonaws.com`, or `<endpoint>/<bucket>`); omitted when something else serves the issuer.
   */
  publicBaseUrl?: string | undefined;
  /** How long an anonymous read may wait; default 10 s. */
  anonymousReadTimeoutMs?: number | undefined;
}

/** An S3 target that also tells whether its documents can be read without credentials. */
export interface S3Target extends PublishTarget {
  /** Reads the documents anonymously once; the next `read` of each is answered from this. */
  prefetch(keys: readonly string[]): Promise<void>;
  /**
   * Reads objects with credentials, at once, except those already prefetched; the next `read` of
   * each is answered from this, so reads that do not depend on each other share one round trip.
   */
  prefetchSigned(keys: readonly string[]): Promise<void>;
  /** What a prefetch read for the key and no `read` has taken yet; sends no request. */
  peek(key: string): StoredDocument | undefined;
  /** The version (ETag) S3 gave the object's last write by this target. */
  versionWritten(key: string): string | undefined;
  /** Per object key: readable without credentials (true), not (false), or not known. */
  publiclyReadable(key: string): boolean | undefined;
  /** Reads an object anonymously again, e.g. after the first publish. */
  probePublicRead(key: string): Promise<boolean | undefined>;
}

/**
 * Publishes to an S3 bucket with conditional writes: `If-None-Match: *` for a first write and
 * `If-Match: <ETag>` for a replacement, so two publishers can never overwrite each other's
 * merge. No object ACLs are sent: buckets made since April 2023 have ACLs disabled.
 */
export function s3Target(options: S3TargetOptions): S3Target {
  const { s3, client, bucket, region } = options;
  const prefetched = new Map<string, StoredDocument | undefined>();
  const readable = new Map<string, boolean | undefined>();
  const written = new Map<string, string | undefined>();
  const objectArn = (key: string) => `arn:${partitionOf(region).name}:s3:::${bucket}/${key}`;
  const locate = (key: string) =>
    options.publicBaseUrl ? `${options.publicBaseUrl}/${encodeKey(key)}` : `s3://${bucket}/${key}`;

  /** An unsigned GET, as STS makes it. `undefined`: no conclusion, read with credentials. */
  async function anonymousRead(key: string): Promise<{ document?: StoredDocument; readable?: boolean }> {
    if (!options.publicBaseUrl) return {};
    // STS gives up after 5 s; a network that drops the request must not hold the job longer.
    const answer = await httpsGet(locate(key), {
      timeoutMs: options.anonymousReadTimeoutMs ?? 10_000,
      headers: { "cache-control": "no-cache" },
    });
    if (isFailure(answer)) return {};
    if (answer.status === 200) {
      const etag = answer.headers.etag;
      return etag ? { document: { body: answer.body, version: etag }, readable: true } : { readable: true };
    }
    // 403 is what S3 answers anonymously for a private object, and for a missing one
    // unless anonymous listing is allowed; either way, read with credentials.
    return answer.status === 403 ? { readable: false } : {};
  }

  async function signedRead(key: string): Promise<StoredDocument | undefined> {
    try {
      const object = await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: key }));
      const body = (await object.Body?.transformToString("utf-8")) ?? "";
      return { body, version: object.ETag ?? "" };
    } catch (error) {
      if ((error as { name?: string }).name === "NoSuchKey") return undefined;
      // Without s3:ListBucket, S3 answers 403 rather than 404 for a key that does not exist yet.
      throw translateS3Error(error, {
        action: "s3:GetObject (and s3:ListBucket, without which a missing object reads as 403)",
        resource: objectArn(key),
        bucket,
        region,
      });
    }
  }

  return {
    description: `bucket ${bucket}`,
    locate,
    statePath,
    async prefetch(keys) {
      await Promise.all(
        keys.map(async (key) => {
          const result = await anonymousRead(key);
          readable.set(key, result.readable);
          if (result.document) prefetched.set(key, result.document);
        }),
      );
    },
    async prefetchSigned(keys) {
      await Promise.all(
        keys
          .filter((key) => !prefetched.has(key))
          .map(async (key) => {
            prefetched.set(key, await signedRead(key));
          }),
      );
    },
    peek: (key) => prefetched.get(key),
    versionWritten: (key) => written.get(key),
    publiclyReadable: (key) => readable.get(key),
    async probePublicRead(key) {
      const result = await anonymousRead(key);
      readable.set(key, result.readable);
      return result.readable;
    },
    async read(key) {
      if (prefetched.has(key)) {
        const document = prefetched.get(key);
        prefetched.delete(key); // a conflict's re-read must see the newest version
        return document;
      }
      return signedRead(key);
    },
    async write(key, body, condition) {
      try {
        const answer = await client.send(
          new s3.PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: condition.contentType,
            CacheControl: condition.cacheControl,
            ...(condition.expectedVersion === null
              ? { IfNoneMatch: "*" }
              : { IfMatch: condition.expectedVersion }),
          }),
        );
        written.set(key, answer.ETag);
      } catch (error) {
        const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
        const status = e.$metadata?.httpStatusCode;
        if (
          e.name === "PreconditionFailed" ||
          e.name === "ConditionalRequestConflict" ||
          status === 412 ||
          status === 409
        ) {
          throw new PublishError(
            "ERR_PRECONDITION_FAILED",
            `s3://${bucket}/${key} changed since it was read`,
          );
        }
        throw translateS3Error(error, {
          action: "s3:PutObject",
          resource: objectArn(key),
          bucket,
          region,
        });
      }
    },
  };
}

function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}
