import { createHash } from "node:crypto";
import { PublishError } from "./errors.js";

/** One statement of an IAM/S3 policy document; only the members this package reads are typed. */
export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: unknown;
  Action?: string | string[];
  Resource?: string | string[];
  [member: string]: unknown;
}

/**
 * The statement that lets anyone read exactly the two documents of one issuer, and nothing
 * else of the bucket. Its Sid is derived from the object keys, so several clusters sharing a
 * bucket under different prefixes each get their own statement.
 */
export function publicReadStatement(options: {
  partition: string;
  bucket: string;
  objectKeys: readonly string[];
}): PolicyStatement {
  const keys = [...options.objectKeys].sort();
  const digest = createHash("sha256")
    .update(`${options.bucket}/${keys.join("\n")}`)
    .digest("hex")
    .slice(0, 12);
  return {
    Sid: `IrsaAnywherePublicRead${digest}`,
    Effect: "Allow",
    Principal: "*",
    Action: "s3:GetObject",
    Resource: keys.map((key) => `arn:${options.partition}:s3:::${options.bucket}/${key}`),
  };
}

/** S3's limit on the size of a bucket policy, in bytes. */
export const BUCKET_POLICY_MAX_BYTES = 20 * 1024;

/**
 * Beyond this size `auto` stops adding one statement per cluster (about 205 bytes and more each,
 * with the names: some 60 to 80 clusters) and grants by document name instead, leaving room for
 * the bucket's other statements.
 */
export const EXACT_GRANTS_MAX_BYTES = 16 * 1024;

/**
 * How the public-read statement names what it grants:
 * - `exact`: the two objects of this issuer, one statement per cluster sharing the bucket;
 * - `document-names`: one statement for the whole bucket, granting every object named `keys.json`
 *   or `.well-known/openid-configuration`, at the root or under any prefix. Its size does not grow
 *   with the clusters, but any object so named anywhere in the bucket is public;
 * - `auto` (the default): `exact`, until the policy would outgrow {@link EXACT_GRANTS_MAX_BYTES},
 *   then `document-names`; and nothing more once a `document-names` statement is there.
 */
export type PublicReadScope = (typeof PUBLIC_READ_SCOPES)[number];
/** Every {@link PublicReadScope}, the default first. */
export const PUBLIC_READ_SCOPES = ["auto", "exact", "document-names"] as const;

/** The Sid of the `document-names` statement: one per bucket. */
export const DOCUMENT_NAMES_SID = "IrsaAnywherePublicReadDocumentNames";

/**
 * The statement that lets anyone read every object named like an issuer's document, at the root
 * of the bucket or under any prefix. The publisher's state (`.irsa-anywhere-state.json`) never
 * has such a name, so it stays private.
 */
export function documentNamesReadStatement(options: { partition: string; bucket: string }): PolicyStatement {
  const bucketArn = `arn:${options.partition}:s3:::${options.bucket}`;
  return {
    Sid: DOCUMENT_NAMES_SID,
    Effect: "Allow",
    Principal: "*",
    Action: "s3:GetObject",
    // In a resource ARN "*" also matches "/", so "*/keys.json" covers every depth of prefix.
    Resource: [
      `${bucketArn}/keys.json`,
      `${bucketArn}/.well-known/openid-configuration`,
      `${bucketArn}/*/keys.json`,
      `${bucketArn}/*/.well-known/openid-configuration`,
    ],
  };
}

/** What {@link planPublicReadPolicy} decided: the policy to write, and which statement grants the read. */
export interface PublicReadPlan {
  policy: string;
  changed: boolean;
  statement: PolicyStatement;
  scope: "exact" | "document-names";
  /** The policy's size in bytes, which S3 limits to {@link BUCKET_POLICY_MAX_BYTES}. */
  bytes: number;
  /** Set when `auto` chose `document-names`: what that grants, for the user. */
  widened?: string;
}

