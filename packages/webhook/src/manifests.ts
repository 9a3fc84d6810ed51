import { isDnsSubdomain, quoteInput } from "@irsa-anywhere/errors";
import { audienceProblem, DEFAULT_AUDIENCE, IamError, validateRegion } from "@irsa-anywhere/iam";
import { MutatingWebhookConfiguration } from "kubernetes-models/admissionregistration.k8s.io/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { Namespace, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { serviceDnsNames, type WebhookCertificates } from "./certificates.js";
import { WebhookError } from "./errors.js";
import { assertDnsLabel } from "./names.js";

/**
 * The webhook image when none is given: the latest release when this was written.
 *
 * @example
 * const image = DEFAULT_WEBHOOK_IMAGE.replace(/:v[\d.]+$/, ":v0.6.8");
 */
export const DEFAULT_WEBHOOK_IMAGE = "public.ecr.aws/eks/amazon-eks-pod-identity-webhook:v0.6.9";
/**
 * The namespace the webhook runs in when none is given.
 *
 * @example
 * const certificates = makeWebhookCertificates({ serviceName: WEBHOOK_NAME, namespace: DEFAULT_WEBHOOK_NAMESPACE });
 */
export const DEFAULT_WEBHOOK_NAMESPACE = "irsa-anywhere";
/**
 * The name of every namespaced object, and of the Service the certificates are made for.
 *
 * @example
 * const names = serviceDnsNames(WEBHOOK_NAME, "irsa-anywhere");
 */
export const WEBHOOK_NAME = "pod-identity-webhook";
/**
 * The label every object carries, with the value `irsa-anywhere`: what `uninstall` removes.
 *
 * @example
 * const selector = `${MANAGED_BY_LABEL}=irsa-anywhere`; // for kubectl get -l
 */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
/**
 * The annotation every object carries, saying irsa-anywhere manages it.
 *
 * @example
 * const ours = webhookManifests({ tls: { mode: "cert-manager" } }).every(
 *   (object) => object.metadata?.annotations?.[MANAGED_ANNOTATION] === "true",
 * );
 */
export const MANAGED_ANNOTATION = "irsa-anywhere.dev/managed";
/**
 * The pod label upstream honours to leave a pod alone.
 *
 * @example
 * const podLabels = { app: "batch", [SKIP_LABEL]: "true" }; // this pod keeps its own credentials
 */
export const SKIP_LABEL = "eks.amazonaws.com/skip-pod-identity-webhook";

/**
 * Where the webhook's TLS comes from.
 *
 * @example
 * const tls: WebhookTls = { mode: "cert-manager" };
 */
export type WebhookTls =
  /** cert-manager issues and renews the serving certificate and injects the CA bundle. */
  | { mode: "cert-manager" }
  /** A serving certificate made by {@link makeWebhookCertificates}, stored in a Secret. */
  | { mode: "secret"; certificates: WebhookCertificates };

/**
 * The options of {@link webhookManifests}; every one but `tls` has a default.
 *
 * @example
 * const options: WebhookManifestOptions = { namespace: "iam", replicas: 3, region: "eu-west-1", tls: { mode: "cert-manager" } };
 * const objects = webhookManifests(options);
 */
export interface WebhookManifestOptions {
  /** A DNS-1123 label; `irsa-anywhere` by default. */
  namespace?: string;
  /** An image reference pinned by a tag other than `latest` or a digest; {@link DEFAULT_WEBHOOK_IMAGE} by default. */
  image?: string;
  /** 1 to 10; 2 by default. */
  replicas?: number;
  /** The audience of the projected tokens; `sts.amazonaws.com` by default. */
  tokenAudience?: string;
  /** The projected tokens' lifetime in seconds, 3600 to 604800 (what the kubelet accepts, to a week); 86400 by default. */
  tokenExpiration?: number;
  /** The region for `--aws-default-region` and the regional STS endpoint; none by default. */
  region?: string;
  /** The annotation prefix the webhook reads on service accounts; `eks.amazonaws.com` by default. */
  annotationPrefix?: string;
  /** Where the serving certificate comes from. */
  tls: WebhookTls;
}

/**
 * The metadata of a namespaced object of the installation: its name, namespace, and the
 * {@link MANAGED_BY_LABEL} label and {@link MANAGED_ANNOTATION} annotation.
 *
 * @example
 * const issuer = webhookManifests({ tls: { mode: "cert-manager" } }).find((object) => object.kind === "Issuer");
 * const metadata: NamespacedMetadata | undefined = issuer?.kind === "Issuer" ? issuer.metadata : undefined;
 */
