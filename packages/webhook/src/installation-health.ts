import { X509Certificate } from "node:crypto";
import { formatMs, pemCertificateBlocks } from "@irsa-anywhere/errors";
import { serviceDnsNames } from "./certificates.js";
import { WEBHOOK_NAME, WEBHOOK_TLS_SECRET } from "./manifests.js";

/** A serving certificate this close to its end is due for renewal: 30 days. */
export const RENEW_WITHIN_MS = 30 * 24 * 3_600_000;

/**
 * What was read from the cluster about one installation, as the API server answered it.
 *
 * @example
 * const observation: WebhookObservation = { namespace: "irsa-anywhere", deployment: undefined, servingCertificatePem: undefined, webhookConfiguration: undefined };
 */
export interface WebhookObservation {
  /** The namespace of the installation. */
  namespace: string;
  /** The Deployment, or `undefined` when there is none. */
  deployment: unknown;
  /** The serving Secret's `tls.crt` (PEM), or `undefined` when there is none. */
  servingCertificatePem: string | undefined;
  /** The MutatingWebhookConfiguration, or `undefined` when there is none. */
  webhookConfiguration: unknown;
}

/**
 * The checks {@link judgeWebhookHealth} makes, each with a stable id.
 *
 * @example
 * const ids: WebhookCheckId[] = ["deployment", "replicas", "certificate", "ca-bundle", "service"];
 */
export type WebhookCheckId = "deployment" | "replicas" | "certificate" | "ca-bundle" | "service";

/**
 * One finding about the installation: passed, a warning, or a failure, with what to do.
 *
 * @example
 * const check: WebhookCheck = { id: "replicas", status: "warn", message: "1 of 2 replicas ready", fix: "kubectl -n irsa-anywhere describe deployment pod-identity-webhook" };
 */
export interface WebhookCheck {
  id: WebhookCheckId;
  status: "pass" | "warn" | "fail";
  message: string;
  fix?: string;
}

/**
 * The health of an installation: each check, and the facts a reader asks for first.
 *
 * @example
 * const health: WebhookHealth = judgeWebhookHealth({ namespace: "irsa-anywhere", deployment: undefined, servingCertificatePem: undefined, webhookConfiguration: undefined });
 * if (!health.healthy) process.exitCode = 1;
 */
export interface WebhookHealth {
  /** No check failed. */
  healthy: boolean;
  /** The image's tag (or digest) the Deployment runs. */
  version: string | undefined;
  /** Replicas ready, of those asked for. */
  replicas: { ready: number; desired: number } | undefined;
  /** When the serving certificate expires (ISO 8601). */
  certificateNotAfter: string | undefined;
  checks: WebhookCheck[];
}

interface DeploymentFields {
  spec?: {
    replicas?: number;
    template?: { spec?: { containers?: Array<{ name?: string; image?: string }> } };
  };
  status?: { readyReplicas?: number; updatedReplicas?: number };
}

interface WebhookConfigurationFields {
  metadata?: { annotations?: Record<string, string> };
  webhooks?: Array<{
    name?: string;
    clientConfig?: {
      caBundle?: string;
      service?: { name?: string; namespace?: string; path?: string; port?: number };
    };
  }>;
}

/**
 * Judges an installation of the pod identity webhook from what was read: the version it runs,
 * replicas ready, when the serving certificate expires (a warning within 30 days), whether the
 * CA bundle the API server trusts verifies the serving certificate, and whether the webhook
 * configuration points at the installation's Service. `webhook status` and `doctor` both use it.
 * Pure: no cluster needed.
 *
 * @example
 * const health = judgeWebhookHealth({
 *   namespace: "irsa-anywhere",
 *   deployment: undefined, // as read from the cluster
 *   servingCertificatePem: await readFile("tls.crt", "utf8"),
 *   webhookConfiguration: undefined,
 * });
 * for (const check of health.checks) console.log(check.status, check.message);
 */
