import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requestsInFlight } from "@irsa-anywhere/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeKubernetes, startFakeKubernetes } from "../../../test/support/fake-kubernetes.js";
import { createCertificateAuthority } from "../../../test/support/tls.js";
import {
  type ClusterObjects,
  connectClusterObjects,
  type DeploymentProgress,
  KubeError,
  waitForDeployment,
} from "./index.js";

let api: FakeKubernetes;
let dir: string;
let cluster: ClusterObjects;
const namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } };
const configMap = (data: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "settings", namespace: "team-a", labels: { app: "api" } },
  data,
});
const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "api", namespace: "team-a" },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "api" } },
    template: {
      metadata: { labels: { app: "api" } },
      spec: { containers: [{ name: "api", image: "example.com/api:1" }] },
    },
  },
};

beforeAll(async () => {
  api = await startFakeKubernetes(createCertificateAuthority());
  dir = await mkdtemp(join(tmpdir(), "irsa-kube-objects-"));
  const kubeconfig = join(dir, "kubeconfig");
  await writeFile(kubeconfig, api.kubeconfig());
  cluster = await connectClusterObjects({ kubeconfig, fieldManager: "irsa-anywhere" });
});
afterAll(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

describe("connectClusterObjects", () => {
  it("applies as its field manager, dry runs store nothing, and reads, lists and removes", async () => {
    await cluster.apply(namespace);
    const dry = await cluster.apply(configMap({ mode: "a" }), { dryRun: true });
    expect(dry.data).toEqual({ mode: "a" });
    expect(
      await cluster.read({ apiVersion: "v1", kind: "ConfigMap", namespace: "team-a", name: "settings" }),
    ).toBeUndefined();
    const applied = await cluster.apply(configMap({ mode: "a" }));
    expect(applied.metadata.managedFields).toEqual([
      expect.objectContaining({ manager: "irsa-anywhere", operation: "Apply" }),
    ]);
    expect(await cluster.list({ apiVersion: "v1", kind: "ConfigMap" }, "app=api", "team-a")).toHaveLength(1);
    expect(await cluster.list({ apiVersion: "v1", kind: "ConfigMap" }, "app=web", "team-a")).toEqual([]);
    const ref = { apiVersion: "v1", kind: "ConfigMap", namespace: "team-a", name: "settings" };
    expect(await cluster.remove(ref)).toBe(true);
    expect(await cluster.remove(ref)).toBe(false);
    expect(requestsInFlight()).toEqual([]);
  });

  it("names the object and the refusal in one line when this identity may not write it", async () => {
    await cluster.apply(namespace);
    api.readOnly.add("/api/v1/namespaces/team-a/configmaps/settings");
    const ref = { apiVersion: "v1", kind: "ConfigMap", namespace: "team-a", name: "settings" };
    expect(await cluster.mayWrite(ref, "patch")).toBe(false);
    const error = await cluster.apply(configMap({})).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(KubeError);
    expect(error).toMatchObject({
      code: "ERR_CLUSTER_FORBIDDEN",
      message: expect.stringMatching(
        /^\S+ refused to let this identity apply ConfigMap team-a\/settings \(HTTP 403\)[^\n]*$/,
      ),
    });
    api.readOnly.clear();
  });
});

describe("waitForDeployment", () => {
  it("returns once every replica is ready, telling the progress", async () => {
    await cluster.apply(namespace);
    await cluster.apply(deployment);
    const seen: DeploymentProgress[] = [];
    await waitForDeployment(cluster, {
      namespace: "team-a",
      name: "api",
      timeoutMs: 5_000,
      onProgress: (p) => seen.push(p),
    });
    expect(seen).toEqual([{ ready: 2, desired: 2, observed: true }]);
  });

  it("gives up after its time with ERR_DEPLOYMENT_NOT_READY, saying how many are ready", async () => {
    api.setDeploymentsReady(false);
    await cluster.apply({ ...deployment, metadata: { ...deployment.metadata, name: "stuck" } });
    const error = await waitForDeployment(cluster, {
      namespace: "team-a",
      name: "stuck",
      timeoutMs: 300,
      intervalMs: 50,
    }).catch((reason: unknown) => reason);
    expect(error).toMatchObject({
      code: "ERR_DEPLOYMENT_NOT_READY",
      message: expect.stringMatching(/has 0 of 2 replicas ready/),
    });
    api.setDeploymentsReady(true);
  });
});
