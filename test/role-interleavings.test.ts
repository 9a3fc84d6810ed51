// Two `role create` runs for the same role and different service accounts, driven one IAM request
// at a time (each run through its own pausing proxy in front of the same moto) in seeded random
// orders. After every request the role's trust policy is read past the proxies and checked:
//
// - no statement, principal or condition value of the policy the runs started from is lost;
// - a finished run's service account is let in, unless the other run's write of the trust
//   policy landed after this run's last read-back. IAM has no conditional write, so that one
//   order cannot be detected by the run it hurts; the test counts it rather than hides it (1 of
//   the 24 schedules), and a run started after both (as a re-run is) always ends with both let in
//   and nothing lost.
import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
} from "@aws-sdk/client-iam";
import { ensureServiceAccountRole } from "@irsa-anywhere/role";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Scheduler, seededRandom } from "./support/interleavings.js";
import { awsTestClientConfig, type MotoServer, startMoto } from "./support/moto.js";
import { type RecordingProxy, startRecordingProxy } from "./support/recording-proxy.js";
import { decisionFor, lostStatements } from "./support/trust-policy-coverage.js";

const issuer = "https://oidc.example.com/prod";
const hostPath = "oidc.example.com/prod";
const providerArn = `arn:aws:iam::123456789012:oidc-provider/${hostPath}`;
const at = { providerArn, hostPath };
const SCHEDULES = 24;
/** Which schedules merged again after a read-back, and which lost a finished run's grant in the one undetectable order. */
const stats = { retried: new Set<number>(), lostAfterCheck: new Set<number>() };

/** The role as the runs find it: trusted by EC2 and, through eksctl's statement, by payments/web. */
const original = {
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
    {
      Effect: "Allow",
      Principal: { Federated: providerArn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: {
          [`${hostPath}:aud`]: "sts.amazonaws.com",
          [`${hostPath}:sub`]: "system:serviceaccount:payments:web",
        },
      },
    },
  ],
};
const accounts = ["payments/api", "payments/worker"];

let moto: MotoServer;
let direct: IAMClient;
const proxies: RecordingProxy[] = [];
const clients: IAMClient[] = [];

beforeAll(async () => {
  moto = await startMoto();
  direct = new IAMClient(awsTestClientConfig(moto.endpoint));
  for (const _ of accounts) {
    const proxy = await startRecordingProxy(moto.endpoint);
    proxies.push(proxy);
    clients.push(new IAMClient({ ...awsTestClientConfig(proxy.url), maxAttempts: 1 }));
  }
});
afterAll(async () => {
  for (const client of clients) client.destroy();
  for (const proxy of proxies) await proxy.close();
  direct?.destroy();
  await moto?.stop();
});

const policyNow = async () =>
  JSON.parse(
    decodeURIComponent(
      (await direct.send(new GetRoleCommand({ RoleName: "payments-api" }))).Role?.AssumeRolePolicyDocument ??
        "",
    ),
  );

describe("role create, twice at once on one role", () => {
  it.each(Array.from({ length: SCHEDULES }, (_, seed) => seed + 1))(
    "loses no statement in schedule %i, checked after every IAM request",
    async (seed) => {
      await moto.reset();
      await direct.send(
        new CreateOpenIDConnectProviderCommand({ Url: issuer, ClientIDList: ["sts.amazonaws.com"] }),
      );
      await direct.send(
        new CreateRoleCommand({
          RoleName: "payments-api",
          AssumeRolePolicyDocument: JSON.stringify(original),
        }),
      );
      const scheduler = new Scheduler();
      /** The IAM actions in the order they were let through: [run, action]. */
      const released: Array<[number, string]> = [];
      proxies.forEach((proxy, run) => {
        proxy.clear();
        proxy.hold = async (request) => {
          const action = /Action=(\w+)/.exec(request.body)?.[1] ?? request.method;
          const settled = await scheduler.step(run, action);
          released.push([run, action]);
          return settled;
        };
      });
      const runs = accounts.map(
        (account, run) => () =>
          ensureServiceAccountRole({
            issuer,
            roleName: "payments-api",
            serviceAccounts: [account],
            roleOnly: true,
            clients: { iam: clients[run] as IAMClient },
          }),
      );
      const random = seededRandom(seed);
      const lastIndexOf = (run: number, action: string) =>
        released.findLastIndex(([r, a]) => r === run && a === action);

      const outcomes = await scheduler.explore(
        runs,
        (waiting) => Math.floor(random() * waiting),
        async (finished) => {
          const policy = await policyNow();
          expect(lostStatements(original, policy), JSON.stringify(released)).toEqual([]);
          finished.forEach((outcome, run) => {
            if (!outcome.ok) return;
            const other = 1 - run;
            const checked = lastIndexOf(run, "GetRole") > lastIndexOf(run, "UpdateAssumeRolePolicy");
            const overwrittenAfterCheck =
              checked && lastIndexOf(other, "UpdateAssumeRolePolicy") > lastIndexOf(run, "GetRole");
            const allowed = decisionFor(policy, at, accounts[run] as string) === "allowed";
            if (overwrittenAfterCheck) {
              if (!allowed) stats.lostAfterCheck.add(seed);
            } else {
              expect(decisionFor(policy, at, accounts[run] as string), JSON.stringify(released)).toBe(
                "allowed",
              );
            }
          });
        },
      );

      expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
      const writes = (run: number) =>
        released.filter(([r, a]) => r === run && a === "UpdateAssumeRolePolicy").length;
      if (writes(0) > 1 || writes(1) > 1) stats.retried.add(seed);
      for (const proxy of proxies) proxy.hold = undefined;
      // A run after both (a re-run): every service account let in, nothing lost, a neighbour out.
      await ensureServiceAccountRole({
        issuer,
        roleName: "payments-api",
        serviceAccounts: accounts,
        roleOnly: true,
        clients: { iam: direct },
      });
      const final = await policyNow();
      expect(lostStatements(original, final)).toEqual([]);
      for (const account of [...accounts, "payments/web"])
        expect(decisionFor(final, at, account)).toBe("allowed");
      expect(decisionFor(final, at, "payments/neighbour")).toBe("denied");
    },
  );

  it("met, among those schedules, a read-back that differed and was merged again", () => {
    // Otherwise the schedules above never tested the retry they are meant to.
    expect(stats.retried.size).toBeGreaterThan(0);
    console.log(
      `role interleavings: ${stats.retried.size}/${SCHEDULES} schedules merged again after a read-back; in ${stats.lostAfterCheck.size}, a run's service account was left out by the other's write after its check`,
    );
  });
});
