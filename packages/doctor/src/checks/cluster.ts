import { quoteInput } from "@irsa-anywhere/errors";
import { parseRoleArn, type ServiceAccountRef, serviceAccountSubject } from "@irsa-anywhere/iam";
import { parseJwks } from "@irsa-anywhere/keys";
import type { KubeAnswer, KubeApi } from "@irsa-anywhere/kube";
import { STS_ERRORS } from "../check.js";
import { couldNotRun, fail, notChecked, type Outcome, pass, skip, warn } from "../lib/outcome.js";
import type { PublishedKeys } from "./jwks.js";

/** The annotations the pod identity webhook reads, under its default prefix. */
export const ANNOTATIONS = {
  roleArn: "eks.amazonaws.com/role-arn",
  audience: "eks.amazonaws.com/audience",
  regional: "eks.amazonaws.com/sts-regional-endpoints",
  tokenExpiration: "eks.amazonaws.com/token-expiration",
  skipContainers: "eks.amazonaws.com/skip-containers",
} as const;

/** The webhook raises shorter token lifetimes to this (pkg.MinTokenExpiration). */
const MIN_TOKEN_EXPIRATION = 3600;

/** @internal What the API server answered, read in one go. */
export interface ClusterFacts {
  server: string;
  discovery: KubeAnswer;
  jwks: KubeAnswer;
  webhooks: KubeAnswer;
  serviceAccount?: KubeAnswer;
  pods?: KubeAnswer;
}

/** @internal What the service account says, for the checks that follow. */
export interface ServiceAccountFacts {
  roleArn?: string;
  audience?: string;
  /** The webhook's reading of `sts-regional-endpoints`, when set and valid. */
  regional?: boolean;
  uid?: string;
  /** When the role annotation was last written (from `managedFields`), if known. */
  annotatedAt?: Date;
}

/** @internal GETs everything the cluster checks read, at once. */
export async function gatherClusterFacts(
  api: KubeApi,
  account: ServiceAccountRef | undefined,
): Promise<ClusterFacts> {
  const ns = account ? encodeURIComponent(account.namespace) : "";
  const [discovery, jwks, webhooks, serviceAccount, pods] = await Promise.all([
    api.get("/.well-known/openid-configuration"),
    api.get("/openid/v1/jwks"),
    api.get("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"),
    account
      ? api.get(`/api/v1/namespaces/${ns}/serviceaccounts/${encodeURIComponent(account.name)}`)
      : undefined,
    account
      ? api.get(
          `/api/v1/namespaces/${ns}/pods?fieldSelector=${encodeURIComponent(`spec.serviceAccountName=${account.name}`)}`,
        )
      : undefined,
  ]);
  return {
    server: api.server,
    discovery,
    jwks,
    webhooks,
    ...(serviceAccount ? { serviceAccount } : {}),
    ...(pods ? { pods } : {}),
  };
}

/** An answer that is not a 200 as a "not checked" outcome, or `undefined` for a 200. */
function unavailable(
  answer: KubeAnswer,
  server: string,
  what: string,
  permission: string,
  /** The user named exactly this (`--service-account`): that it cannot be read is a failure. */
  asked = false,
): Outcome | undefined {
  // An API server that cannot be reached fails every check of the cluster the user named.
  if ("error" in answer) {
    return couldNotRun(
      `cannot read ${what} from ${server}: ${answer.error}`,
      "check that the cluster is up and that --kubeconfig / --context point at it",
    );
  }
  if (answer.status === 401 || answer.status === 403) {
    return (asked ? couldNotRun : notChecked)(
      `${server} does not let this identity read ${what} (HTTP ${answer.status})`,
      `use a kubeconfig whose identity may ${permission}`,
    );
  }
  return undefined;
}

