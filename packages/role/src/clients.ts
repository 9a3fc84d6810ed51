import type { IAMClient } from "@aws-sdk/client-iam";
import { type AwsClientSettings, makeIamClient, partitionOfSdkRegion } from "@irsa-anywhere/iam";
import type { KubeconfigOptions, ServiceAccountClient } from "@irsa-anywhere/kube";

/** Where the role commands find IAM and the cluster, or the clients to use instead. */
export interface RoleClientOptions {
  /**
   * Picks IAM's partition (`cn-north-1`: aws-cn); default the SDK's region (`AWS_REGION`, the
   * profile's).
   */
  region?: string | undefined;
  /** The profile and request timeout of the IAM client made here. */
  awsSettings?: AwsClientSettings | undefined;
  /** The cluster of the service accounts; default `KUBECONFIG`, `~/.kube/config` or in-cluster. */
  kubernetes?: KubeconfigOptions | undefined;
  /** The caller's overall deadline, which bounds each Kubernetes request. */
  timeoutMs?: number | undefined;
  /** Clients to use instead of ones made from the environment; the caller keeps and destroys them. */
  clients?: { iam?: IAMClient; kubernetes?: ServiceAccountClient } | undefined;
}

/** @internal The clients of one run, and how to let go of those made here. */
export interface RoleClients {
  iam: IAMClient;
  /** Made on first use, so that `--role-only` never loads a kubeconfig. */
  kubernetes(): Promise<ServiceAccountClient>;
  close(): void;
}

/** @internal */
export async function roleClients(options: RoleClientOptions): Promise<RoleClients> {
  const given = options.clients ?? {};
  const iam =
    given.iam ??
    (await makeIamClient(
      await partitionOfSdkRegion(options.region, options.awsSettings),
      options.awsSettings,
    ));
  let kubernetes: Promise<ServiceAccountClient> | undefined;
  return {
    iam,
    kubernetes() {
      if (given.kubernetes) return Promise.resolve(given.kubernetes);
      kubernetes ??= import("@irsa-anywhere/kube").then((kube) =>
        kube.connectServiceAccounts({ ...options.kubernetes, timeoutMs: options.timeoutMs }),
      );
      return kubernetes;
    },
    close() {
      if (!given.iam) iam.destroy();
    },
  };
}
