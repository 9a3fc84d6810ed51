import { measureNesting } from "@irsa-anywhere/errors";
import { KeysError } from "./errors.js";
import { publicKeysFromPem } from "./pem-keys.js";
import type { PublicSigningKey } from "./signing-key.js";

/**
 * Reads the public keys of a service-account key secret's `data`: base64 values, as the
 * Kubernetes API returns them, or (`encoding` `"text"`) the values decoded. `tls.crt` holds the public key(s) on EKS Anywhere and Cluster
 * API; the public half of `tls.key`, the key the API server signs with, comes first when present,
 * so it is the current key.
 *
 * @throws {KeysError} `ERR_SECRET_INVALID` when neither field is there or one is not base64.
 */
export function publicKeysFromSecretData(
  data: Readonly<Record<string, string | undefined>>,
  origin: string,
  encoding: "base64" | "text" = "base64",
): PublicSigningKey[] {
  const decode = (value: string, field: string) =>
    encoding === "text" ? value : decodeBase64(value, origin, field);
  const crt = data["tls.crt"];
  const key = data["tls.key"];
  if (crt === undefined && key === undefined) {
    throw new KeysError(
      "ERR_SECRET_INVALID",
      `${origin}: the secret has neither data."tls.crt" nor data."tls.key"; give the cluster's service-account key secret (<cluster>-sa in eksa-system)`,
    );
  }
  const keys: PublicSigningKey[] = [];
  if (key !== undefined) keys.push(...publicKeysFromPem(decode(key, "tls.key"), `${origin} tls.key`));
  if (crt !== undefined) keys.push(...publicKeysFromPem(decode(crt, "tls.crt"), `${origin} tls.crt`));
  return keys;
}

/**
 * Reads the public keys of a Secret manifest, as printed by
 * `kubectl get secret <cluster>-sa -n eksa-system -o json` (or `-o yaml`).
 *
 * @throws {KeysError} `ERR_SECRET_INVALID` when the text is not a Secret with key data.
 */
export async function publicKeysFromSecretManifest(
  text: string,
  origin: string,
): Promise<PublicSigningKey[]> {
  return (await readSecretManifest(text, origin)).keys;
}

/**
 * @internal
 * A Secret manifest's public keys and, when it has one, its private key's PEM (`tls.key`
 * decoded): what `readKeySources` needs to read the manifest once for both.
 */
export async function readSecretManifest(
  text: string,
  origin: string,
): Promise<{ keys: PublicSigningKey[]; privateKeyPem: string | undefined }> {
  const manifest = await parseManifest(text, origin);
  const data = (manifest as { data?: unknown } | null)?.data;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new KeysError(
      "ERR_SECRET_INVALID",
      `${origin}: not a Secret with a "data" map; give the output of kubectl get secret <cluster>-sa -n eksa-system -o json`,
    );
  }
  const strings: Record<string, string> = {};
  for (const [name, value] of Object.entries(data)) {
    if (typeof value === "string") strings[name] = value;
  }
  const keys = publicKeysFromSecretData(strings, origin);
  const key = strings["tls.key"];
  return { keys, privateKeyPem: key === undefined ? undefined : decodeBase64(key, origin, "tls.key") };
}

/** Secrets nest about ten levels deep (managedFields the most); a hundred is more than any real one. */
const MAX_MANIFEST_DEPTH = 100;
/**
 * kubectl prints a Secret in YAML in a few dozen lines (base64 values on one line each); YAML's
 * parser costs about 1 s per 100,000 entries, and more than linearly beyond.
 */
const MAX_YAML_ENTRIES = 20_000;

/**
 * Parses a manifest as kubectl prints it, JSON or YAML, refusing before parsing what nests deeper
 * than any real manifest, and YAML aliases beyond a few (what an alias bomb needs).
 *
 * @throws {KeysError} `ERR_SECRET_INVALID`.
 *
 * @example
 * const manifest = await parseManifest(await readInput("secret.json", { maxBytes: INPUT_LIMITS.manifest, what: "--secret-file" }), "secret.json");
 */
export async function parseManifest(raw: string, origin: string): Promise<unknown> {
  // A byte-order mark, as some Windows editors and PowerShell redirections write.
  const text = raw.replace(/^\uFEFF/, "");
  const { depth, entries } = measureNesting(text);
  if (depth > MAX_MANIFEST_DEPTH) {
    throw new KeysError(
      "ERR_SECRET_INVALID",
      `${origin}: nests more than ${MAX_MANIFEST_DEPTH} levels deep, which no Secret does; give the unedited output of kubectl get secret -o json`,
    );
  }
  if (text.trimStart().startsWith("{")) {
    try {
      return JSON.parse(text);
    } catch {
      throw new KeysError(
        "ERR_SECRET_INVALID",
        `${origin}: not valid JSON; give the unedited output of kubectl get secret -o json`,
      );
    }
  }
  if (entries > MAX_YAML_ENTRIES) {
    throw new KeysError(
      "ERR_SECRET_INVALID",
      `${origin}: has more than ${MAX_YAML_ENTRIES} lines or entries, which no Secret has; give the unedited output of kubectl get secret -o json`,
    );
  }
  // YAML only costs its import when the input is YAML.
  const { parse } = await import("yaml");
  try {
    return parse(text, { maxAliasCount: 10 });
  } catch {
    throw new KeysError(
      "ERR_SECRET_INVALID",
      `${origin}: neither JSON nor YAML; give the unedited output of kubectl get secret -o json`,
    );
  }
}

function decodeBase64(value: string, origin: string, field: string): string {
  const compact = value.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new KeysError(
      "ERR_SECRET_INVALID",
      `${origin}: data."${field}" is not valid base64; give the secret exactly as kubectl prints it`,
    );
  }
  return Buffer.from(compact, "base64").toString("utf8");
}
