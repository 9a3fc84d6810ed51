import { describe, expect, it } from "vitest";
import { CHECK_IDS, type CheckId } from "../check.js";
import { CHECKS } from "../diagnose.js";
import { factDeclarations } from "../facts.js";
import {
  type CheckDeclaration,
  defineCheck,
  defineFact,
  dependencyOrder,
  type Environment,
  missing,
  runDeclarations,
} from "./check-model.js";
import { pass } from "./outcome.js";

const given = {
  keys: undefined,
  keysUnavailable: undefined,
  aws: true,
  kube: undefined,
  account: undefined,
  role: undefined,
  audience: undefined,
  smokeTest: false,
  signingKey: undefined,
};

const env: Omit<Environment, "outcomeOf"> = {
  issuer: "https://issuer.example",
  now: new Date("2026-01-01T00:00:00Z"),
  expectedRoleArn: undefined,
  fetchOptions: { timeoutMs: 1 },
  iam: () => Promise.reject(new Error("no IAM here")),
  sts: () => Promise.reject(new Error("no STS here")),
  cloudFront: () => Promise.reject(new Error("no CloudFront here")),
  s3: () => Promise.reject(new Error("no S3 here")),
};

describe("the doctor's declarations", () => {
  it("declare every check once, in the order diagnose() reports them", () => {
    expect(CHECKS.map((check) => check.id)).toEqual([...CHECK_IDS]);
  });

  it("name only facts something provides, once, with no cycle", () => {
    expect(() => dependencyOrder(CHECKS, factDeclarations(given))).not.toThrow();
  });
});

describe("dependencyOrder", () => {
  const check = (id: CheckId, needs: string[], provides: string[] = []) =>
    ({
      id,
      needs,
      provides: Object.fromEntries(provides.map((fact) => [fact, { reason: fact, code: "SKIP" }])),
      run: () => pass("ok"),
    }) as unknown as CheckDeclaration;

  it.each([
    ["a fact nothing provides", [check("pods", ["jwks"])], /nothing provides jwks, which pods needs/],
    [
      "a fact provided twice",
      [check("jwks-keys", [], ["jwks"]), check("pods", [], ["jwks"])],
      /jwks is provided twice/,
    ],
    [
      "a cycle",
      [check("jwks-keys", ["role"], ["jwks"]), check("pods", ["jwks"], ["role"])],
      /a cycle: jwks-keys -> pods -> jwks-keys/,
    ],
  ])("refuses %s", (_name, checks, message) => {
    expect(() => dependencyOrder(checks, [])).toThrow(message);
  });
});

describe("runDeclarations", () => {
  it("skips everything downstream of a missing fact with the root reason and code, and runs the rest", async () => {
    const ran: string[] = [];
    const checks = [
      defineCheck({
        id: "jwks-keys",
        needs: ["aws"],
        provides: { jwks: { reason: "the JWKS could not be read", code: "SKIP_NO_JWKS" } },
        run: () => {
          ran.push("jwks-keys");
          return pass("ok");
        },
      }),
      defineCheck({
        id: "jwks-empty-kid",
        needs: ["jwks"],
        run: () => {
          ran.push("jwks-empty-kid");
          return pass("ok");
        },
      }),
      defineCheck({
        id: "pods",
        needs: ["audience"],
        run: ({ audience }) => {
          ran.push("pods");
          return pass(audience);
        },
      }),
    ];
    const facts = [
      defineFact({ fact: "aws", needs: [], produce: () => missing("AWS checks are off", "SKIP_AWS_OFF") }),
      defineFact({ fact: "audience", needs: [], produce: () => "sts.amazonaws.com" }),
    ];
    const outcomes = await runDeclarations(checks, facts, env);
    expect(ran).toEqual(["pods"]);
    expect(outcomes.get("jwks-keys")).toMatchObject({ status: "skip", reason: "AWS checks are off" });
    expect(outcomes.get("jwks-empty-kid")).toMatchObject({ status: "skip", reason: "AWS checks are off" });
    expect(outcomes.get("pods")).toMatchObject({ status: "pass", reason: "sts.amazonaws.com" });
  });

  it("gives a fact a check ran for but did not learn the reason the check declared", async () => {
    const checks = [
      defineCheck({
        id: "jwks-keys",
        needs: [],
        provides: { jwks: { reason: "the JWKS could not be read", code: "SKIP_NO_JWKS" } },
        run: () => pass("learned nothing"),
      }),
      defineCheck({ id: "jwks-empty-kid", needs: ["jwks"], run: () => pass("ok") }),
    ];
    const outcomes = await runDeclarations(checks, [], env);
    expect(outcomes.get("jwks-empty-kid")).toMatchObject({
      status: "skip",
      reason: "the JWKS could not be read",
    });
  });

  it("fails, rather than skips, a check whose need the user asked for but could not be read", async () => {
    const checks = [
      defineCheck({ id: "cluster-key-published", needs: ["keys"], run: () => pass("ok") }),
      defineCheck({ id: "retired-keys", needs: ["keys"], informational: true, run: () => pass("ok") }),
    ];
    const facts = [
      defineFact({
        fact: "keys",
        needs: [],
        produce: () => missing("the cluster is down", "COULD_NOT_CHECK_KEYS", { fix: "start it" }),
      }),
    ];
    const outcomes = await runDeclarations(checks, facts, env);
    expect(outcomes.get("cluster-key-published")).toMatchObject({ status: "fail", fix: "start it" });
    expect(outcomes.get("retired-keys")).toMatchObject({ status: "warn", fix: "start it" });
  });
});
