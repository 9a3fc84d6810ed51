import { issuerHostPath } from "@irsa-anywhere/discovery";
import { firstLine, IrsaAnywhereError } from "@irsa-anywhere/errors";
import {
  buildTrustPolicy,
  DEFAULT_AUDIENCE,
  evaluateTrustPolicy,
  lookUpRole,
  MANAGED_BY_TAG,
  mergeTrustPolicy,
  parsePolicyText,
  parseServiceAccount,
  type ServiceAccountRef,
  translateAwsError,
} from "@irsa-anywhere/iam";
import { type RoleClientOptions, roleClients } from "./clients.js";
import { RoleError } from "./errors.js";
import { iamCall, loadIam } from "./lib/iam-calls.js";
import {
  assertMaxSessionDuration,
  assertPartition,
  assertRoleName,
  assertTokenExpiration,
  canonicalJson,
  inlinePolicyDocument,
  policyArnPartition,
} from "./lib/inputs.js";
import { lineDiff } from "./lib/line-diff.js";
import { requireProvider } from "./lib/provider.js";
import {
  createRole,
  INLINE_POLICY_NAME,
  listAttachedPolicyArns,
  requirePolicy,
  sameInlinePolicy,
} from "./lib/role-state.js";
import { planServiceAccounts, wantedAnnotations } from "./lib/service-account-plan.js";
import { ROLE_TAGS, tagValue, tagWords } from "./lib/tags.js";
import { rewriteTrustPolicy } from "./lib/trust-policy-writes.js";

export { INLINE_POLICY_NAME } from "./lib/role-state.js";

/** What `ensureServiceAccountRole` makes sure of: the role, what it trusts and may do, the service accounts. */
export interface ServiceAccountRoleOptions extends RoleClientOptions {
  /** The issuer, exactly as the cluster's tokens carry it. */
  issuer: string;
  /** The role's name (no path), as IAM's CreateRole takes it. */
  roleName: string;
  /** The service accounts let in, each by exact name: `NS/NAME`, `NS:NAME` or the token's subject. */
  serviceAccounts?: readonly (ServiceAccountRef | string)[] | undefined;
  /** Namespaces whose every service account is let in; no service account is annotated for them. */
  namespaceWide?: readonly string[] | undefined;
  /** Managed policies to attach (never detached). */
  attachPolicyArns?: readonly string[] | undefined;
  /** A permissions policy, JSON text or an object, kept as the inline policy {@link INLINE_POLICY_NAME}. */
  inlinePolicy?: string | object | undefined;
  /** Names the inline policy's source in messages; default "the inline policy". */
  inlinePolicySource?: string | undefined;
  permissionsBoundaryArn?: string | undefined;
  /** Seconds, 3600 to 43200. */
  maxSessionDurationSeconds?: number | undefined;
  /** The tokens' audience; default `sts.amazonaws.com`. */
  audience?: string | undefined;
  /** `eks.amazonaws.com/sts-regional-endpoints`; default true (the global endpoint is legacy). */
  stsRegionalEndpoints?: boolean | undefined;
  /** `eks.amazonaws.com/token-expiration`, in seconds; left alone when not given. */
  tokenExpirationSeconds?: number | undefined;
  /** Leave the cluster alone: the role only, and the annotations to add in `annotations`. */
  roleOnly?: boolean | undefined;
  /** Replace a service account's annotation that names another role. */
  overwrite?: boolean | undefined;
  /** Plan only: read, and write nothing. */
  dryRun?: boolean | undefined;
}

/** One change to the role or to a service account: planned, or done. */
export interface RoleChange {
  /** What it changes: `role`, `trust-policy`, `tags`, `policy`, `inline-policy`, `permissions-boundary`, `max-session-duration`, `service-account`. */
  target: string;
  /** One line, as the CLI prints it. */
  description: string;
}

/** A service account's annotations, before and as they will be. */
export interface ServiceAccountAnnotations {
  namespace: string;
  name: string;
  /** False when it will be created. */
  exists: boolean;
  /** The annotations the webhook reads, as they are now. */
  before: Record<string, string>;
  /** The JSON merge patch of `metadata.annotations`: a value sets, `null` removes. Empty when nothing changes. */
  patch: Record<string, string | null>;
  /** `+ key: value` and `- key: value` lines. */
  diff: string[];
}

