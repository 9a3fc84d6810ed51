// Requests of ensureServiceAccountRole() (`role create`) against moto's IAM and the local
// Kubernetes API test server: a first run and a no-op re-run (the goal: reads only), beside the
// steps a user scripts by hand from the guides (create or update the role, attach, put, tag,
// annotate), which write every time. Same run, same recording proxy. A measurement, not a test:
// it fails only when a run throws, never on the numbers.
//
//   pnpm run build && node bench/role.mjs [--rounds N] [--json]
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { importHarness } from "./harness.mjs";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const { values: options } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (options.help) {
  process.stdout.write("usage: node bench/role.mjs [--rounds N] [--json]\n");
  process.exit(0);
}
const rounds = Number(options.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(`role bench: --rounds must be a positive integer, got ${options.rounds}\n`);
  process.exit(2);
}
const log = (line) => (options.json ? process.stderr : process.stdout).write(`${line}\n`);

let sdk;
try {
  const [iam, role, kube] = await Promise.all([
    import("@aws-sdk/client-iam"),
    import("@irsa-anywhere/role"),
    import("@irsa-anywhere/kube"),
  ]);
  sdk = { iam, role, kube };
} catch (error) {
  process.stderr.write(`role bench: ${error.message}; run pnpm run build first\n`);
  process.exit(2);
}
const { iam, role, kube } = sdk;
const { startMoto, startRecordingProxy, startFakeKubernetes, createCertificateAuthority } =
  await importHarness("role bench", "moto", "recording-proxy", "fake-kubernetes", "tls");

const issuer = "https://oidc.example.com/prod";
const roleName = "payments-api";
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
const inline = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
};

const moto = await startMoto();
const proxy = await startRecordingProxy(moto.endpoint);
const api = await startFakeKubernetes(createCertificateAuthority());
const dir = await mkdtemp(join(tmpdir(), "irsa-role-bench-"));
const iamClient = new iam.IAMClient({ region: "us-east-1", endpoint: proxy.url, credentials });
const setup = new iam.IAMClient({ region: "us-east-1", endpoint: moto.endpoint, credentials });
const cleanUp = async () => {
  iamClient.destroy();
  setup.destroy();
  await proxy.close();
  await api.close();
  await moto.stop();
  await rm(dir, { recursive: true, force: true });
};

/** `iam:GetRole`, `k8s:PATCH`: what a request is, for the tally. */
const iamAction = (request) => `iam:${new URLSearchParams(request.body).get("Action") ?? request.method}`;
const isIamWrite = (action) => !/^iam:(Get|List)/.test(action);

try {
  await writeFile(join(dir, "kubeconfig"), api.kubeconfig());
  const cluster = await kube.connectServiceAccounts({ kubeconfig: join(dir, "kubeconfig") });

  const ours = () =>
    role.ensureServiceAccountRole({
      issuer,
      roleName,
      serviceAccounts: ["payments/api"],
      attachPolicyArns: [policyArn],
      inlinePolicy: inline,
      clients: { iam: iamClient, kubernetes: cluster },
    });

  // The guide's steps, scripted: each one writes, whether or not anything changes.
  const byHand = async () => {
    const trust = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: `arn:aws:iam::123456789012:oidc-provider/oidc.example.com/prod` },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: {
              "oidc.example.com/prod:sub": "system:serviceaccount:payments:api",
              "oidc.example.com/prod:aud": "sts.amazonaws.com",
            },
          },
        },
      ],
    });
    try {
      await iamClient.send(
        new iam.CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: trust }),
      );
    } catch (error) {
      if (error.name !== "EntityAlreadyExistsException") throw error;
      await iamClient.send(
        new iam.UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: trust }),
      );
    }
    await iamClient.send(new iam.AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn }));
    await iamClient.send(
      new iam.PutRolePolicyCommand({
        RoleName: roleName,
        PolicyName: "inline",
        PolicyDocument: JSON.stringify(inline),
      }),
    );
    const annotations = { "eks.amazonaws.com/role-arn": `arn:aws:iam::123456789012:role/${roleName}` };
    if (await cluster.readServiceAccount("payments", "api")) {
      await cluster.patchServiceAccountAnnotations("payments", "api", annotations);
    } else await cluster.createServiceAccount("payments", "api", annotations);
  };

  let policyArn;
  const reset = async () => {
    await moto.reset();
    api.objects.clear();
    api.objects.set("/api/v1/namespaces/payments", { metadata: { name: "payments" } });
    await setup.send(
      new iam.CreateOpenIDConnectProviderCommand({ Url: issuer, ClientIDList: ["sts.amazonaws.com"] }),
    );
    const created = await setup.send(
      new iam.CreatePolicyCommand({ PolicyName: "payments-read", PolicyDocument: JSON.stringify(inline) }),
    );
    policyArn = created.Policy.Arn;
  };
  const measure = async (run) => {
    proxy.requests.length = 0;
    api.requests.length = 0;
    const start = performance.now();
    await run();
    const ms = performance.now() - start;
    const requests = [
      ...proxy.requests.map(iamAction),
      ...api.requests.map((r) => `k8s:${r.method} ${r.path.split("/").slice(-2, -1)[0]}`),
    ];
    const writes = requests.filter((r) => (r.startsWith("iam:") ? isIamWrite(r) : !r.startsWith("k8s:GET")));
    return { ms, requests, writes };
  };

  const results = { ours: { first: [], again: [] }, byHand: { first: [], again: [] } };
  for (let round = 0; round < rounds; round++) {
    for (const [side, run] of [
      ["ours", ours],
      ["byHand", byHand],
    ]) {
      await reset();
      results[side].first.push(await measure(run));
      results[side].again.push(await measure(run));
    }
  }
  const median = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  };
  const summary = Object.fromEntries(
    Object.entries(results).flatMap(([side, steps]) =>
      Object.entries(steps).map(([step, runs]) => [
        `${side} ${step}`,
        {
          requests: runs[0].requests.length,
          writes: runs[0].writes.length,
          medianMs: Math.round(median(runs.map((r) => r.ms))),
          calls: runs[0].requests,
        },
      ]),
    ),
  );
  if (options.json) process.stdout.write(`${JSON.stringify({ rounds, summary }, null, 2)}\n`);
  log(`role bench, ${rounds} rounds (requests and writes of the first round; median wall time)`);
  for (const [name, row] of Object.entries(summary)) {
    log(
      `  ${name.padEnd(14)} ${String(row.requests).padStart(3)} requests, ${String(row.writes).padStart(2)} writes, ${row.medianMs} ms`,
    );
  }
  const noop = summary["ours again"];
  log(`  role create, no-op: ${noop.calls.join(", ")}`);
  log(
    `  ratio of wall time, no-op re-run, ours / by hand: ${(noop.medianMs / summary["byHand again"].medianMs).toFixed(2)}`,
  );
} finally {
  await cleanUp();
}
