import { isDnsLabel, quoteInput } from "@irsa-anywhere/errors";
import { WebhookError } from "./errors.js";

/** Throws unless `value` is a DNS-1123 label (at most 63 characters), as Kubernetes requires. */
export function assertDnsLabel(value: string, what: string): void {
  if (typeof value !== "string" || !isDnsLabel(value)) {
    throw new WebhookError(
      "ERR_WEBHOOK_OPTION_INVALID",
      `${what} ${quoteInput(value)} is not a valid Kubernetes name: use at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit`,
    );
  }
}
