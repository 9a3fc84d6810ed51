/**
 * A policy document as IAM's API returns it (URL-encoded JSON: the SDK does not decode it), as
 * JSON text, or already an object; `undefined` when it is none of these.
 *
 * @example
 * parsePolicyText("%7B%22Version%22%3A%222012-10-17%22%7D"); // { Version: "2012-10-17" }
 */
export function parsePolicyText(policy: unknown): unknown {
  if (typeof policy !== "string") return policy;
  for (const candidate of [policy, safeDecode(policy)]) {
    if (candidate === undefined) continue;
    try {
      return JSON.parse(candidate);
    } catch {
      // try the next form
    }
  }
  return undefined;
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
