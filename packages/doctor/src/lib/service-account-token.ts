import { randomUUID } from "node:crypto";
import { type ServiceAccountRef, serviceAccountSubject } from "@irsa-anywhere/iam";
import { SignJWT } from "jose";
import type { SigningKey } from "../signing-key.js";

/** How long the smoke test's token lives: the shortest lifetime kube-apiserver issues. */
export const SMOKE_TOKEN_LIFETIME_S = 600;

/** The service account's uid when it could not be read: kube-apiserver always has a real one. */
const UNKNOWN_UID = "00000000-0000-0000-0000-000000000000";

/**
 * @internal
 * Signs a service-account token exactly as kube-apiserver signs a projected one: header
 * `{"alg", "kid"}`, claims `aud` (a list), `exp`, `iat`, `iss`, `jti`, `kubernetes.io`
 * (namespace and service account; no pod, since no pod asked for it), `nbf`, `sub`.
 * The token stays in memory: callers must never print, log or store it.
 */
export async function mintServiceAccountToken(options: {
  signingKey: SigningKey;
  issuer: string;
  audience: string;
  account: ServiceAccountRef;
  uid?: string | undefined;
  now: Date;
}): Promise<string> {
  const iat = Math.floor(options.now.getTime() / 1000);
  return new SignJWT({
    aud: [options.audience],
    jti: randomUUID(),
    "kubernetes.io": {
      namespace: options.account.namespace,
      serviceaccount: { name: options.account.name, uid: options.uid ?? UNKNOWN_UID },
    },
  })
    .setProtectedHeader({ alg: options.signingKey.alg, kid: options.signingKey.kid })
    .setIssuer(options.issuer)
    .setSubject(serviceAccountSubject(options.account))
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + SMOKE_TOKEN_LIFETIME_S)
    .sign(options.signingKey.privateKey);
}
