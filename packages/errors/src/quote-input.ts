/**
 * How many characters of a user's input a message quotes; the rest is counted, not printed:
 * `quoteInput("x".repeat(QUOTED_INPUT_MAX))` is quoted whole.
 */
export const QUOTED_INPUT_MAX = 80;

/**
 * A user's input as an error message quotes it: JSON-quoted (so control characters and
 * white space show), and cut to {@link QUOTED_INPUT_MAX} characters with the full length
 * named, so that a 120 KB issuer gives a one-line message, not a 120 KB one. It is the one
 * way every package's messages quote input.
 *
 * @example
 * quoteInput("https://example.com/"); // "\"https://example.com/\""
 * quoteInput("x".repeat(5000)); // "\"xxxx…\" (5000 characters)"
 */
export function quoteInput(value: unknown): string {
  const quoted = JSON.stringify(value) ?? String(value);
  if (quoted.length <= QUOTED_INPUT_MAX + 2) return quoted;
  const text = typeof value === "string" ? value : quoted;
  const cut = text.slice(0, QUOTED_INPUT_MAX);
  return `${typeof value === "string" ? JSON.stringify(`${cut}…`) : `${cut}…`} (${text.length} characters)`;
}
