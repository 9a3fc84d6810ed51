// diagnose() against a real HTTPS issuer on the loopback interface: the documents irsa-anywhere
// publishes, then each way a served document goes wrong, one link at a time.
import {
  type Check,
  type CheckCode,
  type CheckId,
  type DiagnoseOptions,
  type Diagnosis,
  diagnose,
} from "@irsa-anywhere/doctor";
import { buildJwks, type PublicSigningKey, publicKeysFromPem, serializeJwks } from "@irsa-anywhere/keys";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type HttpsIssuer, startHttpsIssuer } from "./support/https-issuer.js";
import { generateTestKey, pem } from "./support/keys.js";
import { type CertificateAuthority, createCertificateAuthority } from "./support/tls.js";

let ca: CertificateAuthority;
let issuer: HttpsIssuer;
const servers: HttpsIssuer[] = [];

const keyFrom = (type: "rsa" | "ec"): PublicSigningKey[] => {
  const pair = generateTestKey(type === "rsa" ? { type: "rsa", bits: 2048 } : { type: "ec", curve: "P-256" });
  return publicKeysFromPem(pem(pair.privateKey, "pkcs8"), "sa.key");
};
const current = keyFrom("rsa");
const previous = keyFrom("rsa");
const stranger = keyFrom("ec");
const documentChecks: CheckId[] = [
  "issuer-url",
  "discovery-reachable",
  "discovery-headers",
  "discovery-document",
  "discovery-issuer",
  "jwks-reachable",
  "jwks-headers",
  "jwks-keys",
  "jwks-empty-kid",
  "cluster-key-published",
  "retired-keys",
];

beforeAll(async () => {
  ca = createCertificateAuthority();
  issuer = await startHttpsIssuer({ ca });
  servers.push(issuer);
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});
beforeEach(() => {
  issuer.routes.clear();
  issuer.publish(current);
  issuer.seen.length = 0;
});

const run = (extra: Partial<DiagnoseOptions> = {}): Promise<Diagnosis> =>
  diagnose({
    issuer: issuer.issuer,
    ca: issuer.caPem,
    keys: current,
    aws: false,
    timeoutMs: 3_000,
    ...extra,
  });