/** @internal The API server's `--service-account-issuer` is this issuer. */
export function judgeClusterIssuer(facts: ClusterFacts, issuer: string): Outcome {
  const answer = facts.discovery;
  const blocked = unavailable(
    answer,
    facts.server,
    "/.well-known/openid-configuration",
    "get it (kubectl create clusterrolebinding oidc-reviewer --clusterrole=system:service-account-issuer-discovery --group=system:authenticated)",
  );
  if (blocked) return blocked;
  if (!("status" in answer) || answer.status !== 200) {
    return notChecked(
      `${facts.server} does not serve /.well-known/openid-configuration (HTTP ${"status" in answer ? answer.status : "?"})`,
      "Kubernetes 1.21 and later serve it; compare kube-apiserver's --service-account-issuer with the issuer by hand",
    );
  }
  const clusterIssuer = (answer.body as { issuer?: unknown } | null)?.issuer;
  const details = { clusterIssuer: clusterIssuer ?? null };
  if (clusterIssuer === issuer) {
    return pass(`kube-apiserver --service-account-issuer is ${issuer}`, { details });
  }
  if (typeof clusterIssuer !== "string") {
    return fail(
      `${facts.server}'s discovery document names no issuer`,
      "check kube-apiserver's --service-account-issuer",
      {
        details,
      },
    );
  }
  return fail(
    `the cluster's tokens carry "iss": ${quoteInput(clusterIssuer)} (kube-apiserver --service-account-issuer), not ${issuer}`,
    `EKS Anywhere: set spec.podIamConfig.serviceAccountIssuer: ${issuer} in the cluster spec and upgrade the cluster; elsewhere set kube-apiserver --service-account-issuer=${issuer}. Or check the issuer you gave`,
    { sts: STS_ERRORS.noProvider(clusterIssuer), details },
  );
}

/** @internal Every key the API server verifies tokens with is published. */
export function judgeClusterJwks(facts: ClusterFacts, published: PublishedKeys | undefined): Outcome {
  const answer = facts.jwks;
  const blocked = unavailable(
    answer,
    facts.server,
    "/openid/v1/jwks",
    "get it (the same role as the discovery document)",
  );
  if (blocked) return blocked;
  if (!("status" in answer) || answer.status !== 200) {
    return notChecked(
      `${facts.server} does not serve /openid/v1/jwks (HTTP ${"status" in answer ? answer.status : "?"})`,
      "Kubernetes 1.21 and later serve it; compare the keys by hand",
    );
  }
  if (!published) return skip("the published JWKS could not be read");
  let clusterKids: string[];
  try {
    const parsed = parseJwks(JSON.stringify(answer.body), `${facts.server}/openid/v1/jwks`);
    clusterKids = parsed.keys.map((key) => key.kid);
  } catch (error) {
    return fail(
      `the API server's JWKS does not parse: ${(error as Error).message}`,
      "check kube-apiserver's --service-account-key-file",
    );
  }
  const missing = clusterKids.filter((kid) => !published.named.has(kid));
  const details = { clusterKids, missing };
  if (missing.length === 0) {
    return pass(`all ${clusterKids.length} of the API server's keys are published`, { details });
  }
  return fail(
    `the API server verifies with key${missing.length === 1 ? "" : "s"} ${missing.join(", ")}, which the published JWKS lacks: STS rejects tokens signed with ${missing.length === 1 ? "it" : "them"}`,
    "publish the cluster's keys: irsa-anywhere publish --cluster NAME ... (earlier keys stay published)",
    { sts: STS_ERRORS.noKey, details },
  );
}

