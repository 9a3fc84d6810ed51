import { defineCheck } from "../lib/check-model.js";
import { fail, type Outcome, pass, warn } from "../lib/outcome.js";
import { type ClusterFacts, readAnswer } from "./cluster-api.js";

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
      return pass(where, { details });
    }
  }
  return fail(
    "ERR_WEBHOOK_MISSING",
    "no MutatingWebhookConfiguration of the pod identity webhook (amazon-eks-pod-identity-webhook) is registered, so no pod gets AWS_ROLE_ARN and a token",
    "install the pod identity webhook (EKS Anywhere: the IRSA guide's steps), then restart the pods",
    { details: { configurations: items.map((item) => item.metadata?.name) } },
  );
}

export const podIdentityWebhookCheck = defineCheck({
  id: "pod-identity-webhook",
  needs: ["cluster"],
  run: ({ cluster }) => judgeWebhook(cluster),
});
