import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requestsInFlight } from "@irsa-anywhere/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeKubernetes, startFakeKubernetes } from "../../../test/support/fake-kubernetes.js";
import { createCertificateAuthority } from "../../../test/support/tls.js";
import { KubeError, kubernetesTimeoutMs, readClusterJwks, readClusterSecret } from "./index.js";

let api: FakeKubernetes;
let dir: string;
let kubeconfig: string;
beforeAll(async () => {
  api = await startFakeKubernetes(createCertificateAuthority());
  dir = await mkdtemp(join(tmpdir(), "irsa-kube-"));
  kubeconfig = join(dir, "kubeconfig");
  await writeFile(kubeconfig, api.kubeconfig());
});
afterAll(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

describe("kubernetesTimeoutMs", () => {
  it.each([
    [undefined, 30_000],
    [5_000, 5_000],
    [120_000, 30_000],
  ])("gives a request %s ms of a deadline as %s ms", (overall, expected) => {
    expect(kubernetesTimeoutMs(overall)).toBe(expected);
  });
});

describe("readClusterSecret", () => {
  it("returns the secret's data as bytes, decoded from the API's base64", async () => {
    api.setSecret("eksa-system", "prod-sa", { "tls.crt": "crt text", "tls.key": "key text" });
    const data = await readClusterSecret({ namespace: "eksa-system", name: "prod-sa", kubeconfig });
    expect(Buffer.from(data["tls.crt"] ?? []).toString("utf8")).toBe("crt text");
    expect(Buffer.from(data["tls.key"] ?? []).toString("utf8")).toBe("key text");
    expect(requestsInFlight()).toEqual([]);
  });

  it.each([
    ["absent", () => undefined, "ERR_CLUSTER_SECRET_NOT_FOUND"],
    [
      "locked",
      () => api.forbidden.add("/api/v1/namespaces/eksa-system/secrets/locked"),
      "ERR_CLUSTER_FORBIDDEN",
    ],
  ])("fails with a KubeError when the secret is %s", async (name, arrange, code) => {
    arrange();
    const error = await readClusterSecret({ namespace: "eksa-system", name, kubeconfig }).catch(
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(KubeError);
    expect(error).toMatchObject({ code });
  });
});

describe("readClusterJwks", () => {
  it("returns the JWKS the API server serves as text, for keys to parse", async () => {
    api.setJwks([generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey]);
    const { text, url } = await readClusterJwks({ kubeconfig });
    expect(url).toBe(`${api.url}/openid/v1/jwks`);
    expect((JSON.parse(text) as { keys: unknown[] }).keys).toHaveLength(1);
  });
});
