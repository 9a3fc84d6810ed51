import { type FaultTable, IrsaAnywhereError } from "@irsa-anywhere/errors";

/**
 * Stable codes for every failure of this package; assert on these, not on message text: an
 * option of the webhook's manifests or certificates that Kubernetes or the webhook would refuse.
 *
 * @example
 * const code: WebhookErrorCode = "ERR_WEBHOOK_OPTION_INVALID";
 */
export type WebhookErrorCode = "ERR_WEBHOOK_OPTION_INVALID";

const faults: FaultTable<WebhookErrorCode> = {
  ERR_WEBHOOK_OPTION_INVALID: "input",
};

/**
 * The one error class of `@irsa-anywhere/webhook`. Its message is one line that says what was
 * wrong and what to do; it never holds a private key.
 *
 * @example
 * try {
 *   webhookManifests({ namespace: "Not A Namespace", tls: { mode: "cert-manager" } });
 * } catch (error) {
 *   if (error instanceof WebhookError && error.fault === "input") console.error(error.message);
 *   else throw error;
 * }
 */
export class WebhookError extends IrsaAnywhereError<WebhookErrorCode> {
  override readonly name = "WebhookError";

  constructor(code: WebhookErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, faults[code], message, options);
  }
}