/** What `ensureServiceAccountRole` did, or in a dry run would do. */
export interface ServiceAccountRoleOutcome {
  roleName: string;
  roleArn: string;
  providerArn: string;
  /** Whether the role was (or would be) created. */
  created: boolean;
  dryRun: boolean;
  /** Every change, in the order made; empty when everything already was as asked. */
  changes: RoleChange[];
  /** The trust policy as it will be, and the diff against the current one. */
  trustPolicy: { before: unknown; after: Record<string, unknown>; diff: string[] };
  /** The service accounts' annotations; empty with `roleOnly`. */
  serviceAccounts: ServiceAccountAnnotations[];
  /** The annotations each named service account needs (what `roleOnly` leaves to the user). */
  annotations: Record<string, string>;
}

/**
 * Makes sure an IAM role lets the given service accounts of a cluster assume it, and that the
 * service accounts name it, as `eksctl create iamserviceaccount` does on EKS: creates the role
 * (or merges the service accounts into its trust policy, dropping nothing), attaches the managed
 * policies, puts the inline policy, tags the role with the issuer and the service accounts, and
 * creates or annotates the service accounts with one JSON merge patch each. Everything is read
 * and checked first, so that bad input changes nothing; a second identical run writes nothing.
 *
 * @throws {RoleError} `ERR_ROLE_NAME_INVALID`, `ERR_ROLE_OPTION_INVALID`, `ERR_POLICY_ARN_INVALID`,
 *   `ERR_ARN_PARTITION_MISMATCH`, `ERR_POLICY_INVALID`, `ERR_NAMESPACE_NOT_FOUND`,
 *   `ERR_OIDC_PROVIDER_MISSING`, `ERR_ANNOTATION_CONFLICT`, `ERR_TRUST_POLICY_TOO_WIDE` before
 *   any write; `ERR_TRUST_POLICY_CONFLICT`; `ERR_ROLE_INCOMPLETE` when AWS failed after some of the role's writes (the message
 *   says which were made); `ERR_SERVICE_ACCOUNT_NOT_ANNOTATED` when the role was
 *   written but the cluster failed (a re-run finishes the job).
 * @throws {IamError} for bad service accounts or audiences, and for AWS failures.
 * @throws {KubeError} for a cluster that cannot be read.
 *
 * @example
 * const outcome = await ensureServiceAccountRole({
 *   issuer: "https://oidc.example.com/prod",
 *   roleName: "payments-api",
 *   serviceAccounts: ["payments/api"],
 *   attachPolicyArns: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
 *   kubernetes: { kubeconfig: "prod.kubeconfig" },
 * });
 * for (const change of outcome.changes) console.log(change.description);
 */
