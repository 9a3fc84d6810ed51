import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiscoveryError, type DiscoveryErrorCode } from "@irsa-anywhere/discovery";
import { DoctorError, type DoctorErrorCode } from "@irsa-anywhere/doctor";
import { InputError, type InputErrorCode } from "@irsa-anywhere/errors";
import { IamError, type IamErrorCode } from "@irsa-anywhere/iam";
import { KeysError, type KeysErrorCode } from "@irsa-anywhere/keys";
import { KubeError, type KubeErrorCode } from "@irsa-anywhere/kube";
import { PublishError, type PublishErrorCode } from "@irsa-anywhere/publisher";
import { RoleError, type RoleErrorCode } from "@irsa-anywhere/role";
import { ServeError, type ServeErrorCode } from "@irsa-anywhere/server";
import { WebhookError, type WebhookErrorCode } from "@irsa-anywhere/webhook";
import { afterAll, describe, expect, it } from "vitest";
import { emit } from "./emit.js";
import { CliError, type CliErrorCode } from "./errors.js";
import { type EXIT_FAILURE, EXIT_USAGE } from "./exit-codes.js";
import { exitCodeFor } from "./failure.js";
import { UsageError } from "./usage-error.js";

type ExitCode = typeof EXIT_FAILURE | typeof EXIT_USAGE;

// The exit code the CLI gives every code of every package, written out one by one so that a
// change to any of them shows here. Each table is a Record over the package's code union: a code
// added to a package without a row here fails the type check of the tests.
const keys: Record<KeysErrorCode, ExitCode> = {
  ERR_KEY_UNREADABLE: 2,
  ERR_KEY_NOT_FOUND: 2,
  ERR_KEY_ENCRYPTED: 2,
  ERR_KEY_MALFORMED: 2,
  ERR_KEY_UNSUPPORTED: 2,
  ERR_KEY_TOO_SMALL: 2,
  ERR_KID_CONFLICT: 2,
  ERR_JWK_PRIVATE_MEMBER: 1,
  ERR_JWKS_INVALID: 2,
  ERR_SECRET_INVALID: 2,
  ERR_SECRET_NAME_INVALID: 2,
};

const input: Record<InputErrorCode, ExitCode> = {
  ERR_INPUT_UNREADABLE: 2,
  ERR_INPUT_TOO_LARGE: 2,
};

const kube: Record<KubeErrorCode, ExitCode> = {
  ERR_CLUSTER_UNREACHABLE: 1,
  ERR_CLUSTER_FORBIDDEN: 1,
  ERR_CLUSTER_SECRET_NOT_FOUND: 2,
  ERR_KUBECONFIG_INVALID: 2,
  ERR_CLUSTER_WRITE_REFUSED: 1,
  ERR_DEPLOYMENT_NOT_READY: 1,
};

const webhook: Record<WebhookErrorCode, ExitCode> = {
  ERR_WEBHOOK_OPTION_INVALID: 2,
  ERR_WEBHOOK_CA_INVALID: 1,
  ERR_WEBHOOK_NOT_INSTALLED: 2,
  ERR_WEBHOOK_CERT_MANAGED: 2,
};

const discovery: Record<DiscoveryErrorCode, ExitCode> = {
  ERR_ISSUER_INVALID: 2,
  ERR_JWKS_URI_INVALID: 2,
  ERR_CLUSTER_CONFIG_INVALID: 2,
};

const publisher: Record<PublishErrorCode, ExitCode> = {
  ERR_PRECONDITION_FAILED: 1,
  ERR_CONCURRENT_UPDATES: 1,
  ERR_PUBLISHED_DOCUMENT_INVALID: 2,
  ERR_TARGET_UNWRITABLE: 1,
  ERR_TARGET_UNREADABLE: 1,
  ERR_TARGET_MISSING: 2,
  ERR_ISSUER_MISMATCH: 2,
  ERR_BUCKET_NOT_FOUND: 2,
  ERR_BUCKET_WRONG_REGION: 2,
  ERR_BUCKET_TAKEN: 2,
  ERR_REGION_MISSING: 2,
  ERR_PUBLIC_ACCESS_BLOCKED: 1,
  ERR_BUCKET_POLICY_TOO_LARGE: 1,
  ERR_DURATION_INVALID: 2,
  ERR_TOO_MANY_KEYS: 1,
  ERR_ROTATION_PRECONDITION: 1,
  ERR_DOCUMENTS_NOT_SERVED: 1,
  ERR_AUDIENCE_INVALID: 2,
  ERR_CLOUDFRONT_INVALID: 2,
  ERR_CERTIFICATE_UNUSABLE: 2,
  ERR_DISTRIBUTION_NOT_DEPLOYED: 1,
};

