import { type FaultTable, IrsaAnywhereError } from "@irsa-anywhere/errors";

/**
 * Stable codes for every failure of this package; assert on these, not on message text: an
 * option of the webhook's manifests or certificates that Kubernetes or the webhook would refuse,
 * a CA that cannot sign, no installation where one was named, or a certificate cert-manager renews.
 *
 * @example
 * const code: WebhookErrorCode = "ERR_WEBHOOK_OPTION_INVALID";
 */
export type WebhookErrorCode =
  | "ERR_WEBHOOK_OPTION_INVALID"
  | "ERR_WEBHOOK_CA_INVALID"
  | "ERR_WEBHOOK_NOT_INSTALLED"
  | "ERR_WEBHOOK_CERT_MANAGED";

const faults: FaultTable<WebhookErrorCode> = {
  ERR_WEBHOOK_OPTION_INVALID: "input",
  // What is in the cluster is broken: not the user's input of this run.
  ERR_WEBHOOK_CA_INVALID: "environment",
  // The namespace given holds no installation: a mistake in the command line, as a missing secret is.
  ERR_WEBHOOK_NOT_INSTALLED: "input",
  // renew-cert where cert-manager renews: the wrong command for this installation.
  ERR_WEBHOOK_CERT_MANAGED: "input",
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
