/**
 * STS is reported to refuse a JWKS of more than 100 keys: the publisher never writes one, and
 * doctor fails a published one.
 *
 * @example
 * const jwks = JSON.parse(await readFile("keys.json", "utf8")) as { keys: unknown[] };
 * if (jwks.keys.length > MAX_JWKS_KEYS) console.warn("STS will refuse these keys");
 */
export const MAX_JWKS_KEYS = 100;
