// Every Kubernetes manifest under examples/ is checked against the API schemas (the
// kubernetes-models package: kubectl --dry-run would need a live API server), and every JSON
// example parses. Users copy these files as they are. The kustomize examples (cronjob, serve, webhook) are
// rendered with `kubectl kustomize`, each overlay, and every object rendered is checked too; an
// overlay's settings (bucket, prefix, region, image...) must reach every field that carries them.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { CronJob } from "kubernetes-models/batch/v1/CronJob";
import type { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { validateKubernetesObject } from "./support/kubernetes-models.js";
import { kustomize, overlaysOf, type RenderedObject } from "./support/kustomize.js";

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

// kustomization.yaml files are kustomize's own, not Kubernetes objects: they are checked by what
// they render, below.
const manifests = filesUnder(examples)
  .filter((file) => /\.ya?ml$/.test(file) && basename(file) !== "kustomization.yaml")
  .flatMap((file) =>
    parseAllDocuments(readFileSync(file, "utf8"))
      .map((document) => document.toJS() as Manifest | null)
      .filter((manifest): manifest is Manifest => manifest !== null)
      .map(
        (manifest) =>
          [`${relative(examples, file)}: ${manifest.kind} ${manifest.metadata?.name}`, manifest] as const,
      ),
  );

// Each example with a kustomize base (examples/NAME/base), whose overlays are rendered below.
const kustomizeExamples = readdirSync(examples)
  .map((name) => join(examples, name))
  .filter((example) => existsSync(join(example, "base", "kustomization.yaml")));
const overlays = kustomizeExamples.flatMap((example) => overlaysOf(example));

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

describe("the kustomize examples", () => {
  const rendered = new Map<string, RenderedObject[]>();
  beforeAll(async () => {
    for (const overlay of overlays) rendered.set(overlay, await kustomize(overlay));
  }, 120_000);

  it("have an overlay per example, and nothing else in the examples uses kustomize", () => {
    expect(kustomizeExamples.map((example) => basename(example))).toEqual(
      expect.arrayContaining(["cronjob", "serve", "webhook"]),
    );
    for (const example of kustomizeExamples) expect(overlaysOf(example).length).toBeGreaterThan(0);
    const kustomizations = filesUnder(examples).filter((file) => basename(file) === "kustomization.yaml");
    expect(
      kustomizations.every((file) => kustomizeExamples.some((example) => file.startsWith(example))),
    ).toBe(true);
  });

  it.each(overlays.map((overlay) => relative(examples, overlay)))(
    "%s renders only objects valid against the Kubernetes API schema, all in the image the overlay names",
    (overlay) => {
      const objects = rendered.get(join(examples, overlay)) ?? [];
      expect(objects.length).toBeGreaterThan(0);
      for (const object of objects) {
        expect(
          () => validateKubernetesObject(object),
          `${object.kind} ${object.metadata.name}`,
        ).not.toThrow();
      }
      // The settings' ConfigMap stays out of the cluster (local-config).
      expect(objects.filter((object) => object.metadata.name === "irsa-anywhere-settings")).toEqual([]);
      const images = JSON.stringify(objects).match(/"image":"[^"]*"/g) ?? [];
      expect(images.length).toBeGreaterThan(0);
      for (const image of images) expect(image).toMatch(/"image":"[^"]+\/irsa-anywhere:[^"]+"/);
    },
  );
});

// A cluster's own overlay: the example overlay with every setting changed, pointing at the
// example's base and settings from a temp folder, as a copy for another cluster would.
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "irsa-examples-overlay-"));
});
afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function renderWith(
  example: string,
  settings: Record<string, string>,
): Promise<{ objects: RenderedObject[]; text: string }> {
  const overlay = join(examples, example, "overlays", "example-cluster");
  const kustomization = parse(readFileSync(join(overlay, "kustomization.yaml"), "utf8"));
  const dir = await mkdtemp(join(scratch, `${example}-`));
  // kustomize takes no absolute path to a base: a relative one from the temp folder.
  const from = (path: string) => relative(dir, resolve(overlay, path));
  kustomization.resources = kustomization.resources.map(from);
  kustomization.components = kustomization.components.map(from);
  kustomization.images = [
    { name: "irsa-anywhere", newName: "registry.other.test/tools/irsa-anywhere", newTag: "9.9.9" },
  ];
  const generator = kustomization.configMapGenerator[0];
  const literals = generator.literals.map((literal: string) => literal.split("=")[0]);
  expect(literals.sort()).toEqual(Object.keys(settings).sort());
  generator.literals = Object.entries(settings).map(([key, value]) => `${key}=${value}`);
  await writeFile(join(dir, "kustomization.yaml"), stringify(kustomization));
  const objects = await kustomize(dir);
  return { objects, text: JSON.stringify(objects) };
}