const iam: Record<IamErrorCode, ExitCode> = {
  ERR_AWS_ACCESS_DENIED: 1,
  ERR_AWS_NO_CREDENTIALS: 1,
  ERR_AWS_REQUEST_FAILED: 1,
  ERR_AWS_UNREACHABLE: 1,
  ERR_REGION_INVALID: 2,
  ERR_SERVICE_ACCOUNT_INVALID: 2,
  ERR_ROLE_ARN_INVALID: 2,
  ERR_ROLE_NOT_FOUND: 2,
  ERR_TRUST_POLICY_INVALID: 1,
  ERR_TRUST_POLICY_UNMERGEABLE: 1,
  ERR_ACCOUNT_ID_INVALID: 2,
  ERR_AUDIENCE_INVALID: 2,
};

const doctor: Record<DoctorErrorCode, ExitCode> = {
  ERR_AUDIENCE_INVALID: 2,
  ERR_SMOKE_TEST_INCOMPLETE: 2,
  ERR_SIGNING_KEY_MISSING: 2,
  ERR_SIGNING_KEY_INVALID: 2,
};

const server: Record<ServeErrorCode, ExitCode> = {
  ERR_LISTEN_ADDRESS_INVALID: 2,
  ERR_PLAIN_HTTP_REFUSED: 2,
  ERR_DURATION_OUT_OF_RANGE: 2,
  ERR_LISTEN_FAILED: 1,
  ERR_TLS_FILES_UNREADABLE: 2,
  ERR_TLS_INVALID: 2,
  ERR_DOCUMENTS_NOT_FOUND: 2,
  ERR_DOCUMENTS_INVALID: 2,
  ERR_SERVER_CLOSED: 1,
};

const role: Record<RoleErrorCode, ExitCode> = {
  ERR_ROLE_NAME_INVALID: 2,
  ERR_ROLE_OPTION_INVALID: 2,
  ERR_POLICY_ARN_INVALID: 2,
  ERR_ARN_PARTITION_MISMATCH: 2,
  ERR_POLICY_INVALID: 2,
  ERR_NAMESPACE_NOT_FOUND: 2,
  ERR_OIDC_PROVIDER_MISSING: 2,
  ERR_ANNOTATION_CONFLICT: 2,
  ERR_TRUST_POLICY_TOO_WIDE: 2,
  ERR_TRUST_POLICY_CONFLICT: 1,
  ERR_SERVICE_ACCOUNT_NOT_ANNOTATED: 1,
  ERR_ROLE_INCOMPLETE: 1,
};

const cli: Record<CliErrorCode, ExitCode> = {
  ERR_USAGE: 2,
  ERR_OUTPUT_UNWRITABLE: 2,
  ERR_INPUT_CHANGED: 1,
};

function rows<Code extends string>(
  table: Record<Code, ExitCode>,
  make: (code: Code) => Error,
): [string, Error, ExitCode][] {
  return (Object.entries(table) as [Code, ExitCode][]).map(([code, exitCode]) => [
    code,
    make(code),
    exitCode,
  ]);
}

describe("exitCodeFor", () => {
  it.each([
    ...rows(keys, (code) => new KeysError(code, "m")),
    ...rows(input, (code) => new InputError(code, "m")),
    ...rows(kube, (code) => new KubeError(code, "m")),
    ...rows(discovery, (code) => new DiscoveryError(code, "m")),
    ...rows(publisher, (code) => new PublishError(code, "m")),
    ...rows(iam, (code) => new IamError(code, "m")),
    ...rows(doctor, (code) => new DoctorError(code, "m")),
    ...rows(server, (code) => new ServeError(code, "m")),
    ...rows(role, (code) => new RoleError(code, "m")),
    ...rows(webhook, (code) => new WebhookError(code, "m")),
    ...rows(cli, (code) => new CliError(code, "m")),
    ["ERR_USAGE", new UsageError("m"), 2],
  ])("gives %s exit %s", (_code, error, exitCode) => {
    expect(exitCodeFor(error)).toBe(exitCode);
  });

  const scratch = mkdtempSync(join(tmpdir(), "irsa-anywhere-failure-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("gives an --out that cannot be written exit 2", async () => {
    const error = await emit("{}", scratch).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toMatchObject({ code: "ERR_OUTPUT_UNWRITABLE" });
    expect(exitCodeFor(error)).toBe(EXIT_USAGE);
  });

  it.each([
    ["an Error of no package", new Error("bug")],
    ["a TypeError", new TypeError("x is undefined")],
    ["a value that is no Error", "bug"],
    ["an object that only looks like our errors", { code: "ERR_USAGE", isInputError: true, message: "m" }],
  ])("leaves %s to be shown in full", (_name, error) => {
    expect(exitCodeFor(error)).toBeUndefined();
  });
});
