// What a test reads back from S3 (moto) to see what a command made: the buckets there are, and a
// bucket's Block Public Access.
import {
  GetPublicAccessBlockCommand,
  ListBucketsCommand,
  type PublicAccessBlockConfiguration,
  type S3Client,
} from "@aws-sdk/client-s3";

/**
 * The names of the account's buckets.
 *
 * @example
 * expect(await bucketNames(s3)).toEqual([]); // nothing was created
 */
export async function bucketNames(s3: S3Client): Promise<string[]> {
  return ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((bucket) => bucket.Name ?? "");
}

/**
 * A bucket's Block Public Access configuration, as S3 holds it.
 *
 * @example
 * expect(await blockPublicAccess(s3, "my-oidc")).toMatchObject({ BlockPublicPolicy: false });
 */
export async function blockPublicAccess(
  s3: S3Client,
  bucket: string,
): Promise<PublicAccessBlockConfiguration | undefined> {
  return (await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration;
}