export interface NamespacedMetadata {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/**
 * cert-manager's Issuer, as a typed plain object (cert-manager is not in kubernetes-models).
 *
 * @example
 * const issuers = webhookManifests({ tls: { mode: "cert-manager" } }).filter(
 *   (object): object is CertManagerIssuer => object.kind === "Issuer",
 * );
 */
export interface CertManagerIssuer {
  apiVersion: "cert-manager.io/v1";
  kind: "Issuer";
  metadata: NamespacedMetadata;
  spec: { selfSigned: Record<string, never> } | { ca: { secretName: string } };
}

/**
 * cert-manager's Certificate, as a typed plain object.
 *
 * @example
 * const serving = webhookManifests({ tls: { mode: "cert-manager" } }).find(
 *   (object): object is CertManagerCertificate => object.kind === "Certificate" && object.spec.dnsNames !== undefined,
 * );
 */
export interface CertManagerCertificate {
  apiVersion: "cert-manager.io/v1";
  kind: "Certificate";
  metadata: NamespacedMetadata;
  spec: {
    secretName: string;
    commonName?: string;
    dnsNames?: string[];
    isCA?: boolean;
    duration: string;
    renewBefore: string;
    privateKey: { algorithm: "ECDSA"; size: 256; rotationPolicy: "Always" };
    usages?: string[];
    issuerRef: { name: string; kind: "Issuer"; group: "cert-manager.io" };
  };
}

/**
 * One object of the webhook's installation.
 *
 * @example
 * const kinds = webhookManifests({ tls: { mode: "cert-manager" } }).map((object: WebhookObject) => object.kind);
 */
export type WebhookObject =
  | Namespace
  | ServiceAccount
  | ClusterRole
  | ClusterRoleBinding
  | Role
  | RoleBinding
  | Secret
  | Deployment
  | PodDisruptionBudget
  | Service
  | MutatingWebhookConfiguration
  | CertManagerIssuer
  | CertManagerCertificate;

const WEBHOOK_PORT = 8443;
const METRICS_PORT = 9999;
const CERT_DIR = "/etc/webhook/certs";
/**
 * The Secret of the serving certificate (`tls.crt`, `tls.key`, `ca.crt`) the webhook mounts.
 *
 * @example
 * const path = `/api/v1/namespaces/irsa-anywhere/secrets/${WEBHOOK_TLS_SECRET}`;
 */
export const WEBHOOK_TLS_SECRET = `${WEBHOOK_NAME}-tls`;
/**
 * The Secret of the CA (`ca.crt`, `ca.key`) that signs the serving certificate; the webhook itself
 * cannot read it. In cert-manager mode, cert-manager's CA Certificate writes it.
 *
 * @example
 * const path = `/api/v1/namespaces/irsa-anywhere/secrets/${WEBHOOK_CA_SECRET}`;
 */
export const WEBHOOK_CA_SECRET = `${WEBHOOK_NAME}-ca`;

/**
 * Every object the pod identity webhook needs, in the order to apply them: the Namespace, its
 * ServiceAccount and RBAC (get/watch/list on service accounts, get on its own Secret), the TLS
 * (a Secret of certificates made here, or cert-manager's Issuer and Certificate), a hardened
 * Deployment of two replicas spread over nodes with a PodDisruptionBudget, the Service, and the
 * MutatingWebhookConfiguration. Built from `kubernetes-models` objects; each carries the
 * {@link MANAGED_BY_LABEL} label and the {@link MANAGED_ANNOTATION} annotation. No cluster needed.
 *
 * @throws {WebhookError} `ERR_WEBHOOK_OPTION_INVALID` for an option Kubernetes or the webhook
 *   would refuse.
 *
 * @example
 * const objects = webhookManifests({ namespace: "irsa-anywhere", region: "us-west-2", tls: { mode: "cert-manager" } });
 * for (const object of objects) console.log(object.kind, object.metadata?.name);
 */
export function webhookManifests(options: WebhookManifestOptions): WebhookObject[] {
  const settings = checkedOptions(options);
  const { namespace } = settings;
  const metadata = (name: string, inNamespace = true) => ({
    name,
    ...(inNamespace ? { namespace } : {}),
    labels: { ...selectorLabels, [MANAGED_BY_LABEL]: "irsa-anywhere" },
    annotations: { [MANAGED_ANNOTATION]: "true" },
  });
  const clusterWide = `irsa-anywhere:${WEBHOOK_NAME}:${namespace}`;
  const serviceAccountSubject = [{ kind: "ServiceAccount", name: WEBHOOK_NAME, namespace }];
  const objects: WebhookObject[] = [
    new Namespace({ metadata: metadata(namespace, false) }),
    new ServiceAccount({ metadata: metadata(WEBHOOK_NAME), automountServiceAccountToken: true }),
    new ClusterRole({
      metadata: metadata(clusterWide, false),
      rules: [{ apiGroups: [""], resources: ["serviceaccounts"], verbs: ["get", "watch", "list"] }],
    }),
    new ClusterRoleBinding({
      metadata: metadata(clusterWide, false),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterWide },
      subjects: serviceAccountSubject,
    }),
    new Role({
      metadata: metadata(WEBHOOK_NAME),
      rules: [
        { apiGroups: [""], resources: ["secrets"], resourceNames: [WEBHOOK_TLS_SECRET], verbs: ["get"] },
      ],
    }),
    new RoleBinding({
      metadata: metadata(WEBHOOK_NAME),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: WEBHOOK_NAME },
      subjects: serviceAccountSubject,
    }),
  ];
  const tls = settings.tls;
  if (tls.mode === "secret") {
    // `data`, not `stringData`: the API server keeps only `data`, so that applying the same
    // certificates again is the same object, and no apply leaves a write-only field behind.
    const base64 = (pem: string) => Buffer.from(pem).toString("base64");
    objects.push(
      // The CA's key, apart from the serving certificate: the webhook can read its own Secret, not this.
      new Secret({
        metadata: metadata(WEBHOOK_CA_SECRET),
        type: "Opaque",
        data: {
          "ca.crt": base64(tls.certificates.caCertificatePem),
          "ca.key": base64(tls.certificates.caKeyPem),
        },
      }),
      new Secret({
        metadata: metadata(WEBHOOK_TLS_SECRET),
        type: "kubernetes.io/tls",
        data: {
          "tls.crt": base64(tls.certificates.certificatePem),
          "tls.key": base64(tls.certificates.keyPem),
          "ca.crt": base64(tls.certificates.caCertificatePem),
        },
      }),
    );
  } else {
    objects.push(...certManagerObjects(namespace, metadata));
  }
  objects.push(
    deployment(settings, metadata(WEBHOOK_NAME)),
    new PodDisruptionBudget({
      metadata: metadata(WEBHOOK_NAME),
      spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels } },
    }),
    new Service({
      metadata: metadata(WEBHOOK_NAME),
      spec: {
        selector: selectorLabels,
        ports: [{ name: "https", port: 443, targetPort: "https", protocol: "TCP" }],
      },
    }),
    webhookConfiguration(namespace, tls, metadata(webhookConfigurationName(namespace), false)),
  );
  return objects;
}

