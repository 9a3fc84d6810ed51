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
