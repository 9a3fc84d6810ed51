// What a user reads for each AWS failure. moto cannot produce some of them (a denied permission,
// expired credentials), so the mapping is checked on errors shaped as the SDK throws them.
import { type AddressInfo, createServer } from "node:net";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { sdkError } from "../../../test/support/sdk-error.js";
import { awsError, describeAwsFailure, translateAwsError } from "./aws-error.js";
import { IamError } from "./errors.js";

const operation = {
  action: "s3:PutObject",
  resource: "arn:aws:s3:::b/prod/keys.json",
};

describe("translateAwsError", () => {
  it.each([
    [
      "a denied permission",
      sdkError("AccessDenied", 403),
      "ERR_AWS_ACCESS_DENIED",
      /needs s3:PutObject on arn:aws:s3:::b\/prod\/keys\.json/,
      false,
    ],
    [
      "no credentials",
      Object.assign(new Error("Could not load credentials from any providers"), {
        name: "CredentialsProviderError",
      }),
      "ERR_AWS_NO_CREDENTIALS",
      /AWS_PROFILE/,
      false,
    ],
    ["expired credentials", sdkError("ExpiredToken", 400), "ERR_AWS_NO_CREDENTIALS", /refresh them/, false],
    [
      "AWS at fault",
      sdkError("InternalError", 500),
      "ERR_AWS_REQUEST_FAILED",
      /AWS failed .*try again later/,
      false,
    ],
  ])("explains %s in one line with the fix", (_name, error, code, message, isInputError) => {
    const translated = translateAwsError(error, operation);
    expect(translated.code).toBe(code);
    expect(translated.isInputError).toBe(isInputError);
    expect(translated.message).toMatch(message);
    expect(translated.message).not.toContain("\n");
  });

  it("says the endpoint cannot be reached, not that AWS refused, when nothing answers", async () => {
    // A port that was free a moment ago: the real SDK meets a refused connection.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const s3 = new S3Client({
      region: "us-west-2",
      endpoint: `http://127.0.0.1:${port}`,
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
    const error = await s3.send(new GetObjectCommand({ Bucket: "b", Key: "prod/keys.json" })).catch((e) => e);
    const translated = translateAwsError(error, { ...operation, action: "s3:GetObject" });
    expect(translated.code).toBe("ERR_AWS_UNREACHABLE");
    expect(translated.message).toMatch(/^cannot reach S3 for s3:GetObject: ECONNREFUSED; check the network/);
  });
});

describe("describeAwsFailure and awsError", () => {
  it.each([
    [
      "no credentials",
      Object.assign(new Error("Could not load credentials from any providers"), {
        name: "CredentialsProviderError",
      }),
      "no-credentials",
      "ERR_AWS_NO_CREDENTIALS",
      /AWS_PROFILE/,
    ],
    [
      "rejected credentials",
      sdkError("InvalidClientTokenId", 403),
      "credentials-rejected",
      "ERR_AWS_NO_CREDENTIALS",
      /rejected the credentials \(InvalidClientTokenId\)/,
    ],
    [
      "a denied permission",
      sdkError("AccessDenied", 403),
      "access-denied",
      "ERR_AWS_ACCESS_DENIED",
      /access denied \(request id REQ123\); grant this identity iam:GetRole/,
    ],
    ["a missing role", sdkError("NoSuchEntity", 404), "not-found", "ERR_AWS_REQUEST_FAILED", /NoSuchEntity/],
    [
      "a refused connection",
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }),
      "unreachable",
      "ERR_AWS_UNREACHABLE",
      /ECONNREFUSED/,
    ],
    [
      "AWS at fault",
      sdkError("ServiceFailure", 500),
      "other",
      "ERR_AWS_REQUEST_FAILED",
      /AWS failed: ServiceFailure \(HTTP 500\)/,
    ],
  ])("reads %s as one kind, and one code", (_name, error, kind, code, message) => {
    expect(describeAwsFailure(error).kind).toBe(kind);
    const thrown = awsError(error, ["iam:GetRole"]);
    expect(thrown).toBeInstanceOf(IamError);
    expect(thrown.code).toBe(code);
    expect(thrown.message).toMatch(message);
    expect(thrown.message).not.toContain("\n");
  });
});
