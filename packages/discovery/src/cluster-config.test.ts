// The issuer written into the files a cluster is made from. Only the lines the issuer needs may
// change: each test compares the whole file before and after, line by line.
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { lineDiff } from "../../../test/support/line-diff.js";
import { setClusterSpecIssuer, setKubeadmIssuer } from "./cluster-config.js";

const issuer = "https://my-oidc.s3.us-west-2.amazonaws.com/prod";
const jwksUri = `${issuer}/keys.json`;

const machineConfig = `---
# The machines: untouched by init.
apiVersion: anywhere.eks.amazonaws.com/v1alpha1
kind: VSphereMachineConfig
metadata:
  name: prod-cp   # control plane
spec:
  diskGiB: 25
  users: [{name: capv, sshAuthorizedKeys: ["ssh-rsa AAAA"]}]
`;

const clusterSpec = (podIamConfig: string) => `# prod, made by eksctl anywhere generate clusterconfig
apiVersion: anywhere.eks.amazonaws.com/v1alpha1
kind: Cluster
metadata:
  name: "prod"
spec:
  clusterNetwork:
    cniConfig: {cilium: {}}
    pods:
      cidrBlocks: [192.168.0.0/16]   # pods
${podIamConfig}  kubernetesVersion: '1.31'
  datacenterRef:
    kind: VSphereDatacenterConfig
    name: prod
${machineConfig}`;

describe("setClusterSpecIssuer", () => {
  it("adds the issuer under an existing podIamConfig: one line, every other byte as it was", async () => {
    const before = clusterSpec("  podIamConfig:\n    # the issuer goes here\n");
    const edit = await setClusterSpecIssuer(before, issuer, "prod.yaml");
    expect(edit.changed).toBe(true);
    expect(lineDiff(before, edit.text)).toEqual({
      removed: [],
      added: [`    serviceAccountIssuer: ${issuer}`],
    });
    expect(parseAllDocuments(edit.text).map((d) => (d as { toJS(): unknown }).toJS())[0]).toMatchObject({
      spec: { podIamConfig: { serviceAccountIssuer: issuer } },
    });
  });

  it("changes only the value of an issuer already there, in its own quotes", async () => {
    const before = clusterSpec(
      `  podIamConfig:\n    serviceAccountIssuer: "https://old.example.com"  # was\n`,
    );
    const edit = await setClusterSpecIssuer(before, issuer, "prod.yaml");
    expect(lineDiff(before, edit.text)).toEqual({
      removed: [`    serviceAccountIssuer: "https://old.example.com"  # was`],
      added: [`    serviceAccountIssuer: "${issuer}"  # was`],
    });
  });

  it("adds podIamConfig at the end of spec when there is none, before the next document", async () => {
    const before = clusterSpec("");
    const edit = await setClusterSpecIssuer(before, issuer, "prod.yaml");
    const diff = lineDiff(before, edit.text);
    expect(diff).toEqual({ removed: [], added: ["  podIamConfig:", `    serviceAccountIssuer: ${issuer}`] });
    expect(edit.text.indexOf("podIamConfig")).toBeGreaterThan(edit.text.indexOf("name: prod\n"));
    expect(edit.text.indexOf("podIamConfig")).toBeLessThan(edit.text.indexOf("VSphereMachineConfig"));
  });

  it("finds the Cluster among other documents, wherever it is, and leaves them alone", async () => {
    const cluster = clusterSpec("").replace(machineConfig, "");
    const before = `${machineConfig}---\n${cluster}`;
    const edit = await setClusterSpecIssuer(before, issuer, "prod.yaml");
    expect(lineDiff(before, edit.text).added).toEqual([
      "  podIamConfig:",
      `    serviceAccountIssuer: ${issuer}`,
    ]);
    expect(edit.text.startsWith(machineConfig)).toBe(true);
  });

  it("fills an empty podIamConfig:", async () => {
    const before = clusterSpec("  podIamConfig:\n");
    const edit = await setClusterSpecIssuer(before, issuer, "prod.yaml");
    expect(lineDiff(before, edit.text)).toEqual({
      removed: [],
      added: [`    serviceAccountIssuer: ${issuer}`],
    });
  });

  it("keeps a file's CRLF line endings on the lines it adds", async () => {
    const before = clusterSpec("").replaceAll("\n", "\r\n");
    const edit = await setClusterSpecIssuer(before, issuer, "prod.yaml");
    expect(lineDiff(before, edit.text)).toEqual({
      removed: [],
      added: ["  podIamConfig:\r", `    serviceAccountIssuer: ${issuer}\r`],
    });
  });

  it("writes nothing when the issuer is already there", async () => {
    const before = clusterSpec(`  podIamConfig:\n    serviceAccountIssuer: ${issuer}\n`);
    const edit = await setClusterSpecIssuer(before, issuer, "prod.yaml");
    expect(edit).toMatchObject({ changed: false, text: before });
  });

  it.each([
    [
      "a file with no Cluster",
      machineConfig,
      /prod\.yaml: not an EKS Anywhere cluster spec .*: it holds "VSphereMachineConfig"/,
    ],
    [
      "a Cluster API cluster",
      "apiVersion: cluster.x-k8s.io/v1beta1\nkind: Cluster\nspec: {}\n",
      /not an EKS Anywhere cluster spec/,
    ],
    ["text that is not YAML", "kind: Cluster\n  spec: [\n", /prod\.yaml: not YAML \(line \d+\)/],
    ["an empty file", "", /prod\.yaml: the file is empty/],
    [
      "a spec in flow style",
      "apiVersion: anywhere.eks.amazonaws.com/v1alpha1\nkind: Cluster\nspec: {podIamConfig: {}}\n",
      /prod\.yaml: spec is not a block mapping; write spec\.podIamConfig\.serviceAccountIssuer: https:\/\/\S+ by hand/,
    ],
    [
      "two Clusters",
      `${clusterSpec("")}---\n${clusterSpec("").replace(machineConfig, "")}`,
      /2 Cluster documents; give a file with one/,
    ],
  ])("refuses %s in one line", async (_name, text, message) => {
    const refusal = setClusterSpecIssuer(text, issuer, "prod.yaml");
    await expect(refusal).rejects.toMatchObject({ code: "ERR_CLUSTER_CONFIG_INVALID", fault: "input" });
    await expect(refusal).rejects.toThrow(message);
    await refusal.catch((error: Error) => expect(error.message).not.toContain("\n"));
  });
});