export function judgeWebhookHealth(observation: WebhookObservation, now: Date = new Date()): WebhookHealth {
  const { namespace } = observation;
  const checks: WebhookCheck[] = [];
  const deployment = observation.deployment as DeploymentFields | undefined;
  const where = `${namespace}/${WEBHOOK_NAME}`;
  const describe = `kubectl -n ${namespace} describe deployment ${WEBHOOK_NAME}`;
  let version: string | undefined;
  let replicas: WebhookHealth["replicas"];
  if (deployment === undefined) {
    checks.push({
      id: "deployment",
      status: "fail",
      message: `no Deployment ${where}`,
      fix: `run irsa-anywhere webhook install --namespace ${namespace}`,
    });
  } else {
    const image = deployment.spec?.template?.spec?.containers?.[0]?.image ?? "";
    version = imageVersion(image);
    checks.push({ id: "deployment", status: "pass", message: `Deployment ${where} runs ${image}` });
    const desired = deployment.spec?.replicas ?? 1;
    const ready = Math.min(deployment.status?.readyReplicas ?? 0, deployment.status?.updatedReplicas ?? 0);
    replicas = { ready, desired };
    checks.push(
      ready >= desired
        ? { id: "replicas", status: "pass", message: `${ready} of ${desired} replicas ready` }
        : {
            id: "replicas",
            status: ready === 0 ? "fail" : "warn",
            message: `${ready} of ${desired} replicas ready${ready === 0 ? ": no pod gets AWS credentials while none is (failurePolicy Ignore lets pods start without them)" : ""}`,
            fix: `see why with ${describe} and its pods' events`,
          },
    );
  }

  const serving = parseCertificate(observation.servingCertificatePem);
  let certificateNotAfter: string | undefined;
  if (serving === undefined) {
    checks.push({
      id: "certificate",
      status: "fail",
      message: `no serving certificate in Secret ${namespace}/${WEBHOOK_TLS_SECRET} (or not a PEM certificate)`,
      fix: `run irsa-anywhere webhook install --namespace ${namespace}`,
    });
  } else {
    const notAfter = new Date(serving.validTo);
    certificateNotAfter = notAfter.toISOString();
    const left = notAfter.getTime() - now.getTime();
    const missing = serviceDnsNames(WEBHOOK_NAME, namespace).filter(
      (name) => serving.checkHost(name) === undefined,
    );
    const renew = `run irsa-anywhere webhook renew-cert --namespace ${namespace}`;
    if (left <= 0) {
      checks.push({
        id: "certificate",
        status: "fail",
        message: `the serving certificate expired ${certificateNotAfter}`,
        fix: renew,
      });
    } else if (missing.length > 0) {
      checks.push({
        id: "certificate",
        status: "fail",
        message: `the serving certificate does not name ${missing.join(", ")}, which the API server calls`,
        fix: renew,
      });
    } else {
      const due = left < RENEW_WITHIN_MS;
      checks.push({
        id: "certificate",
        status: due ? "warn" : "pass",
        message: `the serving certificate expires ${certificateNotAfter} (in ${formatMs(left)})`,
        ...(due ? { fix: renew } : {}),
      });
    }
  }

  const configuration = observation.webhookConfiguration as WebhookConfigurationFields | undefined;
  const webhook = configuration?.webhooks?.[0];
  if (configuration === undefined || webhook === undefined) {
    const missing = {
      status: "fail" as const,
      message:
        "no MutatingWebhookConfiguration of this installation, so the API server never calls the webhook",
      fix: `run irsa-anywhere webhook install --namespace ${namespace}`,
    };
    checks.push({ id: "ca-bundle", ...missing }, { id: "service", ...missing });
  } else {
    checks.push(judgeBundle(webhook.clientConfig?.caBundle, serving, configuration, namespace));
    const service = webhook.clientConfig?.service;
    const pointsHere =
      service?.name === WEBHOOK_NAME &&
      service.namespace === namespace &&
      (service.path ?? "/") === "/mutate" &&
      (service.port ?? 443) === 443;
    checks.push(
      pointsHere
        ? {
            id: "service",
            status: "pass",
            message: `the webhook configuration calls Service ${where} at /mutate`,
          }
        : {
            id: "service",
            status: "fail",
            message: `the webhook configuration calls ${service ? `Service ${service.namespace}/${service.name} at ${service.path ?? "/"} port ${service.port ?? 443}` : "no Service"}, not ${where} at /mutate port 443`,
            fix: `run irsa-anywhere webhook install --namespace ${namespace} to set it back`,
          },
    );
  }
  return {
    healthy: checks.every((check) => check.status !== "fail"),
    version,
    replicas,
    certificateNotAfter,
    checks,
  };
}

function judgeBundle(
  caBundle: string | undefined,
  serving: X509Certificate | undefined,
  configuration: WebhookConfigurationFields,
  namespace: string,
): WebhookCheck {
  const injected = configuration.metadata?.annotations?.["cert-manager.io/inject-ca-from"];
  if (caBundle === undefined || caBundle === "") {
    return {
      id: "ca-bundle",
      status: "fail",
      message: `the webhook configuration has no CA bundle, so the API server cannot call the webhook${injected ? ` (cert-manager has not injected it from ${injected} yet)` : ""}`,
      fix: injected
        ? "check that cert-manager's cainjector runs: kubectl -n cert-manager get pods"
        : `run irsa-anywhere webhook install --namespace ${namespace}`,
    };
  }
  if (serving === undefined) {
    return {
      id: "ca-bundle",
      status: "fail",
      message: "no serving certificate to check the CA bundle against",
    };
  }
  const bundle = Buffer.from(caBundle, "base64").toString("utf8");
  const trusted = pemCertificateBlocks(bundle)
    .map((pem) => parseCertificate(pem))
    .some((ca) => ca !== undefined && serving.checkIssued(ca) && serving.verify(ca.publicKey));
  return trusted
    ? {
        id: "ca-bundle",
        status: "pass",
        message: "the CA bundle the API server trusts verifies the serving certificate",
      }
    : {
        id: "ca-bundle",
        status: "fail",
        message:
          "the CA bundle the API server trusts does not verify the serving certificate: calls to the webhook fail TLS and pods start without AWS credentials",
        fix: `run irsa-anywhere webhook install --namespace ${namespace}`,
      };
}

function parseCertificate(pem: string | undefined): X509Certificate | undefined {
  if (pem === undefined) return undefined;
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/**
 * The version an image reference names: its digest, else its tag, else `latest`.
 *
 * @example
 * imageVersion("public.ecr.aws/eks/amazon-eks-pod-identity-webhook:v0.6.9"); // "v0.6.9"
 */
export function imageVersion(image: string): string {
  const digest = image.split("@")[1];
  if (digest !== undefined) return digest;
  const last = image.split("/").at(-1) ?? "";
  return last.includes(":") ? (last.split(":")[1] as string) : "latest";
}
