// What the role tests run against: moto's IAM behind a recording proxy, the local Kubernetes API
// test server with a kubeconfig for it, and, after each `reset()`, an account holding only the
// issuer's OIDC provider and a cluster holding only the namespace `payments`.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateOpenIDConnectProviderCommand, IAMClient } from "@aws-sdk/client-iam";
import { type FakeKubernetes, startFakeKubernetes } from "./fake-kubernetes.js";
import { awsTestClientConfig, type MotoServer, startMoto } from "./moto.js";
import { type RecordingProxy, startRecordingProxy } from "./recording-proxy.js";
import { createCertificateAuthority } from "./tls.js";

export interface RoleWorld {
  readonly moto: MotoServer;
  /** In front of moto: what the code under test is pointed at. */
  readonly proxy: RecordingProxy;
  /** Straight to moto, for the test's own setup and checks. */
  readonly direct: IAMClient;
  readonly kube: FakeKubernetes;
  /** A temp dir holding `kubeconfig` (for `kube`), removed by `close()`. */
  readonly dir: string;
  readonly kubeconfig: string;
  /** IAM calls made through the proxy that are not reads (IAM names them only in the body). */
  iamWrites(): string[];
  /** Requests to the API server other than GETs. */
  kubeWrites(): FakeKubernetes["requests"];
  reset(): Promise<void>;
  close(): Promise<void>;
}

/**
 * @example
 * let world: RoleWorld;
 * beforeAll(async () => { world = await startRoleWorld("https://oidc.example.com/prod"); });
 * beforeEach(() => world.reset());
 * afterAll(() => world?.close());
 */
export async function startRoleWorld(issuer: string): Promise<RoleWorld> {
  const moto = await startMoto();
  const proxy = await startRecordingProxy(moto.endpoint);
  const direct = new IAMClient(awsTestClientConfig(moto.endpoint));
  const kube = await startFakeKubernetes(createCertificateAuthority());
  const dir = await mkdtemp(join(tmpdir(), "irsa-role-"));
  const kubeconfig = join(dir, "kubeconfig");
  await writeFile(kubeconfig, kube.kubeconfig());
  return {
    moto,
    proxy,
    direct,
    kube,
    dir,
    kubeconfig,
    iamWrites: () =>
      proxy.requests.map((r) => /Action=(\w+)/.exec(r.body)?.[1] ?? "").filter((a) => !/^(Get|List)/.test(a)),
    kubeWrites: () => kube.requests.filter((r) => r.method !== "GET"),
    async reset() {
      await moto.reset();
      kube.objects.clear();
      kube.failWith(undefined);
      kube.forbidden.clear();
      kube.objects.set("/api/v1/namespaces/payments", { metadata: { name: "payments" } });
      await direct.send(
        new CreateOpenIDConnectProviderCommand({ Url: issuer, ClientIDList: ["sts.amazonaws.com"] }),
      );
      proxy.clear();
      kube.requests.length = 0;
    },
    async close() {
      direct.destroy();
      await proxy.close();
      await kube.close();
      await moto.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