function check(diagnosis: Diagnosis, id: CheckId): Check {
  const found = diagnosis.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id}`);
  return found;
}

const statuses = (diagnosis: Diagnosis, ids: readonly CheckId[]) =>
  Object.fromEntries(ids.map((id) => [id, check(diagnosis, id).status]));

describe("diagnose: the issuer's documents", () => {
  it("passes every document check for what irsa-anywhere publishes, fetching anonymously", async () => {
    const diagnosis = await run();

    expect(statuses(diagnosis, documentChecks)).toEqual(
      Object.fromEntries(documentChecks.map((id) => [id, "pass"])),
    );
    expect(diagnosis.ok).toBe(true);
    expect(diagnosis.checks.map((c) => c.id)).toHaveLength(22);
    expect(check(diagnosis, "iam-oidc-provider")).toMatchObject({
      status: "skip",
      code: "SKIP_AWS_OFF",
      reason: "AWS checks are off",
    });
    expect(issuer.seen.map((request) => `${request.method} ${request.path}`)).toEqual([
      `GET ${issuer.discoveryPath}`,
      `GET ${issuer.jwksPath}`,
    ]);
    for (const request of issuer.seen) {
      expect(request.headers.authorization).toBeUndefined();
      expect(request.headers.cookie).toBeUndefined();
    }
  });

  it("checks the documents without a key source, and says what a key source would add", async () => {
    const diagnosis = await run({ keys: undefined });
    expect(check(diagnosis, "jwks-keys").status).toBe("pass");
    expect(check(diagnosis, "cluster-key-published")).toMatchObject({
      status: "skip",
      code: "SKIP_NO_KEYS",
      reason: expect.stringMatching(/--cluster NAME or --key FILE/),
    });
  });

  // The current key and an earlier one, so that breaking the earlier one breaks only the JWKS check.
  const jwksWith = (mutate: (jwks: { keys: Record<string, unknown>[] }) => void) => {
    const jwks = JSON.parse(serializeJwks(buildJwks([...current, ...previous]))) as {
      keys: Record<string, unknown>[];
    };
    mutate(jwks);
    return JSON.stringify(jwks);
  };
  const discoveryWith = (members: Record<string, unknown>) =>
    JSON.stringify({ ...JSON.parse(issuer.routes.get(issuer.discoveryPath)?.body ?? "{}"), ...members });

  const broken: Array<{
    name: string;
    breakIt: () => void;
    id: CheckId;
    status: "warn" | "fail";
    code: CheckCode;
    /** Only where the wording is the point: what the code alone does not tell apart. */
    reason?: RegExp;
    options?: Partial<DiagnoseOptions>;
  }> = [
    {
      name: "a discovery document for another issuer",
      breakIt: () =>
        issuer.routes.set(issuer.discoveryPath, {
          body: discoveryWith({ issuer: "https://oidc.example.com/prod" }),
        }),
      id: "discovery-issuer",
      status: "fail",
      code: "ERR_DISCOVERY_ISSUER_MISMATCH",
    },
    {
      name: "an issuer with a trailing slash",
      breakIt: () =>
        issuer.routes.set(issuer.discoveryPath, { body: discoveryWith({ issuer: `${issuer.issuer}/` }) }),
      id: "discovery-issuer",
      status: "fail",
      code: "ERR_DISCOVERY_ISSUER_MISMATCH",
      reason: /has a trailing slash; tokens carry the issuer byte for byte/,
    },
    {
      name: "a JWKS without the cluster's current key",
      breakIt: () => issuer.routes.set(issuer.jwksPath, { body: serializeJwks(buildJwks(previous)) }),
      id: "cluster-key-published",
      status: "fail",
      code: "ERR_JWKS_KEY_MISSING",
    },
    {
      name: "a private member in the JWKS",
      breakIt: () =>
        issuer.routes.set(issuer.jwksPath, {
          body: jwksWith((jwks) => Object.assign(jwks.keys[1] as object, { d: "AQAB", p: "AQAB" })),
        }),
      id: "jwks-keys",
      status: "fail",
      code: "ERR_JWKS_PRIVATE_KEY",
    },
    {
      name: "a kid that is not the one kube-apiserver computes",
      breakIt: () =>
        issuer.routes.set(issuer.jwksPath, {
          body: jwksWith((jwks) => Object.assign(jwks.keys[1] as object, { kid: "key-2024" })),
        }),
      id: "jwks-keys",
      status: "fail",
      code: "ERR_JWKS_KEY_INVALID",
    },
    {
      name: "a discovery document served as text/plain",
      breakIt: () =>
        issuer.routes.set(issuer.discoveryPath, {
          ...issuer.routes.get(issuer.discoveryPath),
          headers: { "content-type": "text/plain", "cache-control": "max-age=300" },
        }),
      id: "discovery-headers",
      status: "warn",
      code: "WARN_DOCUMENT_HEADERS",
      reason: /served as text\/plain, not application\/json/,
    },
    {
      name: "a JWKS served with no-cache",
      breakIt: () =>
        issuer.routes.set(issuer.jwksPath, {
          ...issuer.routes.get(issuer.jwksPath),
          headers: { "content-type": "application/json", "cache-control": "no-cache" },
        }),
      id: "jwks-headers",
      status: "warn",
      code: "WARN_DOCUMENT_HEADERS",
      reason: /Cache-Control "no-cache" sends every fetch to the origin/,
    },
    {
      name: "a JWKS served with no Cache-Control",
      breakIt: () =>
        issuer.routes.set(issuer.jwksPath, {
          ...issuer.routes.get(issuer.jwksPath),
          headers: { "content-type": "application/json" },
        }),
      id: "jwks-headers",
      status: "warn",
      code: "WARN_DOCUMENT_HEADERS",
      reason: /no Cache-Control/,
    },
    {
      name: "a JWKS without the empty-kid twin",
      breakIt: () =>
        issuer.routes.set(issuer.jwksPath, {
          body: serializeJwks(buildJwks(current, { emptyKidTwin: false })),
        }),
      id: "jwks-empty-kid",
      status: "warn",
      code: "WARN_EMPTY_KID_MISSING",
    },
    {
      name: "a discovery document slower than the timeout",
      breakIt: () =>
        issuer.routes.set(issuer.discoveryPath, {
          ...issuer.routes.get(issuer.discoveryPath),
          delayMs: 1_500,
        }),
      id: "discovery-reachable",
      status: "fail",
      code: "ERR_DOCUMENT_TIMEOUT",
      options: { timeoutMs: 300 },
    },
    {
      name: "a discovery document that is not there (404)",
      breakIt: () => issuer.routes.delete(issuer.discoveryPath),
      id: "discovery-reachable",
      status: "fail",
      code: "ERR_DOCUMENT_NOT_FOUND",
    },
    {
      name: "a JWKS that is not there (404)",
      breakIt: () => issuer.routes.delete(issuer.jwksPath),
      id: "jwks-reachable",
      status: "fail",
      code: "ERR_DOCUMENT_NOT_FOUND",
    },
    {
      name: "a JWKS that anonymous readers may not read (403)",
      breakIt: () => issuer.routes.set(issuer.jwksPath, { status: 403, body: "AccessDenied" }),
      id: "jwks-reachable",
      status: "fail",
      code: "ERR_DOCUMENT_NOT_PUBLIC",
    },
    {
      name: "a jwks_uri over http",
      breakIt: () =>
        issuer.routes.set(issuer.discoveryPath, {
          body: discoveryWith({ jwks_uri: issuer.issuer.replace("https:", "http:") }),
        }),
      id: "discovery-document",
      status: "fail",
      code: "ERR_DISCOVERY_JWKS_URI",
    },
  ];

  it.each(broken)("reports $name, with the fix, and nothing else as failed", async (row) => {
    row.breakIt();
    const diagnosis = await run(row.options);

    const broke = check(diagnosis, row.id);
    expect(broke).toMatchObject({ status: row.status, code: row.code });
    if (row.reason) expect(broke.reason).toMatch(row.reason);
    expect(broke.fix).toBeTruthy();
    const failed = diagnosis.checks.filter((c) => c.status === "fail").map((c) => c.id);
    expect(failed).toEqual(row.status === "fail" ? [row.id] : []);
    expect(diagnosis.ok).toBe(row.status !== "fail");
  });

  it("skips what depends on a document it could not read, saying why", async () => {
    issuer.routes.delete(issuer.discoveryPath);
    const diagnosis = await run();
    for (const id of ["discovery-issuer", "jwks-reachable", "jwks-keys", "cluster-key-published"] as const) {
      expect(check(diagnosis, id)).toMatchObject({ status: "skip", code: "SKIP_NO_DISCOVERY" });
    }
    expect(check(diagnosis, "jwks-reachable").reason).toBe("the discovery document could not be read");
  });

  it("lists published keys the cluster no longer has, with how long ago the JWKS changed", async () => {
    const now = new Date("2026-03-01T12:00:00Z");
    issuer.publish([...current, ...previous], { lastModified: new Date("2026-03-01T09:00:00Z") });
    const diagnosis = await run({ now });

    const retired = check(diagnosis, "retired-keys");
    expect(retired.status).toBe("pass");
    expect(retired.reason).toMatch(
      new RegExp(
        `1 published key is no longer in the cluster: ${previous[0]?.kid}; the JWKS last changed 3 h ago`,
      ),
    );
    expect(retired.details).toMatchObject({ retiredKids: [previous[0]?.kid], jwksAgeMs: 3 * 3_600_000 });
  });

  it("accepts EC keys and an issuer at the host's root", async () => {
    const root = await startHttpsIssuer({ ca, path: "" });
    servers.push(root);
    root.publish(stranger);
    const diagnosis = await diagnose({ issuer: root.issuer, ca: root.caPem, keys: stranger, aws: false });
    expect(statuses(diagnosis, documentChecks)).toEqual(
      Object.fromEntries(documentChecks.map((id) => [id, "pass"])),
    );
  });
});

describe("diagnose: the issuer's certificate", () => {
  it("fails a self-signed certificate unless it is trusted with --ca-file", async () => {
    const selfSigned = await startHttpsIssuer({ ca, selfSigned: true });
    servers.push(selfSigned);
    selfSigned.publish(current);

    const untrusted = await diagnose({ issuer: selfSigned.issuer, keys: current, aws: false });
    expect(check(untrusted, "discovery-reachable")).toMatchObject({
      status: "fail",
      reason: expect.stringMatching(
        /the certificate is self-signed \(DEPTH_ZERO_SELF_SIGNED_CERT\); STS trusts only/,
      ),
      fix: expect.stringMatching(/public CA/),
      sts: expect.stringMatching(/Couldn't retrieve verification key/),
    });
    expect(selfSigned.seen).toEqual([]);

    const trusted = await diagnose({
      issuer: selfSigned.issuer,
      keys: current,
      aws: false,
      ca: selfSigned.caPem,
    });
    expect(check(trusted, "discovery-reachable").status).toBe("pass");
  });

  it("fails a certificate from a private CA that is not given", async () => {
    const diagnosis = await run({ ca: undefined });
    expect(check(diagnosis, "discovery-reachable").reason).toMatch(/does not chain to a trusted root/);
    expect(issuer.seen).toEqual([]);
  });
});

describe("diagnose: the issuer URL", () => {
  it.each([
    ["a trailing slash", "https://oidc.example.com/prod/", /ends with a slash/],
    ["http", "http://oidc.example.com/prod", /https/],
    ["upper case", "https://OIDC.example.com/prod", /upper case in its host/],
    ["an explicit :443", "https://oidc.example.com:443/prod", /should not contain a port number/],
    ["userinfo", "https://me@oidc.example.com/prod", /RFC 9110/],
    ["an empty path segment", "https://oidc.example.com//prod", /empty path segment/],
  ])("fails %s and fetches nothing", async (_name, url, reason) => {
    const diagnosis = await diagnose({ issuer: url, aws: false });
    expect(check(diagnosis, "issuer-url")).toMatchObject({
      status: "fail",
      reason: expect.stringMatching(reason),
    });
    expect(diagnosis.checks.filter((c) => c.id !== "issuer-url").every((c) => c.status === "skip")).toBe(
      true,
    );
    expect(diagnosis.ok).toBe(false);
  });
});
