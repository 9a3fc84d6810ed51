import { quoteInput } from "@irsa-anywhere/errors";
import { WebhookError } from "./errors.js";

// RFC 1123, as Kubernetes validates namespaces and Service names (a label).
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Throws unless `value` is a DNS-1123 label (at most 63 characters), as Kubernetes requires. */
export function assertDnsLabel(value: string, what: string): void {
  if (typeof value !== "string" || value.length > 63 || !dnsLabel.test(value)) {
    throw new WebhookError(
      "ERR_WEBHOOK_OPTION_INVALID",
      `${what} ${quoteInput(value)} is not a valid Kubernetes name: use at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit`,
    );
  }
}