const selectorLabels = { "app.kubernetes.io/name": WEBHOOK_NAME };

/**
 * The name of the MutatingWebhookConfiguration of the installation in `namespace`: a DNS
 * subdomain, as the API server requires of it (unlike the RBAC objects, which may hold colons).
 *
 * @example
 * webhookConfigurationName("irsa-anywhere"); // "irsa-anywhere.pod-identity-webhook.irsa-anywhere"
 */
export function webhookConfigurationName(namespace: string): string {
  return `irsa-anywhere.${WEBHOOK_NAME}.${namespace}`;
}

type Metadata = Omit<NamespacedMetadata, "namespace"> & { namespace?: string };

interface Settings {
  namespace: string;
  image: string;
  replicas: number;
  tokenAudience: string;
  tokenExpiration: number;
  region: string | undefined;
  annotationPrefix: string;
  tls: WebhookTls;
}

// An image reference as the distribution grammar has it: an optional registry host (with a
// port), path components, then a tag and/or a sha256 digest.
const imageReference =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::([\w][\w.-]{0,127}))?(@sha256:[a-f0-9]{64})?$/;

function invalid(message: string, cause?: unknown): WebhookError {
  return new WebhookError("ERR_WEBHOOK_OPTION_INVALID", message, cause === undefined ? undefined : { cause });
}

