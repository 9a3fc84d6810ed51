import { MutatingWebhookConfiguration } from "kubernetes-models/admissionregistration.k8s.io/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { ClusterRole, Role } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { Secret } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { makeWebhookCertificates } from "./certificates.js";
import {
  DEFAULT_WEBHOOK_IMAGE,
  MANAGED_ANNOTATION,
  MANAGED_BY_LABEL,
  SKIP_LABEL,
  type WebhookManifestOptions,
  type WebhookObject,
  webhookManifests,
} from "./manifests.js";

const certificates = makeWebhookCertificates({
  serviceName: "pod-identity-webhook",
  namespace: "irsa-anywhere",
  now: new Date("2026-03-01T00:00:00Z"),
});
const secretMode = { mode: "secret", certificates } as const;

function only<T>(objects: WebhookObject[], type: abstract new (...args: never[]) => T): T {
  const found = objects.filter((object): object is WebhookObject & T => object instanceof type);
  expect(found).toHaveLength(1);
  return found[0] as T;
}

function containerOf(objects: WebhookObject[]) {
  const container = only(objects, Deployment).spec?.template.spec?.containers[0];
  if (!container) throw new Error("no container");
  return container;
}

describe("webhookManifests", () => {
  it.each([
    ["secret", secretMode],
    ["cert-manager", { mode: "cert-manager" }],
  ] as const)("builds objects kubernetes-models validates, each marked as ours (%s)", (_, tls) => {
    const objects = webhookManifests({ tls });
    const kinds = objects.map((object) => object.kind);
    expect(kinds).toEqual([
      "Namespace",
      "ServiceAccount",
      "ClusterRole",
      "ClusterRoleBinding",
      "Role",
      "RoleBinding",
      ...(tls.mode === "secret" ? ["Secret", "Secret"] : ["Issuer", "Certificate", "Issuer", "Certificate"]),
      "Deployment",
      "PodDisruptionBudget",
      "Service",
      "MutatingWebhookConfiguration",
    ]);
    let validated = 0;
    for (const object of objects) {
      if ("validate" in object) {
        expect(() => object.validate()).not.toThrow();
        validated++;
      } else expect(object.apiVersion).toBe("cert-manager.io/v1");
      expect(object.metadata?.labels?.[MANAGED_BY_LABEL]).toBe("irsa-anywhere");
      expect(object.metadata?.annotations?.[MANAGED_ANNOTATION]).toBe("true");
      if (
        object.kind !== "Namespace" &&
        !object.kind.startsWith("Cluster") &&
        !object.kind.startsWith("Mutating")
      ) {
        expect(object.metadata?.namespace).toBe("irsa-anywhere");
      }
    }
    expect(validated).toBe(tls.mode === "secret" ? objects.length : objects.length - 4);
    const configuration = only(objects, MutatingWebhookConfiguration);
    const injected = configuration.metadata?.annotations?.["cert-manager.io/inject-ca-from"];
    const caBundle = configuration.webhooks?.[0]?.clientConfig.caBundle;
    if (tls.mode === "cert-manager") {
      expect(injected).toBe("irsa-anywhere/pod-identity-webhook-tls");
      expect(caBundle).toBeUndefined();
      expect(
        objects.find((object) => object.kind === "Certificate" && object.metadata?.name.endsWith("-tls")),
      ).toBeDefined();
    } else {
      expect(injected).toBeUndefined();
      expect(Buffer.from(caBundle ?? "", "base64").toString()).toBe(certificates.caCertificatePem);
      const secrets = objects.filter((object): object is Secret => object instanceof Secret);
      const decoded = (secret: Secret | undefined, key: string) =>
        Buffer.from(secret?.data?.[key] ?? "", "base64").toString();
      const [ca, serving] = secrets;
      expect(decoded(serving, "tls.key")).toBe(certificates.keyPem);
      expect(decoded(ca, "ca.key")).toBe(certificates.caKeyPem);
      // Applied twice, the same object: no write-only stringData for the API server to fold away.
      expect(secrets.every((secret) => secret.stringData === undefined)).toBe(true);
      // The webhook's Role reaches the serving Secret only, never the CA's key.
      expect(only(objects, Role).rules?.[0]?.resourceNames).toEqual([serving?.metadata?.name]);
    }
  });

  it("grants nothing wider than upstream: get/watch/list service accounts, get on its own secret", () => {
    const objects = webhookManifests({ tls: secretMode });
    expect(only(objects, ClusterRole).rules).toEqual([
      { apiGroups: [""], resources: ["serviceaccounts"], verbs: ["get", "watch", "list"] },
    ]);
    expect(only(objects, Role).rules).toEqual([
      {
        apiGroups: [""],
        resources: ["secrets"],
        resourceNames: ["pod-identity-webhook-tls"],
        verbs: ["get"],
      },
    ]);
  });

  it("runs a hardened, spread, probed Deployment with the documented flags", () => {
    const objects = webhookManifests({
      namespace: "iam",
      replicas: 3,
      tokenAudience: "irsa.example.com",
      tokenExpiration: 7200,
      region: "eu-west-1",
      annotationPrefix: "irsa.example.com",
      tls: secretMode,
    });
    const deployment = only(objects, Deployment);
    const pod = deployment.spec?.template.spec;
    const container = containerOf(objects);
    expect(deployment.spec?.replicas).toBe(3);
    expect(container.image).toBe(DEFAULT_WEBHOOK_IMAGE);
    expect(container.args).toEqual(
      expect.arrayContaining([
        "--in-cluster=false",
        "--tls-cert=/etc/webhook/certs/tls.crt",
        "--tls-key=/etc/webhook/certs/tls.key",
        "--port=8443",
        "--metrics-port=9999",
        "--annotation-prefix=irsa.example.com",
        "--token-audience=irsa.example.com",
        "--token-expiration=7200",
        "--sts-regional-endpoint=true",
        "--aws-default-region=eu-west-1",
      ]),
    );
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod?.securityContext?.seccompProfile?.type).toBe("RuntimeDefault");
    expect(container.resources?.requests).toBeDefined();
    expect(container.resources?.limits).toBeDefined();
    expect(container.livenessProbe?.httpGet?.path).toBe("/healthz");
    expect(container.readinessProbe?.httpGet?.port).toBe("https");
    expect(pod?.topologySpreadConstraints?.[0]?.topologyKey).toBe("kubernetes.io/hostname");
    expect(pod?.affinity?.podAntiAffinity).toBeDefined();
    expect(objects.some((object) => object.kind === "PodDisruptionBudget")).toBe(true);
    const webhook = only(objects, MutatingWebhookConfiguration).webhooks?.[0];
    expect(webhook).toMatchObject({
      admissionReviewVersions: ["v1", "v1beta1"],
      sideEffects: "None",
      failurePolicy: "Ignore",
      clientConfig: { service: { name: "pod-identity-webhook", namespace: "iam", port: 443 } },
      objectSelector: { matchExpressions: [{ key: SKIP_LABEL, operator: "DoesNotExist" }] },
      namespaceSelector: {
        matchExpressions: [
          { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system", "iam"] },
        ],
      },
    });
  });

  it.each([
    ["a release tag", "public.ecr.aws/eks/amazon-eks-pod-identity-webhook:v0.6.8"],
    ["a registry with a port", "registry.local:5000/mirror/pod-identity-webhook:v0.6.9"],
    ["a digest", `public.ecr.aws/eks/amazon-eks-pod-identity-webhook@sha256:${"a".repeat(64)}`],
  ])("takes an image pinned by %s", (_, image) => {
    expect(containerOf(webhookManifests({ image, tls: secretMode })).image).toBe(image);
  });

  it("leaves out --aws-default-region and uses the global STS endpoint without a region", () => {
    const args = containerOf(webhookManifests({ tls: secretMode })).args ?? [];
    expect(args).toContain("--sts-regional-endpoint=false");
    expect(args.some((arg) => arg.startsWith("--aws-default-region"))).toBe(false);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      "an upper-case namespace",
      { namespace: "Payments" },
      /namespace "Payments" is not a valid Kubernetes name/,
    ],
    ["a namespace of 64 characters", { namespace: "n".repeat(64) }, /namespace "n{64}"/],
    ["kube-system", { namespace: "kube-system" }, /namespace "kube-system"/],
    [
      "an image with spaces",
      { image: "pod identity webhook:v1" },
      /image "pod identity webhook:v1" is not an image reference/,
    ],
    [
      "an image without a tag",
      { image: "public.ecr.aws/eks/amazon-eks-pod-identity-webhook" },
      /not pinned to a version/,
    ],
    [
      "an image at latest",
      { image: "public.ecr.aws/eks/amazon-eks-pod-identity-webhook:latest" },
      /not pinned/,
    ],
    ["no replicas", { replicas: 0 }, /replicas 0 is not a whole number from 1 to 10/],
    ["half a replica", { replicas: 1.5 }, /replicas 1.5/],
    ["an empty audience", { tokenAudience: " " }, /token audience: an audience is empty/],
    ["a short token lifetime", { tokenExpiration: 600 }, /token expiration 600/],
    ["an unknown region", { region: "US West" }, /region: "US West" is not an AWS region/],
    [
      "a bad annotation prefix",
      { annotationPrefix: "eks.amazonaws.com/" },
      /annotation prefix "eks.amazonaws.com\/"/,
    ],
    [
      "an unknown certificate mode",
      { tls: { mode: "vault" } },
      /certificate mode "vault" is not cert-manager or secret/,
    ],
  ])("refuses %s with one line", (_, options, message) => {
    expect(() =>
      webhookManifests({ tls: secretMode, ...options } as unknown as WebhookManifestOptions),
    ).toThrow(
      expect.objectContaining({
        name: "WebhookError",
        code: "ERR_WEBHOOK_OPTION_INVALID",
        fault: "input",
        // one line, that names what was wrong and never quotes a private key
        message: expect.stringMatching(new RegExp(`^(?=.*${message.source})(?!.*PRIVATE KEY)[^\n]*$`)),
      }),
    );
  });
});
