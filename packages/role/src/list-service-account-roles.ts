import type { ListRolesCommandOutput } from "@aws-sdk/client-iam";
import { issuerHostPath } from "@irsa-anywhere/discovery";
import {
  MANAGED_BY_TAG,
  parsePolicyText,
  SERVICE_ACCOUNT_ANNOTATIONS,
  translateAwsError,
} from "@irsa-anywhere/iam";
import { type RoleClientOptions, roleClients } from "./clients.js";
import { loadIam } from "./lib/iam-calls.js";
import { trustedSubjects } from "./lib/trust-subjects.js";

/** What `listServiceAccountRoles` looks for. */
export interface ListServiceAccountRolesOptions extends RoleClientOptions {
  /** The issuer, exactly as the cluster's tokens carry it. */
  issuer: string;
  /** Do not read the cluster: the roles and what they trust only. */
  roleOnly?: boolean | undefined;
}

/** One service account (or pattern) a role lets in, and what the cluster says of it. */
export interface TrustedServiceAccount {
  /** The `sub` value: `system:serviceaccount:NS:NAME`, or a pattern such as `system:serviceaccount:NS:*`. */
  subject: string;
  /** `NS/NAME`, when the subject names one service account exactly. */
  serviceAccount?: string;
  /** Whether it exists; unknown (absent) for a pattern or with `roleOnly`. */
  exists?: boolean;
  /** Whether its `eks.amazonaws.com/role-arn` names this role; absent when unknown. */
  annotated?: boolean;
}

/** A role that trusts the issuer. */
export interface ServiceAccountRole {
  roleName: string;
  roleArn: string;
  /** Whether this tool created it (its `managed-by` tag). */
  managed: boolean;
  serviceAccounts: TrustedServiceAccount[];
}

const exactSubject = /^system:serviceaccount:([a-z0-9-]+):([a-z0-9.-]+)$/;

/**
 * The roles of the account whose trust policy lets in the issuer's service accounts, with the
 * service accounts each lets in, read from the trust policies (not the tags, which another tool
 * never writes), and whether each exists in the cluster and names the role.
 *
 * @throws {IamError} for AWS failures. @throws {KubeError} for a cluster that cannot be read.
 *
 * @example
 * const roles = await listServiceAccountRoles({ issuer: "https://oidc.example.com/prod", roleOnly: true });
 * for (const role of roles) console.log(role.roleName, role.serviceAccounts.map((a) => a.subject));
 */
export async function listServiceAccountRoles(
  options: ListServiceAccountRolesOptions,
): Promise<ServiceAccountRole[]> {
  const hostPath = issuerHostPath(options.issuer);
  const clients = await roleClients(options);
  try {
    const iam = await loadIam();
    const roles: ServiceAccountRole[] = [];
    let marker: string | undefined;
    do {
      let page: ListRolesCommandOutput;
      try {
        page = await clients.iam.send(new iam.ListRolesCommand({ ...(marker ? { Marker: marker } : {}) }));
      } catch (error) {
        throw translateAwsError(error, { action: "iam:ListRoles", resource: "*" });
      }
      for (const role of page.Roles ?? []) {
        const subjects = trustedSubjects(parsePolicyText(role.AssumeRolePolicyDocument), hostPath);
        if (subjects.length === 0 || !role.RoleName || !role.Arn) continue;
        let managed = false;
        try {
          const tags = await clients.iam.send(new iam.ListRoleTagsCommand({ RoleName: role.RoleName }));
          managed = (tags.Tags ?? []).some(
            (t) => t.Key === MANAGED_BY_TAG.Key && t.Value === MANAGED_BY_TAG.Value,
          );
        } catch (error) {
          throw translateAwsError(error, { action: "iam:ListRoleTags", resource: role.Arn });
        }
        roles.push({
          roleName: role.RoleName,
          roleArn: role.Arn,
          managed,
          serviceAccounts: [...new Set(subjects.map((s) => s.value))].map((subject) => {
            const match = exactSubject.exec(subject);
            return match ? { subject, serviceAccount: `${match[1]}/${match[2]}` } : { subject };
          }),
        });
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    if (!options.roleOnly && roles.some((role) => role.serviceAccounts.some((a) => a.serviceAccount))) {
      const cluster = await clients.kubernetes();
      for (const role of roles) {
        for (const account of role.serviceAccounts) {
          if (!account.serviceAccount) continue;
          const [namespace = "", name = ""] = account.serviceAccount.split("/");
          const found = await cluster.readServiceAccount(namespace, name);
          account.exists = found !== undefined;
          account.annotated = found?.annotations[SERVICE_ACCOUNT_ANNOTATIONS.roleArn] === role.roleArn;
        }
      }
    }
    return roles.sort((a, b) => a.roleName.localeCompare(b.roleName));
  } finally {
    clients.close();
  }
}
