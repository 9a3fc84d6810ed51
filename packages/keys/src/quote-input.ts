/** How many characters of a user's input a message quotes; the rest is counted, not printed. */
export const QUOTED_INPUT_MAX = 80;

/**
 * A user's input as an error message quotes it: JSON-quoted (so control characters and
 * white space show), and cut to {@link QUOTED_INPUT_MAX} characters with the full length
 * named, so that a 120 KB issuer gives a one-line message, not a 120 KB one.
 *
 * @example
 * quoteInput("https://example.com/"); // "\"https://example.com/\""
 * quoteInput("x".repeat(5000)); // "\"xxxx…\" (5000 characters)"
 */
export function quoteInput(value: unknown): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  if (text.length <= QUOTED_INPUT_MAX) return JSON.stringify(text);
  return `${JSON.stringify(`${text.slice(0, QUOTED_INPUT_MAX)}…`)} (${text.length} characters)`;
}
