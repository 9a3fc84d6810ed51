import { createSecureContext, type SecureContextOptions } from "node:tls";
import { firstLine, INPUT_LIMITS, readInput } from "@irsa-anywhere/errors";
import { ServeError } from "../errors.js";

/** @internal The certificate chain and key as read, PEM. */
export interface TlsMaterial {
  cert: string;
  key: string;
}

/** Clients older than TLS 1.2 are refused; STS and every current client speak 1.2 or 1.3. */
export const MIN_TLS_VERSION = "TLSv1.2";

/**
 * @internal Reads the certificate and key files and checks that they make a usable server
 * context (PEM that parses, a key that matches the certificate).
 *
 * @throws {ServeError} `ERR_TLS_FILES_UNREADABLE`, `ERR_TLS_INVALID`.
 */
export async function readTlsMaterial(files: { certFile: string; keyFile: string }): Promise<TlsMaterial> {
  const read = async (file: string, what: string) => {
    try {
      return await readInput(file, { maxBytes: INPUT_LIMITS.pem, what: `the TLS ${what}` });
    } catch (error) {
      throw new ServeError("ERR_TLS_FILES_UNREADABLE", (error as Error).message, { cause: error });
    }
  };
  const material = { cert: await read(files.certFile, "certificate"), key: await read(files.keyFile, "key") };
  try {
    createSecureContext(secureContextOptions(material));
  } catch (error) {
    throw new ServeError(
      "ERR_TLS_INVALID",
      `cannot use ${files.certFile} with ${files.keyFile}: ${firstLine(error)}; give a PEM certificate (chain) and the PEM private key that belongs to it`,
    );
  }
  return material;
}

/** @internal */
export function secureContextOptions(material: TlsMaterial): SecureContextOptions {
  return { cert: material.cert, key: material.key, minVersion: MIN_TLS_VERSION };
}
