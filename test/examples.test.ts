// Every Kubernetes manifest under examples/ is checked against the API schemas (the
// kubernetes-models package: kubectl --dry-run would need a live API server), and every JSON
// example parses. Users copy these files as they are.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { validateKubernetesObject } from "./support/kubernetes-models.js";

const examples = fileURLToPath(new URL("../examples", import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string };
  [field: string]: unknown;
}

const manifests = filesUnder(examples)
  .filter((file) => /\.ya?ml$/.test(file))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(file, "utf8"))
      .map((document) => document.toJS() as Manifest | null)
      .filter((manifest): manifest is Manifest => manifest !== null)
      .map(
        (manifest) =>
          [`${relative(examples, file)}: ${manifest.kind} ${manifest.metadata?.name}`, manifest] as const,
      ),
  );

describe("examples/", () => {
  it("has manifests to check", () => {
    expect(manifests.length).toBeGreaterThan(0);
  });

  it.each(manifests)("%s is valid against the Kubernetes API schema", (_name, manifest) => {
    expect(() => validateKubernetesObject(manifest)).not.toThrow();
  });

  it.each(filesUnder(examples).filter((file) => file.endsWith(".json")))("%s parses as JSON", (file) => {
    expect(() => JSON.parse(readFileSync(file, "utf8"))).not.toThrow();
  });

  it("catches a broken manifest (the check itself works)", () => {
    const cronJob = manifests.find(([, m]) => m.kind === "CronJob")?.[1] as Manifest;
    const broken = { ...cronJob, spec: { ...(cronJob.spec as object), schedule: 15 } };
    expect(() => validateKubernetesObject(broken)).toThrow(/schedule/);
  });
});

describe("examples/cronjob", () => {
  const inCronjob = (kind: string) =>
    manifests.find(([name, m]) => name.startsWith("cronjob/") && m.kind === kind)?.[1];
  const cronJob = inCronjob("CronJob") as unknown as {
    spec: { concurrencyPolicy: string; jobTemplate: { spec: { template: { spec: Record<string, never> } } } };
  };
  const pod = cronJob.spec.jobTemplate.spec.template.spec as unknown as {
    securityContext: { runAsNonRoot: boolean };
    containers: Array<{
      args: string[];
      securityContext: { readOnlyRootFilesystem: boolean };
      resources: { limits: object };
    }>;
  };

  it("never runs two publishers at once, as non-root, read-only, within limits", () => {
    expect(cronJob.spec.concurrencyPolicy).toBe("Forbid");
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.containers[0]?.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(pod.containers[0]?.resources.limits).toBeDefined();
  });

  it("reads the API server's public keys by default, not the secret", () => {
    expect(pod.containers[0]?.args).toContain("--cluster-jwks");
    expect(pod.containers[0]?.args).not.toContain("--cluster");
  });

  it("lets the optional role read exactly one secret", () => {
    const role = inCronjob("Role") as unknown as {
      rules: Array<{ resources: string[]; resourceNames: string[]; verbs: string[] }>;
    };
    expect(role.rules).toEqual([
      { apiGroups: [""], resources: ["secrets"], resourceNames: ["prod-sa"], verbs: ["get"] },
    ]);
  });
});

describe("examples/webhook", () => {
  const inWebhook = (kind: string) =>
    manifests.find(([name, m]) => name.startsWith("webhook/") && m.kind === kind)?.[1];

  it("runs renew-cert monthly, never two at once", () => {
    const cronJob = inWebhook("CronJob") as unknown as {
      spec: {
        concurrencyPolicy: string;
        jobTemplate: { spec: { template: { spec: { containers: Array<{ args: string[] }> } } } };
      };
    };
    expect(cronJob.spec.concurrencyPolicy).toBe("Forbid");
    expect(cronJob.spec.jobTemplate.spec.template.spec.containers[0]?.args.slice(0, 2)).toEqual([
      "webhook",
      "renew-cert",
    ]);
  });

  it("lets the job patch only the serving Secret, and read only the CA's beside it", () => {
    const role = inWebhook("Role") as unknown as { rules: object[] };
    expect(role.rules).toEqual([
      {
        apiGroups: [""],
        resources: ["secrets"],
        resourceNames: ["pod-identity-webhook-tls"],
        verbs: ["get", "patch"],
      },
      { apiGroups: [""], resources: ["secrets"], resourceNames: ["pod-identity-webhook-ca"], verbs: ["get"] },
    ]);
  });
});
