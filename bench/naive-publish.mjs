// The naive script of bench/publish.mjs: what a user following the manual guide would script. It
// puts the bucket policy, both documents and the IAM provider, one call after another, reading
// nothing; run again, it writes everything again, and ignores that the provider exists already.
//
// Imported by bench/publish.mjs, or run as a process of its own for `--process`, loading nothing
// but the two SDK clients and reading the documents the bench built:
//
//   node bench/naive-publish.mjs ENDPOINT BUCKET PREFIX REGION JWKS_FILE DISCOVERY_FILE
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

// Resolved from the publisher's package, which depends on both clients, as loadAwsSdk loads them.
const require = createRequire(new URL("../packages/publisher/package.json", import.meta.url));

/** The naive writes, with the clients given. */
export async function naiveWrites({
  s3Client,
  iamClient,
  bucket,
  prefix,
  region,
  jwks,
  openIdConfiguration,
}) {
  const s3 = require("@aws-sdk/client-s3");
  const iam = require("@aws-sdk/client-iam");
  const issuer = `https://${bucket}.s3.${region}.amazonaws.com/${prefix}`;
  const policy = {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "PublicRead",
        Effect: "Allow",
        Principal: "*",
        Action: "s3:GetObject",
        Resource: [
          `arn:aws:s3:::${bucket}/${prefix}/keys.json`,
          `arn:aws:s3:::${bucket}/${prefix}/.well-known/openid-configuration`,
        ],
      },
    ],
  };
  await s3Client.send(new s3.PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
  for (const [key, body] of [
    [`${prefix}/keys.json`, jwks],
    [`${prefix}/.well-known/openid-configuration`, openIdConfiguration],
  ]) {
    await s3Client.send(
      new s3.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: "application/json" }),
    );
  }
  try {
    await iamClient.send(
      new iam.CreateOpenIDConnectProviderCommand({ Url: issuer, ClientIDList: ["sts.amazonaws.com"] }),
    );
  } catch (error) {
    if (error.name !== "EntityAlreadyExistsException") throw error;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [endpoint, bucket, prefix, region, jwksFile, discoveryFile] = process.argv.slice(2);
  const s3Client = new (require("@aws-sdk/client-s3").S3Client)({ region, endpoint, forcePathStyle: true });
  const iamClient = new (require("@aws-sdk/client-iam").IAMClient)({ region: "us-east-1", endpoint });
  await naiveWrites({
    s3Client,
    iamClient,
    bucket,
    prefix,
    region,
    jwks: readFileSync(jwksFile, "utf8"),
    openIdConfiguration: readFileSync(discoveryFile, "utf8"),
  });
}