const initConfiguration = `apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
nodeRegistration:
  criSocket: unix:///run/containerd/containerd.sock
---
`;

describe("setKubeadmIssuer", () => {
  it("sets both flags in v1beta3's extraArgs mapping, beside the arguments already there", async () => {
    const before = `${initConfiguration}apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
apiServer:
  extraArgs:
    audit-log-path: /var/log/audit.log   # keep
    service-account-issuer: https://kubernetes.default.svc
clusterName: prod
`;
    const edit = await setKubeadmIssuer(before, { issuer, jwksUri }, "kubeadm.yaml");
    expect(lineDiff(before, edit.text)).toEqual({
      removed: ["    service-account-issuer: https://kubernetes.default.svc"],
      added: [`    service-account-issuer: ${issuer}`, `    service-account-jwks-uri: ${jwksUri}`],
    });
    expect((await setKubeadmIssuer(edit.text, { issuer, jwksUri }, "kubeadm.yaml")).changed).toBe(false);
  });

  it.each([
    ["kubeadm's defaults", "", "/etc/kubernetes/pki/sa.key", "/etc/kubernetes/pki/sa.pub"],
    ["the certificatesDir", "certificatesDir: /srv/pki/\n", "/srv/pki/sa.key", "/srv/pki/sa.pub"],
    [
      "the API server's own arguments",
      "certificatesDir: /srv/pki\napiServer:\n  extraArgs:\n    service-account-signing-key-file: /keys/signer.pem\n    service-account-key-file: /keys/verifier.pem\n",
      "/keys/signer.pem",
      "/keys/verifier.pem",
    ],
  ])("says where the key pair goes, from %s", async (_name, extra, privateKey, publicKey) => {
    const config = `apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n${extra}`;
    const edit = await setKubeadmIssuer(config, { issuer, jwksUri }, "kubeadm.yaml");
    expect(edit.keyFiles).toEqual({ privateKey, publicKey });
  });

  it("adds apiServer.extraArgs to a v1beta3 ClusterConfiguration with none", async () => {
    const before = `${initConfiguration}apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nclusterName: prod\n`;
    const edit = await setKubeadmIssuer(before, { issuer, jwksUri }, "kubeadm.yaml");
    expect(lineDiff(before, edit.text)).toEqual({
      removed: [],
      added: [
        "apiServer:",
        "  extraArgs:",
        `    service-account-issuer: ${issuer}`,
        `    service-account-jwks-uri: ${jwksUri}`,
      ],
    });
  });

  it("sets and adds {name, value} items in v1beta4's extraArgs list", async () => {
    const before = `apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
apiServer:
  extraArgs:
    - name: audit-log-path
      value: /var/log/audit.log
    - name: service-account-issuer   # replaced
      value: https://kubernetes.default.svc
  certSANs: [prod.example.com]
`;
    const edit = await setKubeadmIssuer(before, { issuer, jwksUri }, "kubeadm.yaml");
    expect(lineDiff(before, edit.text)).toEqual({
      removed: ["      value: https://kubernetes.default.svc"],
      added: [`      value: ${issuer}`, "    - name: service-account-jwks-uri", `      value: ${jwksUri}`],
    });
    expect((await setKubeadmIssuer(edit.text, { issuer, jwksUri }, "kubeadm.yaml")).changed).toBe(false);
  });

  it("sets the first of several service-account-issuer items, the one the API server signs with", async () => {
    const before = `apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
apiServer:
  extraArgs:
    - name: service-account-issuer
      value: https://kubernetes.default.svc
    - name: service-account-issuer   # still accepted
      value: https://old.example.com
`;
    const edit = await setKubeadmIssuer(before, { issuer, jwksUri }, "kubeadm.yaml");
    expect(edit.text).toBe(
      before.replace("value: https://kubernetes.default.svc", `value: ${issuer}`) +
        `    - name: service-account-jwks-uri\n      value: ${jwksUri}\n`,
    );
  });

  it("adds the extraArgs list to a v1beta4 apiServer with none", async () => {
    const before = `apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\napiServer:\n  timeoutForControlPlane: 4m0s\n`;
    const edit = await setKubeadmIssuer(before, { issuer, jwksUri }, "kubeadm.yaml");
    expect(lineDiff(before, edit.text).added).toEqual([
      "  extraArgs:",
      "    - name: service-account-issuer",
      `      value: ${issuer}`,
      "    - name: service-account-jwks-uri",
      `      value: ${jwksUri}`,
    ]);
  });

  it.each([
    [
      "kubeadm.k8s.io/v1beta2",
      "apiVersion: kubeadm.k8s.io/v1beta2\nkind: ClusterConfiguration\n",
      /kubeadm\.k8s\.io\/v1beta3 or v1beta4/,
    ],
    [
      "a v1beta4 config with the v1beta3 mapping",
      "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\napiServer:\n  extraArgs:\n    v: '2'\n",
      /is a list of \{name, value\}, not a mapping \(the v1beta3 form\)/,
    ],
    [
      "a cluster spec",
      clusterSpec(""),
      /not a kubeadm ClusterConfiguration .*: it holds "Cluster", "VSphereMachineConfig"/,
    ],
  ])("refuses %s in one line", async (_name, text, message) => {
    const refusal = setKubeadmIssuer(text, { issuer, jwksUri }, "kubeadm.yaml");
    await expect(refusal).rejects.toMatchObject({ code: "ERR_CLUSTER_CONFIG_INVALID" });
    await expect(refusal).rejects.toThrow(message);
  });
});
