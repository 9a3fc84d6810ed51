import { DEFAULT_AUDIENCE, SERVICE_ACCOUNT_ANNOTATIONS, type ServiceAccountRef } from "@irsa-anywhere/iam";
import type { ServiceAccountClient } from "@irsa-anywhere/kube";
import type { ServiceAccountAnnotations, ServiceAccountRoleOptions } from "../ensure-service-account-role.js";
import { RoleError } from "../errors.js";
import { lineDiff } from "./line-diff.js";

/** @internal The annotations the pod identity webhook reads, as this run wants them. */
export function wantedAnnotations(
  roleArn: string,
  audience: string,
  options: ServiceAccountRoleOptions,
): Record<string, string> {
  return {
    [SERVICE_ACCOUNT_ANNOTATIONS.roleArn]: roleArn,
    ...(audience === DEFAULT_AUDIENCE ? {} : { [SERVICE_ACCOUNT_ANNOTATIONS.audience]: audience }),
    [SERVICE_ACCOUNT_ANNOTATIONS.regional]: String(options.stsRegionalEndpoints ?? true),
    ...(options.tokenExpirationSeconds === undefined
      ? {}
      : { [SERVICE_ACCOUNT_ANNOTATIONS.tokenExpiration]: String(options.tokenExpirationSeconds) }),
  };
}

/**
 * @internal
 * Each named service account read, and the merge patch of its annotations; namespaces checked.
 * @throws {RoleError} `ERR_NAMESPACE_NOT_FOUND`, `ERR_ANNOTATION_CONFLICT`.
 */
export async function planServiceAccounts(
  cluster: ServiceAccountClient,
  accounts: ServiceAccountRef[],
  namespaces: string[],
  annotations: Record<string, string>,
  roleArn: string,
  overwrite: boolean,
): Promise<ServiceAccountAnnotations[]> {
  const checked = new Set<string>();
  const requireNamespace = async (namespace: string, why: string) => {
    if (checked.has(namespace)) return;
    if (!(await cluster.namespaceExists(namespace))) {
      throw new RoleError(
        "ERR_NAMESPACE_NOT_FOUND",
        `namespace ${namespace} does not exist on ${cluster.server} (${why}); create it first (kubectl create namespace ${namespace}), or check --kubeconfig and --context`,
      );
    }
    checked.add(namespace);
  };
  for (const namespace of namespaces) await requireNamespace(namespace, "named by --namespace-wide");
  const planned: ServiceAccountAnnotations[] = [];
  for (const account of accounts) {
    const current = await cluster.readServiceAccount(account.namespace, account.name);
    if (!current)
      await requireNamespace(account.namespace, `service account ${account.namespace}/${account.name}`);
    const existing = current?.annotations ?? {};
    const named = existing[SERVICE_ACCOUNT_ANNOTATIONS.roleArn];
    if (named !== undefined && named !== roleArn && !overwrite) {
      throw new RoleError(
        "ERR_ANNOTATION_CONFLICT",
        `service account ${account.namespace}/${account.name} already names role ${named}, not ${roleArn}; pass --overwrite to point it at ${roleArn}`,
      );
    }
    const patch: Record<string, string | null> = {};
    for (const [key, value] of Object.entries(annotations)) if (existing[key] !== value) patch[key] = value;
    // A leftover audience would make the webhook ask for tokens the role's trust policy refuses.
    if (
      !(SERVICE_ACCOUNT_ANNOTATIONS.audience in annotations) &&
      existing[SERVICE_ACCOUNT_ANNOTATIONS.audience] !== undefined
    ) {
      patch[SERVICE_ACCOUNT_ANNOTATIONS.audience] = null;
    }
    const before = Object.fromEntries(
      Object.values(SERVICE_ACCOUNT_ANNOTATIONS).flatMap((key) =>
        existing[key] === undefined ? [] : [[key, existing[key] as string]],
      ),
    );
    const afterAnnotations = { ...before };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete afterAnnotations[key];
      else afterAnnotations[key] = value;
    }
    const lines = (map: Record<string, string>) =>
      Object.entries(map)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}: ${v}`)
        .join("\n");
    planned.push({
      namespace: account.namespace,
      name: account.name,
      exists: current !== undefined,
      before,
      patch: current ? patch : { ...annotations },
      diff:
        Object.keys(patch).length === 0 && current
          ? []
          : lineDiff(lines(before), lines(afterAnnotations)).filter((l) => !l.startsWith("  ")),
    });
  }
  return planned;
}