function checkedOptions(options: WebhookManifestOptions): Settings {
  const namespace = options.namespace ?? DEFAULT_WEBHOOK_NAMESPACE;
  assertDnsLabel(namespace, "namespace");
  if (namespace === "kube-system") {
    throw invalid(
      'namespace "kube-system" is left out of the webhook\'s reach; choose another, such as irsa-anywhere',
    );
  }
  const image = options.image ?? DEFAULT_WEBHOOK_IMAGE;
  const match = imageReference.exec(image);
  if (image.length > 4096 || !match) {
    throw invalid(
      `image ${quoteInput(image)} is not an image reference; write one like ${DEFAULT_WEBHOOK_IMAGE}`,
    );
  }
  if ((match[1] === undefined && match[2] === undefined) || match[1] === "latest") {
    throw invalid(
      `image ${quoteInput(image)} is not pinned to a version; give a release tag or a digest, such as ${DEFAULT_WEBHOOK_IMAGE}`,
    );
  }
  const replicas = options.replicas ?? 2;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 10) {
    throw invalid(`replicas ${quoteInput(replicas)} is not a whole number from 1 to 10; 2 is the default`);
  }
  const tokenAudience = options.tokenAudience ?? DEFAULT_AUDIENCE;
  const audienceFault = audienceProblem(tokenAudience);
  if (audienceFault !== undefined) throw invalid(`token audience: ${audienceFault}`);
  const tokenExpiration = options.tokenExpiration ?? 86_400;
  if (!Number.isInteger(tokenExpiration) || tokenExpiration < 3_600 || tokenExpiration > 604_800) {
    throw invalid(
      `token expiration ${quoteInput(tokenExpiration)} is not a whole number of seconds from 3600 (an hour) to 604800 (a week); 86400 is the default`,
    );
  }
  if (options.region !== undefined) {
    try {
      validateRegion(options.region);
    } catch (error) {
      if (error instanceof IamError) throw invalid(`region: ${error.message}`, error);
      throw error;
    }
  }
  const annotationPrefix = options.annotationPrefix ?? "eks.amazonaws.com";
  if (!isDnsSubdomain(annotationPrefix)) {
    throw invalid(
      `annotation prefix ${quoteInput(annotationPrefix)} is not a DNS subdomain, as an annotation's prefix must be; eks.amazonaws.com is the default`,
    );
  }
  const tls = options.tls as WebhookTls | undefined;
  if (tls?.mode !== "cert-manager" && tls?.mode !== "secret") {
    const mode = (tls as { mode?: unknown } | undefined)?.mode;
    throw invalid(`certificate mode ${quoteInput(mode)} is not cert-manager or secret`);
  }
  return {
    namespace,
    image,
    replicas,
    tokenAudience,
    tokenExpiration,
    region: options.region,
    annotationPrefix,
    tls,
  };
}

function deployment(settings: Settings, metadata: Metadata): Deployment {
  const args = [
    "--in-cluster=false",
    `--namespace=${settings.namespace}`,
    `--service-name=${WEBHOOK_NAME}`,
    `--tls-cert=${CERT_DIR}/tls.crt`,
    `--tls-key=${CERT_DIR}/tls.key`,
    `--port=${WEBHOOK_PORT}`,
    `--metrics-port=${METRICS_PORT}`,
    `--annotation-prefix=${settings.annotationPrefix}`,
    `--token-audience=${settings.tokenAudience}`,
    `--token-expiration=${settings.tokenExpiration}`,
    `--sts-regional-endpoint=${settings.region !== undefined}`,
    ...(settings.region === undefined ? [] : [`--aws-default-region=${settings.region}`]),
    "--logtostderr",
  ];
  const probe = (initialDelaySeconds: number) => ({
    httpGet: { path: "/healthz", port: "https", scheme: "HTTPS" as const },
    initialDelaySeconds,
    periodSeconds: 10,
    timeoutSeconds: 3,
    failureThreshold: 3,
  });
  return new Deployment({
    metadata,
    spec: {
      replicas: settings.replicas,
      selector: { matchLabels: selectorLabels },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: { ...selectorLabels, [MANAGED_BY_LABEL]: "irsa-anywhere" } },
        spec: {
          serviceAccountName: WEBHOOK_NAME,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65534,
            runAsGroup: 65534,
            seccompProfile: { type: "RuntimeDefault" },
          },
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: selectorLabels },
            },
          ],
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: {
                    topologyKey: "kubernetes.io/hostname",
                    labelSelector: { matchLabels: selectorLabels },
                  },
                },
              ],
            },
          },
          containers: [
            {
              name: WEBHOOK_NAME,
              image: settings.image,
              imagePullPolicy: "IfNotPresent",
              command: ["/webhook"],
              args,
              ports: [
                { name: "https", containerPort: WEBHOOK_PORT, protocol: "TCP" },
                { name: "metrics", containerPort: METRICS_PORT, protocol: "TCP" },
              ],
              livenessProbe: probe(10),
              readinessProbe: probe(3),
              resources: {
                requests: { cpu: "10m", memory: "32Mi" },
                limits: { cpu: "200m", memory: "128Mi" },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ["ALL"] },
                seccompProfile: { type: "RuntimeDefault" },
              },
              volumeMounts: [{ name: "tls", mountPath: CERT_DIR, readOnly: true }],
            },
          ],
          volumes: [{ name: "tls", secret: { secretName: WEBHOOK_TLS_SECRET } }],
        },
      },
    },
  });
}

