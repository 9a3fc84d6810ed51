import type { S3Client } from "@aws-sdk/client-s3";
import { partitionOf } from "@irsa-anywhere/iam";
import { mergeBucketPolicy, type PolicyStatement } from "./bucket-policy.js";
import type { PublishError } from "./errors.js";
import { translateS3Error } from "./s3-error.js";

/** What a publish did to the bucket policy: the statement it needs, added or already there. */
export interface BucketPolicyOutcome {
  action: "create" | "update" | "unchanged";
  reason: string;
  written: boolean;
  sid: string;
}

/**
 * Reads the bucket's policy, merges `statement` beside the statements already there
 * ({@link mergeBucketPolicy}) and writes it back only when it changed. `what` names the statement
 * in the outcome's reason; `onAccessDenied` turns a refused write into the caller's own error.
 * `others` are the statements the policy held besides this one, for the caller to judge.
 */
export async function ensureBucketStatement(options: {
  s3: typeof import("@aws-sdk/client-s3");
  client: S3Client;
  bucket: string;
  region: string;
  statement: PolicyStatement;
  what: string;
  dryRun: boolean;
  onAccessDenied?: (error: unknown) => PublishError;
}): Promise<BucketPolicyOutcome & { others: PolicyStatement[] }> {
  const { s3, client, bucket, region, statement, what } = options;
  const bucketArn = `arn:${partitionOf(region).name}:s3:::${bucket}`;
  let existing: string | undefined;
  try {
    existing = (await client.send(new s3.GetBucketPolicyCommand({ Bucket: bucket }))).Policy;
  } catch (error) {
    if ((error as { name?: string }).name !== "NoSuchBucketPolicy") {
      throw translateS3Error(error, { action: "s3:GetBucketPolicy", resource: bucketArn, bucket, region });
    }
  }
  const merged = mergeBucketPolicy(existing, statement);
  const sid = statement.Sid ?? "";
  const others = otherStatements(existing, sid);
  if (!merged.changed)
    return { action: "unchanged", reason: `the ${what} statement is there`, written: false, sid, others };
  const action = existing === undefined ? "create" : "update";
  const reason =
    existing === undefined ? "the bucket has no policy" : `${what} statement added beside the existing ones`;
  if (options.dryRun) return { action, reason, written: false, sid, others };
  try {
    await client.send(new s3.PutBucketPolicyCommand({ Bucket: bucket, Policy: merged.policy }));
  } catch (error) {
    const translated = translateS3Error(error, {
      action: "s3:PutBucketPolicy",
      resource: bucketArn,
      bucket,
      region,
    });
    if (translated.code === "ERR_AWS_ACCESS_DENIED" && options.onAccessDenied)
      throw options.onAccessDenied(error);
    throw translated;
  }
  return { action, reason, written: true, sid, others };
}

/** The statements of a policy (valid JSON: mergeBucketPolicy has read it) other than `sid`. */
function otherStatements(policy: string | undefined, sid: string): PolicyStatement[] {
  if (policy === undefined || policy.trim() === "") return [];
  const statements = (JSON.parse(policy) as { Statement?: PolicyStatement | PolicyStatement[] }).Statement;
  return (statements === undefined ? [] : [statements].flat()).filter((s) => s.Sid !== sid);
}
