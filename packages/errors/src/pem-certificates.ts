const certificateBlock = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * The PEM certificate blocks of a text (a CA file, a webhook's CA bundle), in order; `[]` when
 * it holds none. Each block is for `new X509Certificate(block)` to parse.
 *
 * @example
 * const blocks = pemCertificateBlocks(await readFile("ca-bundle.crt", "utf8"));
 */
export function pemCertificateBlocks(text: string): string[] {
  return text.match(certificateBlock) ?? [];
}