function certManagerObjects(
  namespace: string,
  metadata: (name: string) => Metadata,
): [CertManagerIssuer, CertManagerCertificate, CertManagerIssuer, CertManagerCertificate] {
  const withNamespace = (name: string) => ({ ...metadata(name), namespace });
  const issuerRef = (name: string) => ({ name, kind: "Issuer" as const, group: "cert-manager.io" as const });
  const privateKey = { algorithm: "ECDSA" as const, size: 256 as const, rotationPolicy: "Always" as const };
  const caSecret = WEBHOOK_CA_SECRET;
  const dnsNames = serviceDnsNames(WEBHOOK_NAME, namespace);
  return [
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Issuer",
      metadata: withNamespace(`${WEBHOOK_NAME}-selfsigned`),
      spec: { selfSigned: {} },
    },
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: withNamespace(caSecret),
      spec: {
        secretName: caSecret,
        commonName: `irsa-anywhere webhook CA ${namespace}`,
        isCA: true,
        duration: "87600h",
        renewBefore: "720h",
        privateKey,
        issuerRef: issuerRef(`${WEBHOOK_NAME}-selfsigned`),
      },
    },
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Issuer",
      metadata: withNamespace(`${WEBHOOK_NAME}-ca`),
      spec: { ca: { secretName: caSecret } },
    },
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: withNamespace(WEBHOOK_TLS_SECRET),
      spec: {
        secretName: WEBHOOK_TLS_SECRET,
        dnsNames,
        duration: "8760h",
        renewBefore: "720h",
        privateKey,
        usages: ["server auth", "digital signature"],
        issuerRef: issuerRef(`${WEBHOOK_NAME}-ca`),
      },
    },
  ];
}

function webhookConfiguration(
  namespace: string,
  tls: WebhookTls,
  metadata: Metadata,
): MutatingWebhookConfiguration {
  const annotations =
    tls.mode === "cert-manager"
      ? { ...metadata.annotations, "cert-manager.io/inject-ca-from": `${namespace}/${WEBHOOK_TLS_SECRET}` }
      : metadata.annotations;
  return new MutatingWebhookConfiguration({
    metadata: { ...metadata, annotations },
    webhooks: [
      {
        name: "pod-identity-webhook.amazonaws.com",
        admissionReviewVersions: ["v1", "v1beta1"],
        sideEffects: "None",
        failurePolicy: "Ignore",
        timeoutSeconds: 10,
        reinvocationPolicy: "IfNeeded",
        clientConfig: {
          service: { name: WEBHOOK_NAME, namespace, path: "/mutate", port: 443 },
          ...(tls.mode === "secret"
            ? { caBundle: Buffer.from(tls.certificates.caCertificatePem).toString("base64") }
            : {}),
        },
        rules: [
          {
            operations: ["CREATE"],
            apiGroups: [""],
            apiVersions: ["v1"],
            resources: ["pods"],
            scope: "Namespaced",
          },
        ],
        objectSelector: { matchExpressions: [{ key: SKIP_LABEL, operator: "DoesNotExist" }] },
        namespaceSelector: {
          matchExpressions: [
            { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system", namespace] },
          ],
        },
      },
    ],
  });
}