export async function ensureServiceAccountRole(
  options: ServiceAccountRoleOptions,
): Promise<ServiceAccountRoleOutcome> {
  // Every check of the input first, before any request.
  const hostPath = issuerHostPath(options.issuer);
  assertRoleName(options.roleName);
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const accounts = (options.serviceAccounts ?? []).map((account) =>
    typeof account === "string" ? parseServiceAccount(account) : account,
  );
  const namespaces = [...new Set(options.namespaceWide ?? [])];
  const wanted = { issuer: options.issuer, serviceAccounts: accounts, namespaceWide: namespaces, audience };
  buildTrustPolicy({ ...wanted, accountId: "000000000000" });
  const policyArns = [...new Set(options.attachPolicyArns ?? [])].map((arn) => ({
    arn,
    partition: policyArnPartition(arn, "--attach-policy-arn"),
  }));
  const boundary =
    options.permissionsBoundaryArn === undefined
      ? undefined
      : {
          arn: options.permissionsBoundaryArn,
          partition: policyArnPartition(options.permissionsBoundaryArn, "--permissions-boundary"),
        };
  const inline =
    options.inlinePolicy === undefined
      ? undefined
      : inlinePolicyDocument(options.inlinePolicy, options.inlinePolicySource ?? "the inline policy");
  if (options.maxSessionDurationSeconds !== undefined)
    assertMaxSessionDuration(options.maxSessionDurationSeconds);
  if (options.tokenExpirationSeconds !== undefined) assertTokenExpiration(options.tokenExpirationSeconds);

  const clients = await roleClients(options);
  try {
    const iam = await loadIam();
    const client = clients.iam;
    const provider = await requireProvider(client, options.issuer, hostPath, audience);
    for (const policy of policyArns)
      assertPartition(policy.arn, policy.partition, provider.partition, "--attach-policy-arn");
    if (boundary)
      assertPartition(boundary.arn, boundary.partition, provider.partition, "--permissions-boundary");
    for (const arn of [...policyArns.map((p) => p.arn), ...(boundary ? [boundary.arn] : [])]) {
      await requirePolicy(iam, client, arn);
    }
    const newRoleArn = `arn:${provider.partition}:iam::${provider.accountId}:role/${options.roleName}`;
    const merge = { ...wanted, accountId: provider.accountId, partition: provider.partition };

    const lookup = await lookUpRole(client, options.roleName);
    if (lookup.kind === "error") {
      throw translateAwsError(lookup.error, { action: "iam:GetRole", resource: newRoleArn });
    }
    const found = lookup.kind === "found" ? lookup : undefined;
    // An existing role's ARN as IAM has it: with its path (role/ops/payments-api), which the
    // annotation must carry.
    const roleArn = found?.arn ?? newRoleArn;
    const before = found ? parsePolicyText(found.document) : undefined;
    if (found)
      refuseWiderWildcard(found.document, {
        ...merge,
        hostPath,
        providerArn: provider.arn,
        roleName: options.roleName,
      });
    const after = found
      ? mergeTrustPolicy(found.document, merge).policy
      : (buildTrustPolicy(merge) as unknown as Record<string, unknown>);
    const trustDiff = before === undefined || canonicalJson(before) !== canonicalJson(after);

    const existingTags = found?.tags ?? [];
    const wantedTags = [
      ...(found ? [] : [MANAGED_BY_TAG]),
      {
        Key: ROLE_TAGS.issuers,
        Value: tagValue(ROLE_TAGS.issuers, [...tagWords(existingTags, ROLE_TAGS.issuers), hostPath]),
      },
      ...(accounts.length > 0
        ? [
            {
              Key: ROLE_TAGS.serviceAccounts,
              Value: tagValue(ROLE_TAGS.serviceAccounts, [
                ...tagWords(existingTags, ROLE_TAGS.serviceAccounts),
                ...accounts.map((a) => `${a.namespace}/${a.name}`),
              ]),
            },
          ]
        : []),
      ...(namespaces.length > 0
        ? [
            {
              Key: ROLE_TAGS.namespaces,
              Value: tagValue(ROLE_TAGS.namespaces, [
                ...tagWords(existingTags, ROLE_TAGS.namespaces),
                ...namespaces,
              ]),
            },
          ]
        : []),
    ];
    const tagsToSet = wantedTags.filter(
      (tag) => !existingTags.some((t) => t.Key === tag.Key && t.Value === tag.Value),
    );

    const attached = found ? await listAttachedPolicyArns(iam, client, options.roleName) : new Set<string>();
    const toAttach = policyArns.filter((policy) => !attached.has(policy.arn)).map((policy) => policy.arn);
    const inlineChanged =
      inline !== undefined && (!found || !(await sameInlinePolicy(iam, client, options.roleName, inline)));
    const boundaryChanged = boundary !== undefined && found?.permissionsBoundaryArn !== boundary.arn;
    const sessionChanged =
      options.maxSessionDurationSeconds !== undefined &&
      (found?.maxSessionDuration ?? 3600) !== options.maxSessionDurationSeconds;

    const annotations = wantedAnnotations(roleArn, audience, options);
    const serviceAccounts = options.roleOnly
      ? []
      : await planServiceAccounts(
          await clients.kubernetes(),
          accounts,
          namespaces,
          annotations,
          roleArn,
          options.overwrite === true,
        );

    const changes: RoleChange[] = [];
    if (!found) {
      changes.push({ target: "role", description: `role ${options.roleName}: create ${roleArn}` });
    } else if (trustDiff) {
      const merged = mergeTrustPolicy(found.document, merge);
      changes.push({
        target: "trust-policy",
        description: `role ${options.roleName}: trust ${merged.added.join(", ")}`,
      });
    }
    if (found && tagsToSet.length > 0) {
      changes.push({
        target: "tags",
        description: `role ${options.roleName}: tag ${tagsToSet.map((t) => `${t.Key}=${t.Value}`).join(", ")}`,
      });
    }
    if (found && boundaryChanged) {
      changes.push({
        target: "permissions-boundary",
        description: `role ${options.roleName}: permissions boundary ${boundary?.arn}`,
      });
    }
    if (found && sessionChanged) {
      changes.push({
        target: "max-session-duration",
        description: `role ${options.roleName}: maximum session ${options.maxSessionDurationSeconds} s`,
      });
    }
    for (const arn of toAttach)
      changes.push({ target: "policy", description: `role ${options.roleName}: attach ${arn}` });
    if (inlineChanged)
      changes.push({
        target: "inline-policy",
        description: `role ${options.roleName}: put inline policy ${INLINE_POLICY_NAME}`,
      });
    for (const account of serviceAccounts) {
      if (Object.keys(account.patch).length === 0) continue;
      const set = Object.entries(account.patch).map(([k, v]) => (v === null ? `-${k}` : `${k}=${v}`));
      changes.push({
        target: "service-account",
        description: `service account ${account.namespace}/${account.name}: ${account.exists ? "annotate" : "create with"} ${set.join(" ")}`,
      });
    }
    const outcome: ServiceAccountRoleOutcome = {
      roleName: options.roleName,
      roleArn,
      providerArn: provider.arn,
      created: !found,
      dryRun: options.dryRun === true,
      changes,
      trustPolicy: {
        before,
        after,
        diff: trustDiff
          ? lineDiff(
              before === undefined ? "" : JSON.stringify(before, null, 2),
              JSON.stringify(after, null, 2),
            )
          : [],
      },
      serviceAccounts,
      annotations,
    };
    if (options.dryRun || changes.length === 0) return outcome;

    // The writes, IAM first: a service account must never name a role that does not let it in.
    const done: string[] = [];
    try {
      if (!found) {
        const created = await createRole(iam, client, options, after, wantedTags, boundary?.arn);
        if (!created) {
          // Another run created it between our read and our write: merge into what it made.
          await rewriteTrustPolicy(iam, client, options.roleName, (current) => mergedChange(current, merge));
        }
        done.push(`created role ${options.roleName}`);
      } else if (trustDiff) {
        await rewriteTrustPolicy(iam, client, options.roleName, (current) => mergedChange(current, merge));
        done.push(`updated the trust policy of ${options.roleName}`);
      }
      if (found && tagsToSet.length > 0) {
        await iamCall(
          client,
          new iam.TagRoleCommand({ RoleName: options.roleName, Tags: tagsToSet }),
          "TagRole",
          roleArn,
        );
      }
      if (found && boundaryChanged && boundary) {
        await iamCall(
          client,
          new iam.PutRolePermissionsBoundaryCommand({
            RoleName: options.roleName,
            PermissionsBoundary: boundary.arn,
          }),
          "PutRolePermissionsBoundary",
          roleArn,
        );
      }
      if (found && sessionChanged) {
        await iamCall(
          client,
          new iam.UpdateRoleCommand({
            RoleName: options.roleName,
            MaxSessionDuration: options.maxSessionDurationSeconds,
          }),
          "UpdateRole",
          roleArn,
        );
      }
      for (const arn of toAttach) {
        await iamCall(
          client,
          new iam.AttachRolePolicyCommand({ RoleName: options.roleName, PolicyArn: arn }),
          "AttachRolePolicy",
          roleArn,
        );
        done.push(`attached ${arn}`);
      }
      if (inlineChanged && inline) {
        await iamCall(
          client,
          new iam.PutRolePolicyCommand({
            RoleName: options.roleName,
            PolicyName: INLINE_POLICY_NAME,
            PolicyDocument: JSON.stringify(inline),
          }),
          "PutRolePolicy",
          roleArn,
        );
        done.push(`put inline policy ${INLINE_POLICY_NAME}`);
      }
      if (!found || trustDiff) {
        // A second look, once the role's other writes are done: a writer that read the policy
        // before our write and wrote after our read-back replaced it; later is likelier to see it.
        await rewriteTrustPolicy(iam, client, options.roleName, (current) => mergedChange(current, merge));
      }
    } catch (error) {
      throw withProgress(error, done);
    }
    for (const account of serviceAccounts) {
      if (Object.keys(account.patch).length === 0) continue;
      try {
        const cluster = await clients.kubernetes();
        if (account.exists)
          await cluster.patchServiceAccountAnnotations(account.namespace, account.name, account.patch);
        else await cluster.createServiceAccount(account.namespace, account.name, annotations);
      } catch (error) {
        throw new RoleError(
          "ERR_SERVICE_ACCOUNT_NOT_ANNOTATED",
          `${done.length > 0 ? done.join(", ") : `role ${options.roleName} is as asked`}, but service account ${account.namespace}/${account.name} could not be ${account.exists ? "annotated" : "created"}: ${firstLine(error)}; run the same command again to finish the job`,
          { cause: error },
        );
      }
      done.push(
        `${account.exists ? "annotated" : "created"} service account ${account.namespace}/${account.name}`,
      );
    }
    return outcome;
  } finally {
    clients.close();
  }
}

