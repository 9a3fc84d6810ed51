// The demo: a throwaway service-account key, published with the real CLI to ./demo-output as
// a static issuer, then proof that a token signed by that key verifies against what was
// published, as AWS STS would check it. The private key lives in a temp dir, removed at the end.
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, jwtVerify, SignJWT } from "jose";

const issuer = process.argv[2] ?? "https://oidc.example.com/demo-cluster";
const outDir = "demo-output";
const cli = join(import.meta.dirname, "../packages/cli/bin/irsa-anywhere.cjs");
const work = mkdtempSync(join(tmpdir(), "irsa-anywhere-demo-"));
const run = (...args) => execFileSync(process.execPath, [cli, ...args], { encoding: "utf8" });

try {
  // Each demo starts from a fresh key: no documents, and no state (kept beside the directory).
  rmSync(outDir, { recursive: true, force: true });
  rmSync(`${outDir}.irsa-anywhere-state`, { recursive: true, force: true });
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  writeFileSync(join(work, "sa.pub"), publicKey.export({ type: "spki", format: "pem" }));

  console.log(`$ irsa-anywhere publish --issuer ${issuer} --key sa.pub --out-dir ${outDir}`);
  console.log(run("publish", "--issuer", issuer, "--key", join(work, "sa.pub"), "--out-dir", outDir));

  const path = new URL(issuer).pathname.replace(/^\//, "");
  const discoveryFile = join(outDir, path, ".well-known/openid-configuration");
  const jwksFile = join(outDir, path, "keys.json");
  console.log(`${discoveryFile}:\n${readFileSync(discoveryFile, "utf8")}`);
  console.log(`${jwksFile}:\n${readFileSync(jwksFile, "utf8")}`);

  // A token as kube-apiserver would issue it for a pod's service account.
  const jwks = createLocalJWKSet(JSON.parse(readFileSync(jwksFile, "utf8")));
  const kid = JSON.parse(run("keys", "--key", join(work, "sa.pub"))).keys[0].kid;
  const token = await new SignJWT({
    "kubernetes.io": { namespace: "default", serviceaccount: { name: "demo" } },
  })
    .setProtectedHeader({ alg: "RS256", kid })
    .setIssuer(issuer)
    .setSubject("system:serviceaccount:default:demo")
    .setAudience("sts.amazonaws.com")
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(privateKey);
  const { payload } = await jwtVerify(token, jwks, { issuer, audience: "sts.amazonaws.com" });
  console.log(`A token for ${payload.sub} signed with the cluster key verifies against ${jwksFile}.`);
  console.log(
    `Serve ${outDir}/ over https at ${new URL(issuer).origin} and register the issuer with IAM; the publisher's private state stays outside it, in ${outDir}.irsa-anywhere-state/.`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