/** @internal The service account exists and carries valid IRSA annotations. */
export function judgeServiceAccount(
  facts: ClusterFacts,
  account: ServiceAccountRef,
  expected: { roleArn?: string | undefined; clientIds?: readonly string[] | undefined },
): { outcome: Outcome; facts?: ServiceAccountFacts } {
  const answer = facts.serviceAccount ?? { error: "not read" };
  const name = `${account.namespace}/${account.name}`;
  const blocked = unavailable(
    answer,
    facts.server,
    `service account ${name}`,
    `get serviceaccounts in ${account.namespace}`,
    true,
  );
  if (blocked) return { outcome: blocked };
  if ("status" in answer && answer.status === 404) {
    return {
      outcome: fail(
        `there is no service account ${name} in the cluster`,
        `kubectl create serviceaccount -n ${account.namespace} ${account.name}, or check --service-account`,
      ),
    };
  }
  if (!("status" in answer) || answer.status !== 200) {
    return {
      outcome: couldNotRun(
        `${facts.server} answered HTTP ${"status" in answer ? answer.status : "?"} for ${name}`,
        "run again",
      ),
    };
  }
  const metadata = ((answer.body as { metadata?: unknown } | null)?.metadata ?? {}) as {
    annotations?: Record<string, string>;
    uid?: string;
    managedFields?: Array<{ time?: string; fieldsV1?: unknown }>;
  };
  const annotations = metadata.annotations ?? {};
  const found: ServiceAccountFacts = {
    ...(metadata.uid ? { uid: metadata.uid } : {}),
  };
  const annotate = (value: string) =>
    `kubectl annotate serviceaccount -n ${account.namespace} ${account.name} --overwrite ${ANNOTATIONS.roleArn}=${value}`;
  const roleArn = annotations[ANNOTATIONS.roleArn];
  const details: Record<string, unknown> = { annotations: pickIrsaAnnotations(annotations) };
  if (roleArn === undefined) {
    return {
      outcome: fail(
        `${name} has no ${ANNOTATIONS.roleArn} annotation, so the webhook gives its pods no role`,
        annotate(expected.roleArn ?? "arn:aws:iam::<account>:role/<role>"),
        { details },
      ),
      facts: found,
    };
  }
  if (!parseRoleArn(roleArn)) {
    return {
      outcome: fail(
        `${name}'s ${ANNOTATIONS.roleArn} is ${quoteInput(roleArn)}, which is not a role ARN`,
        annotate(expected.roleArn ?? "arn:aws:iam::<account>:role/<role>"),
        { details },
      ),
      facts: found,
    };
  }
  found.roleArn = roleArn;
  const annotatedAt = annotationTime(metadata.managedFields);
  if (annotatedAt) found.annotatedAt = annotatedAt;
  if (expected.roleArn !== undefined && expected.roleArn !== roleArn) {
    return {
      outcome: fail(
        `${name} is annotated with role ${roleArn}, not ${expected.roleArn}: its pods assume the annotated one`,
        annotate(expected.roleArn),
        { details },
      ),
      facts: found,
    };
  }
  const problems: string[] = [];
  const fixes: string[] = [];
  const audience = annotations[ANNOTATIONS.audience];
  if (audience !== undefined) {
    found.audience = audience;
    if (expected.clientIds && !expected.clientIds.includes(audience)) {
      return {
        outcome: fail(
          `${name}'s ${ANNOTATIONS.audience} is ${audience}, which the IAM OIDC provider does not list (${expected.clientIds.join(", ") || "none"})`,
          `add it to the provider (irsa-anywhere publish --audience ${audience}), or remove the annotation to use sts.amazonaws.com`,
          { sts: STS_ERRORS.audience, details },
        ),
        facts: found,
      };
    }
  }
  const regional = annotations[ANNOTATIONS.regional];
  if (regional !== undefined) {
    const parsed = parseGoBool(regional);
    if (parsed === undefined) {
      problems.push(`${ANNOTATIONS.regional} is ${quoteInput(regional)}, which the webhook ignores`);
      fixes.push(`set ${ANNOTATIONS.regional} to "true" or "false"`);
    } else {
      found.regional = parsed;
    }
  }
  const expiration = annotations[ANNOTATIONS.tokenExpiration];
  if (expiration !== undefined) {
    if (!/^-?\d+$/.test(expiration.trim())) {
      problems.push(
        `${ANNOTATIONS.tokenExpiration} is ${quoteInput(expiration)}, which the webhook ignores (tokens last 86400 s)`,
      );
      fixes.push(`set ${ANNOTATIONS.tokenExpiration} to a number of seconds, 3600 to 86400`);
    } else if (Number(expiration) < MIN_TOKEN_EXPIRATION) {
      problems.push(
        `${ANNOTATIONS.tokenExpiration} is ${expiration} s, which the webhook raises to ${MIN_TOKEN_EXPIRATION}`,
      );
      fixes.push(`set ${ANNOTATIONS.tokenExpiration} to ${MIN_TOKEN_EXPIRATION} or more`);
    }
  }
  const summary = `${ANNOTATIONS.roleArn}: ${roleArn}${audience ? `, audience ${audience}` : ""}`;
  if (problems.length > 0) {
    return {
      outcome: warn(`${summary}; but ${problems.join("; ")}`, fixes.join("; "), { details }),
      facts: found,
    };
  }
  return { outcome: pass(summary, { details }), facts: found };
}