describe("an overlay's settings, each set once", () => {
  it("examples/cronjob: the bucket, prefix, region, role and image reach every field that carries them", async () => {
    const { objects, text } = await renderWith("cronjob", {
      bucket: "blue-oidc",
      prefix: "clusters/blue",
      region: "eu-central-1",
      "role-arn": "arn:aws:iam::444455556666:role/blue-publisher",
    });
    const cronJob = objects.find((object) => object.kind === "CronJob") as unknown as {
      spec: { jobTemplate: { spec: { template: { spec: { containers: Array<Record<string, never>> } } } } };
    };
    const container = cronJob.spec.jobTemplate.spec.template.spec.containers[0] as unknown as {
      args: string[];
      env: Array<{ name: string; value: string }>;
      image: string;
    };
    const after = (flag: string) => container.args[container.args.indexOf(flag) + 1];
    expect([after("--bucket"), after("--prefix"), after("--region")]).toEqual([
      "blue-oidc",
      "clusters/blue",
      "eu-central-1",
    ]);
    expect(container.env).toContainEqual({ name: "AWS_REGION", value: "eu-central-1" });
    expect(container.image).toBe("registry.other.test/tools/irsa-anywhere:9.9.9");
    // Nothing of the example's values is left anywhere.
    expect(text).not.toMatch(/my-oidc-bucket|us-west-2|111122223333|registry\.example\.com|\/prod\b|"prod"/);
  });

  it("examples/serve: the issuer's host and prefix reach the server's --issuer and the Ingress", async () => {
    const { objects, text } = await renderWith("serve", {
      host: "issuer.blue.test",
      prefix: "clusters/blue",
    });
    const deployment = objects.find((object) => object.kind === "Deployment") as unknown as {
      spec: { template: { spec: { containers: Array<{ args: string[]; image: string }> } } };
    };
    const args = deployment.spec.template.spec.containers[0]?.args ?? [];
    expect(args[args.indexOf("--issuer") + 1]).toBe("https://issuer.blue.test/clusters/blue");
    expect(deployment.spec.template.spec.containers[0]?.image).toBe(
      "registry.other.test/tools/irsa-anywhere:9.9.9",
    );
    const ingress = objects.find((object) => object.kind === "Ingress") as unknown as {
      spec: {
        tls: Array<{ hosts: string[] }>;
        rules: Array<{ host: string; http: { paths: Array<{ path: string }> } }>;
      };
    };
    expect(ingress.spec.tls[0]?.hosts).toEqual(["issuer.blue.test"]);
    expect(ingress.spec.rules[0]?.host).toBe("issuer.blue.test");
    expect(ingress.spec.rules[0]?.http.paths.map((path) => path.path)).toEqual([
      "/clusters/blue/.well-known/openid-configuration",
      "/clusters/blue/keys.json",
    ]);
    expect(text).not.toMatch(/oidc\.example\.com|registry\.example\.com|\/prod\b|"prod"/);
  });
});

describe("examples/cronjob", () => {
  let cronJob: CronJob;
  beforeAll(async () => {
    const objects = await kustomize(join(examples, "cronjob", "overlays", "example-cluster"));
    cronJob = objects.find((object) => object.kind === "CronJob") as unknown as CronJob;
  }, 60_000);
  const pod = () => cronJob.spec?.jobTemplate.spec?.template.spec;

  it("never runs two publishers at once, as non-root, read-only, within limits", () => {
    expect(cronJob.spec?.concurrencyPolicy).toBe("Forbid");
    expect(pod()?.securityContext?.runAsNonRoot).toBe(true);
    expect(pod()?.containers[0]?.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(pod()?.containers[0]?.resources?.limits).toBeDefined();
  });

  it("reads the API server's public keys by default, not the secret", () => {
    const args = pod()?.containers[0]?.args;
    expect(args).toContain("--cluster-jwks");
    expect(args).not.toContain("--cluster");
  });

  it("lets the optional role read exactly one secret", () => {
    const role = manifests.find(
      ([name]) => name === "cronjob/role.yaml: Role irsa-anywhere-read-sa-key",
    )?.[1] as Role | undefined;
    expect(role?.rules).toEqual([
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

  it("lets the job patch only the serving Secret and the webhook's Deployment, and read only the CA's beside them", () => {
    const role = inWebhook("Role") as unknown as { rules: object[] };
    expect(role.rules).toEqual([
      {
        apiGroups: [""],
        resources: ["secrets"],
        resourceNames: ["pod-identity-webhook-tls"],
        verbs: ["get", "patch"],
      },
      { apiGroups: [""], resources: ["secrets"], resourceNames: ["pod-identity-webhook-ca"], verbs: ["get"] },
      {
        apiGroups: ["apps"],
        resources: ["deployments"],
        resourceNames: ["pod-identity-webhook"],
        verbs: ["get", "patch"],
      },
    ]);
  });
});
