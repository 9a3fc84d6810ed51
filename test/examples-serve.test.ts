// examples/serve, as its example overlay renders it (kubectl kustomize): every manifest valid
// against the Kubernetes API schemas (kubernetes-models), the pieces wired to each other
// (probes, ports, service, ingress paths, identity), and the Deployment's arguments accepted by
// the CLI as they are.
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { documentPaths } from "@irsa-anywhere/discovery";
import type { Deployment } from "kubernetes-models/apps/v1/Deployment";
import type { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import type { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import type { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import type { Service } from "kubernetes-models/v1/Service";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { cliPath } from "./support/cli.js";
import { validateKubernetesObject } from "./support/kubernetes-models.js";
import { kustomize } from "./support/kustomize.js";

const directory = fileURLToPath(new URL("../examples/serve", import.meta.url));

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}

// What `kubectl apply -k` of the example overlay sends, and the optional role.yaml beside it.
const manifests: Array<[string, Manifest]> = [
  ...(await kustomize(join(directory, "overlays", "example-cluster"))).map((manifest): [string, Manifest] => [
    `overlays/example-cluster: ${manifest.kind} ${manifest.metadata.name}`,
    manifest,
  ]),
  ...parseAllDocuments(readFileSync(join(directory, "role.yaml"), "utf8")).map(
    (document): [string, Manifest] => {
      const manifest = document.toJS() as Manifest;
      return [`role.yaml: ${manifest.kind} ${manifest.metadata.name}`, manifest];
    },
  ),
];

function one<T>(kind: string): T {
  const found = manifests.filter(([, manifest]) => manifest.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]?.[1] as T;
}

describe("examples/serve", () => {
  const deployment = () => one<Deployment>("Deployment");
  const container = () => {
    const first = deployment().spec?.template.spec?.containers[0];
    if (!first) throw new Error("the Deployment has no container");
    return first;
  };
  const argument = (flag: string) => {
    const args = container().args ?? [];
    const index = args.indexOf(flag);
    return index === -1 ? undefined : args[index + 1];
  };

  it("has the Deployment, Service, Ingress and identity", () => {
    expect(manifests.map(([, m]) => m.kind).sort()).toEqual(
      [
        "Deployment",
        "Ingress",
        "Namespace",
        "PodDisruptionBudget",
        "Role",
        "RoleBinding",
        "Service",
        "ServiceAccount",
      ].sort(),
    );
  });

  it.each(manifests)("%s is valid against the Kubernetes API schema", (_name, manifest) => {
    expect(() => validateKubernetesObject(manifest)).not.toThrow();
  });

  it("catches a broken manifest (the check itself works)", () => {
    const broken = {
      ...deployment(),
      spec: { ...deployment().spec, replicas: "two" },
    } as unknown as Manifest;
    expect(() => validateKubernetesObject(broken)).toThrow(/replicas/);
  });

  it("runs as non-root on a read-only root file system, within limits", () => {
    const pod = deployment().spec?.template.spec;
    expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    expect(container().securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(container().resources?.requests).toMatchObject({
      cpu: expect.any(String),
      memory: expect.any(String),
    });
    expect(container().resources?.limits).toMatchObject({
      cpu: expect.any(String),
      memory: expect.any(String),
    });
  });

  it("probes /readyz and /healthz on the port the server listens on", () => {
    const port = container().ports?.[0];
    expect(argument("--listen")).toBe(`:${port?.containerPort}`);
    expect(container().readinessProbe?.httpGet).toEqual({ path: "/readyz", port: port?.name });
    expect(container().livenessProbe?.httpGet).toEqual({ path: "/healthz", port: port?.name });
  });

  it("leaves enough grace for --shutdown-timeout", () => {
    const shutdownTimeout = Number(argument("--shutdown-timeout") ?? 10);
    expect(deployment().spec?.template.spec?.terminationGracePeriodSeconds).toBeGreaterThan(shutdownTimeout);
  });

  it("routes exactly the two documents of the issuer, over TLS from cert-manager, to the pods", () => {
    const ingress = one<Ingress>("Ingress");
    const service = one<Service>("Service");
    const issuer = argument("--issuer") ?? "";
    const paths = documentPaths(issuer);
    expect(ingress.metadata?.annotations?.["cert-manager.io/cluster-issuer"]).toBeTruthy();
    const host = new URL(issuer).host;
    expect(ingress.spec?.tls).toEqual([{ hosts: [host], secretName: expect.any(String) }]);
    const rule = ingress.spec?.rules?.[0];
    expect(rule?.host).toBe(host);
    expect(rule?.http?.paths.map((path) => [path.path, path.pathType])).toEqual([
      [`/${paths.discovery}`, "Exact"],
      [`/${paths.jwks}`, "Exact"],
    ]);
    const servicePort = service.spec?.ports?.[0];
    for (const path of rule?.http?.paths ?? []) {
      expect(path.backend.service).toEqual({
        name: service.metadata?.name,
        port: { name: servicePort?.name },
      });
    }
    expect(servicePort?.targetPort).toBe(container().ports?.[0]?.name);
    expect(service.spec?.selector).toEqual(deployment().spec?.template.metadata?.labels);
  });

  it("runs as the example's service account; the optional role reads exactly one secret", () => {
    const serviceAccount = one<Manifest>("ServiceAccount");
    expect(deployment().spec?.template.spec?.serviceAccountName).toBe(serviceAccount.metadata.name);
    expect(one<Role>("Role").rules).toEqual([
      { apiGroups: [""], resources: ["secrets"], resourceNames: ["prod-sa"], verbs: ["get", "watch"] },
    ]);
    expect(one<RoleBinding>("RoleBinding").subjects).toEqual([
      {
        kind: "ServiceAccount",
        name: serviceAccount.metadata.name,
        namespace: serviceAccount.metadata.namespace,
      },
    ]);
  });

  describe("the Deployment's arguments", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "irsa-examples-serve-"));
    });
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("start the server as they are (with a key file for the cluster, on a free local port)", async () => {
      const keyFile = join(dir, "sa.pub");
      const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
      await writeFile(keyFile, pair.publicKey.export({ type: "spki", format: "pem" }));
      const args = (container().args ?? []).flatMap((arg, index, all) =>
        arg === "--cluster-jwks"
          ? ["--key", keyFile]
          : all[index - 1] === "--listen"
            ? ["127.0.0.1:0"]
            : [arg],
      );
      expect(args[0]).toBe("serve");
      const child = spawn(process.execPath, [cliPath, ...args], {
        env: { PATH: process.env.PATH, NO_COLOR: "1" },
      });
      let stderr = "";
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      const listening = new Promise<boolean>((resolve) => {
        child.stderr.on("data", (chunk) => {
          stderr += chunk;
          if (stderr.includes('"event":"listening"')) resolve(true);
        });
        void exited.then(() => resolve(false));
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      try {
        expect(await listening, stderr).toBe(true);
        child.kill("SIGTERM");
        expect(await exited).toBe(0);
      } finally {
        clearTimeout(timer);
        child.kill("SIGKILL");
      }
    });
  });
});