/** @internal A MutatingWebhookConfiguration of the pod identity webhook exists and sees new pods. */
export function judgeWebhook(facts: ClusterFacts): Outcome {
  const answer = facts.webhooks;
  const blocked = unavailable(
    answer,
    facts.server,
    "mutatingwebhookconfigurations",
    "list mutatingwebhookconfigurations.admissionregistration.k8s.io",
  );
  if (blocked) return blocked;
  if (!("status" in answer) || answer.status !== 200) {
    return notChecked(
      `${facts.server} answered HTTP ${"status" in answer ? answer.status : "?"} for mutatingwebhookconfigurations`,
      "run again",
    );
  }
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
          `${where} is registered but not for the creation of pods`,
          "reinstall the webhook from its manifests (rules: CREATE on pods)",
          { details },
        );
      }
      return pass(where, { details });
    }
  }
  return fail(
    "no MutatingWebhookConfiguration of the pod identity webhook (amazon-eks-pod-identity-webhook) is registered, so no pod gets AWS_ROLE_ARN and a token",
    "install the pod identity webhook (EKS Anywhere: the IRSA guide's steps), then restart the pods",
    { details: { configurations: items.map((item) => item.metadata?.name) } },
  );
}

interface PodSummary {
  name: string;
  createdAt?: Date;
  problem?: string;
}

/** @internal Running pods of the service account were mutated by the webhook with its current annotation. */
export function judgePods(
  facts: ClusterFacts,
  account: ServiceAccountRef,
  sa: ServiceAccountFacts | undefined,
): Outcome {
  if (!sa?.roleArn) return skip("the service account carries no role annotation");
  const answer = facts.pods ?? { error: "not read" };
  const blocked = unavailable(
    answer,
    facts.server,
    `pods in ${account.namespace}`,
    `list pods in ${account.namespace}`,
  );
  if (blocked) return blocked;
  if (!("status" in answer) || answer.status !== 200) {
    return notChecked(
      `${facts.server} answered HTTP ${"status" in answer ? answer.status : "?"} for pods`,
      "run again",
    );
  }
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

/** When the role annotation was last written, from the managers that own it. */
function annotationTime(
  managedFields: Array<{ time?: string; fieldsV1?: unknown }> | undefined,
): Date | undefined {
  let latest: Date | undefined;
  for (const entry of managedFields ?? []) {
    const fields = entry.fieldsV1 as Record<string, Record<string, Record<string, unknown>>> | undefined;
    const owns = fields?.["f:metadata"]?.["f:annotations"]?.[`f:${ANNOTATIONS.roleArn}`] !== undefined;
    if (!owns || !entry.time) continue;
    const time = new Date(entry.time);
    if (!Number.isNaN(time.getTime()) && (!latest || time > latest)) latest = time;
  }
  return latest;
}

function pickIrsaAnnotations(annotations: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(annotations).filter(([key]) => key.startsWith("eks.amazonaws.com/")),
  );
}

/** Go's strconv.ParseBool, which the webhook uses. */
function parseGoBool(text: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return undefined;
}
