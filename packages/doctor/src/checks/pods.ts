import { type ServiceAccountRef, serviceAccountSubject } from "@irsa-anywhere/iam";
import { defineCheck } from "../lib/check-model.js";
import { fail, type Outcome, pass } from "../lib/outcome.js";
import { type ClusterFacts, readAnswer } from "./cluster-api.js";
import { ANNOTATIONS, type ServiceAccountFacts } from "./service-account.js";

interface PodSummary {
  name: string;
  createdAt?: Date;
  problem?: string;
}

/** @internal Running pods of the service account were mutated by the webhook with its current annotation. */
export function judgePods(
  facts: ClusterFacts,
  account: ServiceAccountRef,
  sa: ServiceAccountFacts & { roleArn: string },
): Outcome {
  const answer = readAnswer(
    facts.pods ?? { error: "not read" },
    facts.server,
    `pods in ${account.namespace}`,
    `list pods in ${account.namespace}`,
  );
  if ("blocked" in answer) return answer.blocked;
  const items = ((answer.body as { items?: unknown } | null)?.items ?? []) as Pod[];
  const running = items.filter(
    (pod) => pod.spec?.serviceAccountName === account.name && pod.status?.phase === "Running",
  );
  if (running.length === 0) {
    return pass(
      `no running pod uses ${account.namespace}/${account.name}; new pods get the role when they start`,
    );
  }
  const summaries = running.map((pod) => summarizePod(pod, sa));
  const stale = summaries.filter((pod) => pod.problem !== undefined);
  const details = {
    pods: summaries.map((pod) => ({ name: pod.name, ...(pod.problem ? { problem: pod.problem } : {}) })),
  };
  if (stale.length === 0) {
    return pass(
      `${running.length} running pod${running.length === 1 ? " has" : "s have"} AWS_ROLE_ARN=${sa.roleArn} and a web identity token`,
      { details },
    );
  }
  const names = stale.map((pod) => pod.name);
  return fail(
    "ERR_PODS_STALE",
    `${stale.length} of ${running.length} running pods of ${serviceAccountSubject(account)} need a restart: ${stale
      .map((pod) => `${pod.name} (${pod.problem})`)
      .join("; ")}`,
    `the webhook changes only new pods: kubectl delete pod -n ${account.namespace} ${names.join(" ")} (or kubectl rollout restart their deployment)`,
    { details },
  );
}

interface Pod {
  metadata?: { name?: string; creationTimestamp?: string; annotations?: Record<string, string> };
  spec?: {
    serviceAccountName?: string;
    containers?: Array<{ name?: string; env?: Array<{ name?: string; value?: string }> }>;
  };
  status?: { phase?: string };
}

function summarizePod(pod: Pod, sa: ServiceAccountFacts): PodSummary {
  const name = pod.metadata?.name ?? "?";
  const createdAt = pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp) : undefined;
  const skipped = new Set(
    (pod.metadata?.annotations?.[ANNOTATIONS.skipContainers] ?? "")
      .split(",")
      .map((c) => c.trim())
      .filter(Boolean),
  );
  const before =
    createdAt && sa.annotatedAt && createdAt.getTime() < sa.annotatedAt.getTime()
      ? `created ${createdAt.toISOString()}, before the annotation (${sa.annotatedAt.toISOString()})`
      : undefined;
  for (const container of pod.spec?.containers ?? []) {
    if (container.name !== undefined && skipped.has(container.name)) continue;
    const env = new Map((container.env ?? []).map((variable) => [variable.name, variable.value]));
    const where = `container ${container.name ?? "?"}`;
    const roleArn = env.get("AWS_ROLE_ARN");
    if (roleArn === undefined || !env.has("AWS_WEB_IDENTITY_TOKEN_FILE")) {
      return {
        name,
        ...(createdAt ? { createdAt } : {}),
        problem:
          before ??
          `${where} has no AWS_ROLE_ARN / AWS_WEB_IDENTITY_TOKEN_FILE: the webhook did not change it`,
      };
    }
    if (roleArn !== sa.roleArn) {
      return {
        name,
        ...(createdAt ? { createdAt } : {}),
        problem: `${where} has AWS_ROLE_ARN=${roleArn}, from before the annotation changed${before ? ` (${before})` : ""}`,
      };
    }
    if (sa.regional === true && env.get("AWS_STS_REGIONAL_ENDPOINTS") !== "regional") {
      return {
        name,
        ...(createdAt ? { createdAt } : {}),
        problem: `${where} has AWS_STS_REGIONAL_ENDPOINTS=${env.get("AWS_STS_REGIONAL_ENDPOINTS") ?? "(unset)"}, not regional${before ? ` (${before})` : ""}`,
      };
    }
  }
  return { name, ...(createdAt ? { createdAt } : {}) };
}

export const podsCheck = defineCheck({
  id: "pods",
  needs: ["cluster", "serviceAccount", "annotations", "annotatedRole"],
  run: ({ cluster, serviceAccount, annotations, annotatedRole }) =>
    judgePods(cluster, serviceAccount, { ...annotations, roleArn: annotatedRole.arn }),
});