/** A failure after some of the writes: what was done, and that a re-run finishes the job. */
function withProgress(error: unknown, done: readonly string[]): unknown {
  if (done.length === 0 || !(error instanceof IrsaAnywhereError)) return error;
  return new RoleError(
    "ERR_ROLE_INCOMPLETE",
    `${done.join(", ")}; then: ${error.message}; once that is fixed, the same command finishes the job`,
    { cause: error },
  );
}

function mergedChange(current: string, merge: Parameters<typeof mergeTrustPolicy>[1]) {
  const merged = mergeTrustPolicy(current, merge);
  return { policy: merged.policy, changed: merged.added.length > 0 };
}

/**
 * A role whose trust policy already lets in a service account this run did not ask for (a
 * `sub` wildcard wider than asked) would go on letting it in: refused, rather than made to look
 * as if it trusted only the named ones. The probes are names no service account can have
 * (upper case), so only a wildcard lets them in.
 */
function refuseWiderWildcard(
  document: string,
  at: {
    hostPath: string;
    providerArn: string;
    audience: string;
    serviceAccounts: ServiceAccountRef[];
    namespaceWide: string[];
    roleName: string;
  },
): void {
  const probe = "IRSA-ANYWHERE-PROBE";
  const probes = [
    ...new Set([
      ...at.serviceAccounts
        .filter((a) => !at.namespaceWide.includes(a.namespace))
        .map((a) => `system:serviceaccount:${a.namespace}:${probe}`),
      `system:serviceaccount:${probe.toLowerCase()}-${probe}:${probe}`,
    ]),
  ];
  for (const subject of probes) {
    const evaluation = evaluateTrustPolicy(document, {
      providerArn: at.providerArn,
      issuerHostPath: at.hostPath,
      subject,
      audience: at.audience,
    });
    if (evaluation.decision === "allowed") {
      const scope = subject.includes(`${probe.toLowerCase()}-`)
        ? "every namespace of the cluster"
        : `every service account of namespace ${subject.split(":")[2]}`;
      throw new RoleError(
        "ERR_TRUST_POLICY_TOO_WIDE",
        `role ${at.roleName} already lets in ${scope} through a wildcard sub (${evaluation.reason}), wider than asked; narrow its trust policy by hand, pass --namespace-wide if that is meant, or use another --role-name`,
      );
    }
  }
}
