import { createRequire } from "node:module";

/**
 * Loads an AWS SDK client package (`@aws-sdk/client-s3`, ...) by `require`, resolved from the
 * caller's module (`import.meta.url`), which names it in its own dependencies. The SDK resolves to
 * its CommonJS build either way; loaded through `import()`, Node also detects its format and scans
 * it for exports, and the two clients of a publish took about 115 ms to load instead of 67
 * (Node 20). Callers load it lazily, inside the command or the function that needs it, and name
 * the package by a string literal: the standalone build (scripts/bundle-cli.mjs) turns each call
 * into a `require` of that name, and refuses any other.
 *
 * @example
 * const s3: typeof import("@aws-sdk/client-s3") = loadAwsSdk(import.meta.url, "@aws-sdk/client-s3");
 */
export function loadAwsSdk<T>(from: string, name: `@aws-sdk/${string}`): T {
  return createRequire(from)(name) as T;
}
