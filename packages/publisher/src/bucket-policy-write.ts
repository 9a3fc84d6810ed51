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
  /** The statement the publish needs. */
  sid: string;
  /**
   * For the public-read statement (`publicReadPolicy`): `exact`, this issuer's two objects;
   * `document-names`, every object so named in the bucket.
   */
  scope?: "exact" | "document-names";
  /** For the public-read statement: the object ARNs (patterns, for `document-names`) it lets anyone read. */
  grants?: string[];
  /** Set when `auto` granted by name since exact grants would outgrow the policy: what that means. */
  widened?: string;
}

/** The policy a statement needs, decided from the policy there now (undefined: none). */
export interface BucketPolicyPlan {
  policy: string;
  changed: boolean;
  statement: PolicyStatement;
}

interface BucketAccess {
  s3: typeof import("@aws-sdk/client-s3");
  client: S3Client;
  bucket: string;
  region: string;
}

/** The bucket's policy, or undefined when it has none. */
export async function readBucketPolicy(options: BucketAccess): Promise<string | undefined> {
  const { s3, client, bucket, region } = options;
  try {
    return (await client.send(new s3.GetBucketPolicyCommand({ Bucket: bucket }))).Policy;
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchBucketPolicy") return undefined;
    throw translateS3Error(error, {
      action: "s3:GetBucketPolicy",
      resource: `arn:${partitionOf(region).name}:s3:::${bucket}`,
      bucket,
      region,
    });
  }
}

/**
 * Reads the bucket's policy (unless `existing` holds it, read already), decides the policy with
 * the statement needed, and writes it back only when it changed. `statement` is either the
 * statement, merged beside the statements already there ({@link mergeBucketPolicy}), or a plan
 * deciding the policy from the one there now. `what` names the statement in the outcome's reason;
 * `onAccessDenied` turns a refused write into the caller's own error. `others` are the statements
 * the policy held besides this one, for the caller to judge; `plan` is what was decided.
 * `beforeWrite` lets a caller start work that may overlap the write, once nothing but the write is left.
 */
export async function ensureBucketStatement<P extends BucketPolicyPlan = BucketPolicyPlan>(
  options: BucketAccess & {
    statement: PolicyStatement | ((existing: string | undefined) => P);
    existing?: { policy: string | undefined };
    what: string;
    dryRun: boolean;
    onAccessDenied?: (error: unknown) => PublishError;
    /** Called once the policy is decided, right before it is written. */
    beforeWrite?: () => void;
  },
): Promise<BucketPolicyOutcome & { others: PolicyStatement[]; plan: P }> {
  const { s3, client, bucket, region, statement, what } = options;
  const existing = options.existing ? options.existing.policy : await readBucketPolicy(options);
  const plan =
    typeof statement === "function"
      ? statement(existing)
      : ({ ...mergeBucketPolicy(existing, statement), statement } as P);
  const sid = plan.statement.Sid ?? "";
  const others = otherStatements(existing, sid);
  if (!plan.changed)
    return {
      action: "unchanged",
      reason: `the ${what} statement is there`,
      written: false,
      sid,
      others,
      plan,
    };
  const action = existing === undefined ? "create" : "update";
  const reason =
    existing === undefined ? "the bucket has no policy" : `${what} statement added beside the existing ones`;
  if (options.dryRun) return { action, reason, written: false, sid, others, plan };
  options.beforeWrite?.();
  try {
    await client.send(new s3.PutBucketPolicyCommand({ Bucket: bucket, Policy: plan.policy }));
  } catch (error) {
    const translated = translateS3Error(error, {
      action: "s3:PutBucketPolicy",
      resource: `arn:${partitionOf(region).name}:s3:::${bucket}`,
      bucket,
      region,
    });
    if (translated.code === "ERR_AWS_ACCESS_DENIED" && options.onAccessDenied)
      throw options.onAccessDenied(error);
    throw translated;
  }
  return { action, reason, written: true, sid, others, plan };
}

/** The statements of a policy (valid JSON: it was merged into already) other than `sid`. */
function otherStatements(policy: string | undefined, sid: string): PolicyStatement[] {
  if (policy === undefined || policy.trim() === "") return [];
  const statements = (JSON.parse(policy) as { Statement?: PolicyStatement | PolicyStatement[] }).Statement;
  return (statements === undefined ? [] : [statements].flat()).filter((s) => s.Sid !== sid);
}