/**
 * Decides the bucket policy that makes an issuer's two documents public, from the policy there
 * now, by the `scope` asked for (see {@link PublicReadScope}). Pure: the caller writes it.
 *
 * @throws {PublishError} `ERR_BUCKET_POLICY_TOO_LARGE` when the policy would outgrow S3's limit;
 *   `ERR_PUBLISHED_DOCUMENT_INVALID` when the existing policy is not JSON.
 *
 * @example
 * const plan = planPublicReadPolicy(undefined, {
 *   partition: "aws",
 *   bucket: "my-oidc",
 *   objectKeys: ["prod/keys.json", "prod/.well-known/openid-configuration"],
 *   scope: "auto",
 * });
 * console.log(plan.scope, plan.bytes); // "exact", and the policy's size in bytes
 */
export function planPublicReadPolicy(
  existing: string | undefined,
  options: { partition: string; bucket: string; objectKeys: readonly string[]; scope: PublicReadScope },
): PublicReadPlan {
  const { partition, bucket, scope } = options;
  const byName = documentNamesReadStatement({ partition, bucket });
  const plan = (statement: PolicyStatement, kind: PublicReadPlan["scope"]): PublicReadPlan => {
    const merged = mergeBucketPolicy(existing, statement);
    return { ...merged, statement, scope: kind, bytes: Buffer.byteLength(merged.policy) };
  };
  let chosen: PublicReadPlan;
  if (scope === "document-names") {
    chosen = plan(byName, "document-names");
  } else {
    const exact = plan(publicReadStatement(options), "exact");
    const byNameThere = scope === "auto" && !plan(byName, "document-names").changed;
    if (byNameThere) {
      chosen = plan(byName, "document-names");
    } else if (scope === "exact" || !exact.changed || exact.bytes <= EXACT_GRANTS_MAX_BYTES) {
      chosen = exact;
    } else {
      chosen = {
        ...plan(byName, "document-names"),
        widened: `bucket ${bucket}'s policy would grow to ${exact.bytes} bytes with one more exact statement, so every object named keys.json or .well-known/openid-configuration in the bucket, at any prefix, is now public (--public-read-scope exact to refuse this)`,
      };
    }
  }
  if (chosen.changed && chosen.bytes > BUCKET_POLICY_MAX_BYTES) {
    throw new PublishError(
      "ERR_BUCKET_POLICY_TOO_LARGE",
      `bucket ${bucket}'s policy would be ${chosen.bytes} bytes with the public-read statement, and S3 takes at most ${BUCKET_POLICY_MAX_BYTES}; ${
        chosen.scope === "exact"
          ? "publish with --public-read-scope document-names (one statement for every cluster in the bucket), or remove statements no longer needed"
          : "remove statements no longer needed (aws s3api get-bucket-policy)"
      }`,
    );
  }
  return chosen;
}

/**
 * Adds a statement to a bucket policy, keeping every statement already there. Returns the
 * policy unchanged (`changed: false`) when an identical statement is present.
 *
 * @throws {PublishError} `ERR_PUBLISHED_DOCUMENT_INVALID` when the existing policy is not JSON.
 */
export function mergeBucketPolicy(
  existing: string | undefined,
  statement: PolicyStatement,
): { policy: string; changed: boolean } {
  let document: {
    Version?: string;
    Statement?: PolicyStatement | PolicyStatement[];
    [member: string]: unknown;
  };
  try {
    document = existing === undefined || existing.trim() === "" ? {} : JSON.parse(existing);
  } catch {
    throw new PublishError(
      "ERR_PUBLISHED_DOCUMENT_INVALID",
      "the bucket's policy is not valid JSON; fix it (aws s3api get-bucket-policy) before adding the public-read statement",
    );
  }
  const statements = document.Statement === undefined ? [] : [document.Statement].flat();
  const same = statements.find((s) => s.Sid === statement.Sid);
  if (same && JSON.stringify(same) === JSON.stringify(statement)) {
    return { policy: existing ?? "", changed: false };
  }
  const merged = same
    ? statements.map((s) => (s.Sid === statement.Sid ? statement : s))
    : [...statements, statement];
  return {
    policy: JSON.stringify({ ...document, Version: document.Version ?? "2012-10-17", Statement: merged }),
    changed: true,
  };
}
