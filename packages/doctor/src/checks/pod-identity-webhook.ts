import { judgeWebhookHealth } from "@irsa-anywhere/webhook";
import { defineCheck } from "../lib/check-model.js";
import { fail, type Outcome, pass, warn } from "../lib/outcome.js";
import { type ClusterFacts, readAnswer, type WebhookInstallationAnswers } from "./cluster-api.js";

/** @internal A MutatingWebhookConfiguration of the pod identity webhook exists and sees new pods. */
export function judgeWebhook(facts: ClusterFacts): Outcome {
  const answer = readAnswer(
    facts.webhooks,
    facts.server,
    "mutatingwebhookconfigurations",
    "list mutatingwebhookconfigurations.admissionregistration.k8s.io",
  );
  if ("blocked" in answer) return answer.blocked;
  interface Webhook {
    name?: string;
    clientConfig?: { service?: { name?: string; namespace?: string } };
    rules?: Array<{ operations?: string[]; resources?: string[] }>;
  }
  const items = ((answer.body as { items?: unknown } | null)?.items ?? []) as Array<{
    metadata?: { name?: string };
    webhooks?: Webhook[];
  }>;
  const isIdentityWebhook = (text: string | undefined) =>
    text !== undefined && /pod-identity-webhook|iam-for-pods/i.test(text);
  for (const item of items) {
    for (const webhook of item.webhooks ?? []) {
      if (
        !isIdentityWebhook(item.metadata?.name) &&
        !isIdentityWebhook(webhook.name) &&
        !isIdentityWebhook(webhook.clientConfig?.service?.name)
      ) {
        continue;
      }
      const where = `MutatingWebhookConfiguration ${item.metadata?.name ?? "?"} (webhook ${webhook.name ?? "?"})`;
      const service = webhook.clientConfig?.service;
      const details = {
        configuration: item.metadata?.name,
        webhook: webhook.name,
        ...(service ? { service: `${service.namespace}/${service.name}` } : {}),
      };
      const seesPodCreation = (webhook.rules ?? []).some(
        (rule) =>
          (rule.resources ?? []).some((r) => r === "pods" || r === "*") &&
          (rule.operations ?? []).some((op) => op === "CREATE" || op === "*"),
      );
      if (!seesPodCreation) {
        return warn(
          "WARN_WEBHOOK_NOT_FOR_PODS",
          `${where} is registered but not for the creation of pods`,
          "reinstall the webhook from its manifests (rules: CREATE on pods)",
          { details },
        );
      }
      const installation = facts.webhookInstallation;
      if (installation !== undefined && service?.namespace === installation.namespace) {
        return judgeInstallation(facts.server, installation, item, where, details);
      }
      return pass(where, { details });
    }
  }
  return fail(
    "ERR_WEBHOOK_MISSING",
    "no MutatingWebhookConfiguration of the pod identity webhook (amazon-eks-pod-identity-webhook) is registered, so no pod gets AWS_ROLE_ARN and a token",
    "install the pod identity webhook: irsa-anywhere webhook install, then restart the pods",
    { details: { configurations: items.map((item) => item.metadata?.name) } },
  );
}

export const podIdentityWebhookCheck = defineCheck({
  id: "pod-identity-webhook",
  needs: ["cluster"],
  run: ({ cluster }) => judgeWebhook(cluster),
});

/**
 * The installation `irsa-anywhere webhook install` made, judged by the same checks as
 * `webhook status` (judgeWebhookHealth): version, replicas ready, certificate expiry, CA bundle,
 * service. The first failure fails the check; else the first warning warns.
 */
function judgeInstallation(
  server: string,
  installation: WebhookInstallationAnswers,
  configuration: unknown,
  where: string,
  details: Record<string, unknown>,
): Outcome {
  const { namespace } = installation;
  const body = (answer: WebhookInstallationAnswers["deployment"], what: string, permission: string) => {
    if (!("error" in answer) && answer.status === 404) return { body: undefined };
    return readAnswer(answer, server, what, permission);
  };
  const deployment = body(
    installation.deployment,
    "the webhook's Deployment",
    `get deployments in ${namespace}`,
  );
  if ("blocked" in deployment) return deployment.blocked;
  const secret = body(
    installation.servingSecret,
    "the webhook's serving Secret",
    `get secrets in ${namespace}`,
  );
  if ("blocked" in secret) return secret.blocked;
  const data = (secret.body as { data?: Record<string, string> } | undefined)?.data;
  const certificate = data?.["tls.crt"];
  const health = judgeWebhookHealth({
    namespace,
    deployment: deployment.body,
    servingCertificatePem:
      certificate === undefined ? undefined : Buffer.from(certificate, "base64").toString("utf8"),
    webhookConfiguration: configuration,
  });
  const withHealth = {
    details: {
      ...details,
      version: health.version,
      replicas: health.replicas,
      certificateNotAfter: health.certificateNotAfter,
    },
  };
  const fix = (check: { fix?: string }) =>
    check.fix ?? `run irsa-anywhere webhook status --namespace ${namespace}`;
  const failed = health.checks.find((check) => check.status === "fail");
  if (failed) return fail("ERR_WEBHOOK_UNHEALTHY", `${where}: ${failed.message}`, fix(failed), withHealth);
  const warned = health.checks.find((check) => check.status === "warn");
  if (warned) return warn("WARN_WEBHOOK_UNHEALTHY", `${where}: ${warned.message}`, fix(warned), withHealth);
  const replicas = health.replicas;
  return pass(
    `${where}: ${health.version ?? "?"}, ${replicas ? `${replicas.ready} of ${replicas.desired} replicas ready` : ""}, certificate valid until ${health.certificateNotAfter}`,
    withHealth,
  );
}
