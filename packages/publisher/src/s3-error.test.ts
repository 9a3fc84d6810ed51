// What a user reads for an S3 failure that is the user's to fix. moto cannot produce a bucket in
// another region, so the mapping is checked on errors shaped as the SDK throws them.
import { describe, expect, it } from "vitest";
import { sdkError } from "../../../test/support/sdk-error.js";
import { translateS3Error } from "./s3-error.js";

const operation = {
  action: "s3:PutObject",
  resource: "arn:aws:s3:::b/prod/keys.json",
  bucket: "b",
  region: "us-west-2",
};

describe("translateS3Error", () => {
  it.each([
    [
      "a missing bucket",
      sdkError("NoSuchBucket", 404),
      "ERR_BUCKET_NOT_FOUND",
      /aws s3 mb s3:\/\/b --region us-west-2/,
      true,
    ],
    [
      "a bucket in another region",
      sdkError("PermanentRedirect", 301, {
        $response: { headers: { "x-amz-bucket-region": "eu-central-1" } },
      }),
      "ERR_BUCKET_WRONG_REGION",
      /is in eu-central-1, not us-west-2; run again with --region eu-central-1/,
      true,
    ],
    [
      "a bucket name another account holds",
      sdkError("BucketAlreadyExists", 409),
      "ERR_BUCKET_TAKEN",
      /bucket name b is taken by another AWS account .*; choose another --bucket/,
      true,
    ],
    [
      "a denied permission, as every AWS call",
      sdkError("AccessDenied", 403),
      "ERR_AWS_ACCESS_DENIED",
      /needs s3:PutObject on arn:aws:s3:::b\/prod\/keys\.json/,
      false,
    ],
  ])("explains %s in one line with the fix", (_name, error, code, message, isInputError) => {
    const translated = translateS3Error(error, operation);
    expect(translated.code).toBe(code);
    expect(translated.isInputError).toBe(isInputError);
    expect(translated.message).toMatch(message);
    expect(translated.message).not.toContain("\n");
  });
});
