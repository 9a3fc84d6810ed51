import { describe, expect, it } from "vitest";
import { mergeBucketPolicy, publicReadStatement } from "./bucket-policy.js";
import { PublishError } from "./errors.js";
import { objectPrefixForIssuer, s3Issuer } from "./s3-location.js";

describe("s3Issuer", () => {
  it.each([
    [{ bucket: "oidc", region: "us-west-2" }, "https://oidc.s3.us-west-2.amazonaws.com"],
    [
      { bucket: "oidc", region: "us-west-2", prefix: "/clusters/prod/" },
      "https://oidc.s3.us-west-2.amazonaws.com/clusters/prod",
    ],
    [
      { bucket: "oidc.example.com", region: "eu-west-1", prefix: "prod" },
      "https://s3.eu-west-1.amazonaws.com/oidc.example.com/prod",
    ],
    [{ bucket: "oidc", region: "cn-north-1" }, "https://oidc.s3.cn-north-1.amazonaws.com.cn"],
    [{ bucket: "oidc", region: "us-gov-west-1" }, "https://oidc.s3.us-gov-west-1.amazonaws.com"],
  ])("derives the issuer of %j", (options, issuer) => {
    expect(s3Issuer(options)).toBe(issuer);
  });
});

describe("objectPrefixForIssuer", () => {
  const bucket = "oidc";
  const region = "us-west-2";
  // Every spelling S3 answers to for the bucket, with or without --external-issuer.
  it.each([
    ["https://oidc.s3.us-west-2.amazonaws.com", ""],
    ["https://oidc.s3.us-west-2.amazonaws.com/a/b", "a/b"],
    ["https://oidc.s3-us-west-2.amazonaws.com/a", "a"],
    ["https://oidc.s3.amazonaws.com/a", "a"],
    ["https://oidc.s3.dualstack.us-west-2.amazonaws.com/a", "a"],
    ["https://s3.us-west-2.amazonaws.com/oidc/a", "a"],
    ["https://s3-us-west-2.amazonaws.com/oidc", ""],
    ["https://s3-us-west-2.amazonaws.com/oidc/a", "a"],
    ["https://s3.amazonaws.com/oidc/a", "a"],
    ["https://s3.dualstack.us-west-2.amazonaws.com/oidc/a", "a"],
    ["https://s3.us-west-2.amazonaws.com/oidc/c%34", "c4"],
  ])("maps %s to object prefix %j", (issuer, prefix) => {
    expect(objectPrefixForIssuer({ issuer, bucket, region })).toBe(prefix);
    expect(objectPrefixForIssuer({ issuer, bucket, region, external: true })).toBe(prefix);
  });

  it.each([
    ["cn-north-1", "https://oidc.s3.cn-north-1.amazonaws.com.cn/a"],
    ["cn-north-1", "https://s3.cn-north-1.amazonaws.com.cn/oidc/a"],
    ["us-gov-west-1", "https://oidc.s3.us-gov-west-1.amazonaws.com/a"],
    ["us-gov-west-1", "https://s3-us-gov-west-1.amazonaws.com/oidc/a"],
  ])("maps %s's S3 host %s", (bucketRegion, issuer) => {
    expect(objectPrefixForIssuer({ issuer, bucket, region: bucketRegion })).toBe("a");
  });

  it.each([
    [
      "another bucket's virtual host",
      "https://other.s3.us-west-2.amazonaws.com",
      /bucket "other"'s S3 URL, not bucket oidc's/,
    ],
    [
      "another bucket's path",
      "https://s3-us-west-2.amazonaws.com/other/a",
      /bucket "other"'s S3 URL, not bucket oidc's/,
    ],
    [
      "another region's host",
      "https://oidc.s3.eu-west-1.amazonaws.com",
      /in eu-west-1, but bucket oidc is in us-west-2/,
    ],
    [
      "another region's path-style host",
      "https://s3-eu-west-1.amazonaws.com/oidc",
      /in eu-west-1, but bucket oidc is in us-west-2/,
    ],
    [
      "another partition's host",
      "https://s3.amazonaws.com.cn/oidc",
      /amazonaws\.com\.cn, but bucket oidc is in us-west-2/,
    ],
  ])("refuses %s, naming both, even with --external-issuer", (_name, issuer, message) => {
    for (const external of [false, true]) {
      let caught: unknown;
      try {
        objectPrefixForIssuer({ issuer, bucket, region, external });
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ code: "ERR_ISSUER_MISMATCH", isInputError: true });
      expect((caught as Error).message).toMatch(message);
    }
  });

  it.each([
    ["another host", { issuer: "https://oidc.example.com/a" }],
    ["another bucket's host", { issuer: "https://other.s3.us-west-2.amazonaws.com" }],
    ["another region's host", { issuer: "https://oidc.s3.eu-west-1.amazonaws.com" }],
    [
      "a prefix that disagrees with the path",
      { issuer: "https://oidc.s3.us-west-2.amazonaws.com/a", prefix: "b" },
    ],
  ])("refuses %s", (_name, extra) => {
    expect(() => objectPrefixForIssuer({ bucket, region, ...extra })).toThrow(PublishError);
  });

  it("maps an external issuer's path one to one, or to --prefix", () => {
    expect(
      objectPrefixForIssuer({ issuer: "https://oidc.example.com/a", bucket, region, external: true }),
    ).toBe("a");
    expect(
      objectPrefixForIssuer({
        issuer: "https://oidc.example.com/a",
        bucket,
        region,
        external: true,
        prefix: "x/y",
      }),
    ).toBe("x/y");
  });
});

describe("mergeBucketPolicy", () => {
  const statement = publicReadStatement({
    partition: "aws",
    bucket: "oidc",
    objectKeys: ["p/keys.json", "p/.well-known/openid-configuration"],
  });

  it("creates a policy when there is none", () => {
    const { policy, changed } = mergeBucketPolicy(undefined, statement);
    expect(changed).toBe(true);
    expect(JSON.parse(policy)).toEqual({ Version: "2012-10-17", Statement: [statement] });
  });

  it("keeps every statement already there, including a lone object statement", () => {
    const theirs = {
      Sid: "Theirs",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: "arn:aws:s3:::oidc/private/*",
    };
    const { policy } = mergeBucketPolicy(
      JSON.stringify({ Version: "2012-10-17", Statement: theirs }),
      statement,
    );
    expect(JSON.parse(policy).Statement).toEqual([theirs, statement]);
  });

  it("changes nothing when the statement is already there", () => {
    const once = mergeBucketPolicy(undefined, statement).policy;
    expect(mergeBucketPolicy(once, statement)).toEqual({ policy: once, changed: false });
  });

  it("gives clusters sharing a bucket different statements", () => {
    const other = publicReadStatement({
      partition: "aws",
      bucket: "oidc",
      objectKeys: ["q/keys.json", "q/.well-known/openid-configuration"],
    });
    expect(other.Sid).not.toBe(statement.Sid);
    const both = mergeBucketPolicy(mergeBucketPolicy(undefined, statement).policy, other).policy;
    expect(JSON.parse(both).Statement).toHaveLength(2);
  });

  it("refuses to overwrite a policy it cannot parse", () => {
    expect(() => mergeBucketPolicy("{not json", statement)).toThrow(PublishError);
  });
});
