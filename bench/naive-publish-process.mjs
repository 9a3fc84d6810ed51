// The naive script of bench/publish.mjs as a process of its own, for `--process`: the least a
// user's own script could do. It reads the two documents the bench built (so that it loads
// nothing but the SDK), then puts the bucket policy, both objects and the IAM provider, one call
// after another, reading nothing; an existing provider is ignored.
//
//   node bench/naive-publish-process.mjs ENDPOINT BUCKET PREFIX REGION JWKS_FILE DISCOVERY_FILE
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

// Resolved from the publisher's package, which depends on both clients, as require() would load them.
const require = createRequire(new URL("../packages/publisher/package.json", import.meta.url));
const s3 = require("@aws-sdk/client-s3");
const iam = require("@aws-sdk/client-iam");

const [endpoint, bucket, prefix, region, jwksFile, discoveryFile] = process.argv.slice(2);
const s3Client = new s3.S3Client({ region, endpoint, forcePathStyle: true });
const iamClient = new iam.IAMClient({ region: "us-east-1", endpoint });
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
for (const [key, file] of [
  [`${prefix}/keys.json`, jwksFile],
  [`${prefix}/.well-known/openid-configuration`, discoveryFile],
]) {
  await s3Client.send(
    new s3.PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: readFileSync(file, "utf8"),
      ContentType: "application/json",
    }),
  );
}
try {
  await iamClient.send(
    new iam.CreateOpenIDConnectProviderCommand({ Url: issuer, ClientIDList: ["sts.amazonaws.com"] }),
  );
} catch (error) {
  if (error.name !== "EntityAlreadyExistsException") throw error;
}
